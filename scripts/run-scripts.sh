#!/usr/bin/env bash
# Run test scripts that print "N passed, N failed" last; sum them up.
set -u
tp=0; tf=0; bad=()
for s in "$@"; do
  t0=$(date +%s%3N)
  out=$(bash "$s" 2>&1); rc=$?
  echo "$out"
  line=$(echo "$out" | grep -oE '[0-9]+ passed, [0-9]+ failed' | tail -1)
  p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
  tp=$((tp + ${p:-0})); tf=$((tf + ${f:-0}))
  if [ $rc -ne 0 ] || [ -z "$line" ]; then bad+=("$s"); [ "${f:-0}" -gt 0 ] || tf=$((tf + 1)); fi
  echo "== $(basename "$s"): rc $rc, $(( $(date +%s%3N) - t0 )) ms"
done
[ ${#bad[@]} -eq 0 ] || printf 'FAILED: %s\n' "${bad[@]}"
echo "$tp passed, $tf failed"
[ ${#bad[@]} -eq 0 ]

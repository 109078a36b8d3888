#!/usr/bin/env bash
# Run the integration tests (tests/integration/t_*.sh, or the ones named
# on the command line, e.g. "faults" for t_faults.sh) and total their
# PASS/FAIL lines.  Exit status 1 if anything failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$(cd "$here/../.." && pwd)/$BUILD ;; esac

for bin in arraysimd arrayctl; do
	if [ ! -x "$BUILD/bin/$bin" ]; then
		echo "integration: $BUILD/bin/$bin is missing (make check-integration builds it)" >&2
		exit 2
	fi
done

tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do tests+=("$here/t_$t.sh"); done
else
	tests=("$here"/t_*.sh)
fi

passed=0 failed=0 start=$(date +%s)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "${tests[@]}"; do
	echo "== $(basename "$t")"
	t0=$(date +%s%3N)
	rc=0
	bash "$t" 2>&1 | tee "$out" || rc=$?
	p=$(grep -c '^PASS' "$out" || true)
	f=$(grep -c '^FAIL' "$out" || true)
	# a script that died before its summary line failed, whatever it printed
	if ! grep -q "^# $(basename "$t"): " "$out"; then
		echo "FAIL: $(basename "$t") stopped early (exit status $rc)"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $(basename "$t") exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "== $(basename "$t"): $p passed, $f failed, $(($(date +%s%3N) - t0)) ms"
done
echo "integration: $passed passed, $failed failed ($(($(date +%s) - start)) s)"
[ "$failed" -eq 0 ]

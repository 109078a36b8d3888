#!/usr/bin/env bash
# shellcheck disable=SC2119 # start_daemon takes optional extra daemon options
# Two clients at once: two arrayctl loops create distinct LUNs (and a
# third lists meanwhile); every create succeeds and all LUNs are there.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

start_daemon
N=30
creator() { # $1: prefix
	local i
	for i in $(seq 1 $N); do
		ctl lun create "$1$i" --size 100M >/dev/null 2>>"$WORK/errors.$1" || echo "$1$i" >>"$WORK/failed"
	done
}
lister() {
	while [ ! -e "$WORK/done" ]; do
		ctl lun list >/dev/null 2>>"$WORK/errors.list" || echo list >>"$WORK/failed"
	done
}
: >"$WORK/failed"
t0=$(now_ms)
lister &
BG_PIDS+=($!)
lpid=$!
creator ca &
BG_PIDS+=($!)
apid=$!
creator cb &
BG_PIDS+=($!)
bpid=$!
wait "$apid" "$bpid"
touch "$WORK/done"
wait "$lpid"
echo "# $((2 * N)) creates from two clients in $(($(now_ms) - t0)) ms"
is "no create or list failed" "$(cat "$WORK/failed" "$WORK"/errors.* | tr '\n' ' ')" ""
names=$(ctl lun list | tail -n +2 | awk '{ print $1 }' || true)
is "all $((2 * N)) LUNs are present" "$(echo "$names" | grep -c '^c[ab][0-9]*$')" $((2 * N))
missing=""
for p in ca cb; do
	for i in $(seq 1 $N); do
		grep -qx "$p$i" <<<"$names" || missing="$missing $p$i"
	done
done
is "none missing" "$missing" ""
dups=$(echo "$names" | sort | uniq -d | tr '\n' ' ' || true)
is "no LUN listed twice" "$dups" ""
if [ -n "$missing$dups" ]; then
	ctl lun list >"$WORK/list.txt"
	for m in $missing; do
		echo "# lun show $m: $(ctl lun show "$m" 2>&1 | head -3 | tr '\n' ' ')"
	done
	echo "# lun list: $(wc -l <"$WORK/list.txt") lines; $(grep -c . "$WORK/daemon.log") daemon log lines"
fi
is "status agrees: $((2 * N)) LUNs" "$(ctl status | awk '$1 == "LUNs:" { print $2 }')" $((2 * N))

# two clients racing for the same names: exactly one wins each
: >"$WORK/race"
racer() {
	local i
	for i in $(seq 1 10); do
		if ctl lun create "race$i" --size 1G >/dev/null 2>&1; then echo "race$i" >>"$WORK/race"; fi
	done
}
racer &
BG_PIDS+=($!)
r1=$!
racer &
BG_PIDS+=($!)
r2=$!
wait "$r1" "$r2"
is "same-name race: each of 10 names created exactly once" \
	"$(sort "$WORK/race" | uniq | wc -l)/$(wc -l <"$WORK/race")" "10/10"
finish

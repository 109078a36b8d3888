#!/usr/bin/env bash
# shellcheck disable=SC2119 # start_daemon takes optional extra daemon options
# Durability: a clean restart (SIGTERM) keeps every object as it was, and
# a kill -9 in the middle of a stream of creates/maps/snapshots loses
# nothing the client was told had succeeded; the pool checks clean.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

pool_check() { # $1: when
	if [ -x "$CHECKER" ]; then
		ok "arraysim-check on pool.img $1" "$CHECKER" -q "$DATA/pool.img"
	else
		echo "note: $CHECKER not built; pool check after $1 skipped"
	fi
}

# Everything but LUN_STATE: offline is fault-injection runtime state.
snapshot_state() {
	{
		ctl --json lun list
		ctl --json host list
		ctl --json map list
		ctl --json snapshot list
	} | grep -v '"state":' >"$1"
}

start_daemon
ok "setup: lun create r1 r2 r3" bash -c "$(declare -f ctl); ARRAYCTL=$ARRAYCTL DATA=$DATA; \
	ctl lun create r1 --size 1G && ctl lun create r2 --size 2G --block-size 4096 && \
	ctl lun create r3 --size 3G"
ok "setup: host rh with two IQNs and CHAP" bash -c "$(declare -f ctl); ARRAYCTL=$ARRAYCTL DATA=$DATA; \
	ctl host create rh --iqn iqn.2026-11.org.test:rh && \
	ctl host add-iqn rh iqn.2026-11.org.test:rh2 && \
	ctl host set-chap rh --user rhu --secret rh-secret-123"
ok "setup: maps" bash -c "$(declare -f ctl); ARRAYCTL=$ARRAYCTL DATA=$DATA; \
	ctl map r1 rh && ctl map r2 rh --lun 9"
ok "setup: snapshot set over r1 r2 and a clone" bash -c "$(declare -f ctl); ARRAYCTL=$ARRAYCTL DATA=$DATA; \
	ctl snapshot create r1 r2 --name rs && ctl clone rs-r1 rc1"
ok "setup: r3 offline" ctl fault lun-offline r3
snapshot_state "$WORK/before"
if stop_daemon; then pass "SIGTERM: clean exit"; else fail "SIGTERM: exit status"; fi
pool_check "SIGTERM"
start_daemon
snapshot_state "$WORK/after"
if diff -u "$WORK/before" "$WORK/after" >"$WORK/state.diff"; then
	pass "after restart: LUNs, hosts, maps, snapshots are all as before (ids, times, CHAP users)"
else
	fail "after restart: state differs: $(head -c 2000 "$WORK/state.diff")"
fi
is "r3's offline state after the restart (runtime state: online again)" \
	"$(ctl lun show r3 | awk '$1 == "State:" { print $2 }')" online

# ---- kill -9 while a client creates, maps and snapshots
seen=$WORK/seen
: >"$seen"
ctl fault lun-online r3 >/dev/null || true
ok "setup: host kh" ctl host create kh --iqn iqn.2026-11.org.test:kh
workload() { # $1: name prefix
	local i p=$1
	for i in $(seq 1 400); do
		ctl --retries 1 lun create "$p$i" --size 64M >/dev/null 2>&1 || return 0
		echo "lun $p$i" >>"$seen"
		ctl --retries 1 map "$p$i" kh >/dev/null 2>&1 || return 0
		echo "map $p$i" >>"$seen"
		if [ $((i % 3)) -eq 0 ]; then
			ctl --retries 1 snapshot create "$p$i" "$p$((i - 1))" --name "${p}s$i" >/dev/null 2>&1 ||
				return 0
			echo "snap ${p}s$i-$p$i" >>"$seen"
			echo "snap ${p}s$i-$p$((i - 1))" >>"$seen"
		fi
	done
}
for round in 1 2; do
	before=$(wc -l <"$seen")
	workload "k${round}x" &
	BG_PIDS+=($!)
	wpid=$!
	# kill once the client has seen some progress (a different amount
	# each round), or after 4 s whatever happened
	want=$((before + 6 + round * 9 + RANDOM % 5))
	for _ in $(seq 160); do
		[ "$(wc -l <"$seen")" -ge "$want" ] && break
		sleep 0.025
	done
	kill9_daemon
	wait "$wpid" || true
	got=$(($(wc -l <"$seen") - before))
	if [ "$got" -gt 0 ]; then
		pass "round $round: kill -9 after $got acknowledged operations"
	else
		fail "round $round: the workload made no progress before the kill"
	fi
	pool_check "kill -9 (round $round)"
	start_daemon
	ctl lun list | tail -n +2 | awk '{ print "lun " $1 }' >"$WORK/have"
	ctl map list | tail -n +2 | awk '$2 == "kh" { print "map " $1 }' >>"$WORK/have"
	ctl snapshot list | tail -n +2 | awk '{ print "snap " $1 }' >>"$WORK/have"
	missing=$(sort "$seen" | comm -23 - <(sort "$WORK/have") | tr '\n' ' ')
	is "round $round: every acknowledged object survived kill -9 ($(wc -l <"$seen") so far)" \
		"$missing" ""
done
ok "the array still works after the kills" ctl lun create after-kill --size 1G
finish

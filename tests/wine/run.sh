#!/usr/bin/env bash
# make check-provider: the VSS hardware provider under Wine against a live
# arraysimd.  tests/wine/vsscoord.exe plays the VSS coordinator (it is
# the one that knows VSS's call order and rules, see its comments); this
# script is the Linux host around it: the array, the iSCSI initiators
# (build/itest/lunid), a writer, and the checks of the array's state and
# of point-in-time content.  Builds nothing (make does).
#
# Scenarios: 1 creation (two LUNs, writes going on), 2 transportable set
# imported on a second host, 3 deletion, 6 resync, 4 abort, 5 slow commit,
# 7 a 64-LUN set, 8 memory (IMallocSpy counts of every harness process).
# Every check prints "ok - ..." or "FAIL - ..."; exit 1 if any failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
mkdir -p "$BUILD/tmp"
export TMPDIR=$ROOT/$BUILD/tmp # lib.sh's WORK (data dir, logs) lives under build/
. tests/integration/lib.sh
. tests/wine/runner.sh

T0=$(now_ms)
LUNID=$BUILD/itest/lunid
TIQN=iqn.2026-11.org.arraysim:array
IQA=iqn.2026-11.org.arraysim:wine-host-a # the host the provider runs on
IQA_W=$IQA-writer                        # same host, the application's writes
IQA_T=$IQA-tools                         # same host, reads for the checks
IQB=iqn.2026-11.org.arraysim:wine-host-b # the host a transportable set goes to
IQB_T=$IQB-tools
WRITER_PID=
PROBE_PID=

# ---- checks print ok/FAIL like the harness ----
pass() {
	echo "ok - $*"
	N_PASS=$((N_PASS + 1))
}
fail() {
	echo "FAIL - $*"
	N_FAIL=$((N_FAIL + 1))
}


wine_cleanup() {
	local rc=$?
	[ -n "$WRITER_PID" ] && kill -KILL "$WRITER_PID" 2>/dev/null
	[ -n "$PROBE_PID" ] && kill -KILL "$PROBE_PID" 2>/dev/null
	exec 7>&- 2>/dev/null
	wineserver -k 2>/dev/null
	if [ "$N_FAIL" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo "# ---- daemon log (last 40 lines) ----"
		tail -40 "$WORK/daemon.log" 2>/dev/null
		echo "# ---- hooks run for the harness (last 40 lines) ----"
		tail -40 "$WORK/hooks.err" 2>/dev/null
		echo "# ---- wine stderr (last 20 lines) ----"
		tail -20 "$WORK/wine.err" 2>/dev/null
	fi
	cleanup
}
trap wine_cleanup EXIT

# ---- host side: identities, content, writer, live session ----

# LUN number of LUN $1 as mapped to host $2
lun_no() {
	ctl --json map list | jq -r --arg l "$1" --arg h "$2" \
		'.[] | select(.lun == $l and .host == $h) | .lun_number'
}

# VSS_HOOK_IDENTIFY: INQUIRY/VPD of the named LUNs as host ha sees them
h_identify() {
	local maps args=() n l
	maps=$(ctl --json map list) || return 1
	for l in "$@"; do
		n=$(jq -r --arg l "$l" '.[] | select(.lun == $l and .host == "ha") | .lun_number' <<<"$maps")
		[ -n "$n" ] || return 1
		args+=("$n:$l")
	done
	"$LUNID" ident "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_T" "${args[@]}"
}

# "name sum" of each named LUN (host $1's view, tools initiator $2)
sums_of() {
	local host=$1 iqn=$2 l n
	shift 2
	for l in "$@"; do
		n=$(lun_no "$l" "$host")
		[ -n "$n" ] || return 1
		echo "$l $("$LUNID" sum "127.0.0.1:$ISCSI_PORT" "$TIQN" "$iqn" "$n" | awk '{print $3}')"
	done
}

writer_start() { # LUN numbers on host ha
	rm -rf "$WORK/wr" && mkdir -p "$WORK/wr"
	"$LUNID" writer "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_W" "$WORK/wr" "$@" \
		>"$WORK/writer.out" 2>&1 &
	WRITER_PID=$!
	for _ in $(seq 200); do
		[ -e "$WORK/wr/started" ] && return 0
		sleep 0.05
	done
	return 1
}
writer_pause() {
	touch "$WORK/wr/pause"
	for _ in $(seq 400); do
		[ -e "$WORK/wr/paused" ] && return 0
		sleep 0.005
	done
	return 1
}
writer_resume() { rm -f "$WORK/wr/pause"; }
writer_stop() {
	touch "$WORK/wr/stop"
	wait "$WRITER_PID"
	local rc=$?
	WRITER_PID=
	return $rc
}

# VSS_HOOK_FREEZE / THAW for scenario 1: the application's writes stop
# (flush-and-hold) around PreCommit..PostCommit; the originals' content
# at that moment is what the snapshots must hold.
h_freeze() {
	writer_pause && sums_of ha "$IQA_T" a1 a2 >"$WORK/freeze.sums"
}
h_thaw() { writer_resume; }

# A session of initiator $1 held open at LUN $2 before LocateLuns; the
# import hook then reads, on that same session, what arrived.
probe_start() {
	rm -f "$WORK/probe.in" "$WORK/probe.out"
	mkfifo "$WORK/probe.in"
	"$LUNID" watch "127.0.0.1:$ISCSI_PORT" "$TIQN" "$1" "$2" <"$WORK/probe.in" \
		>"$WORK/probe.out" 2>&1 &
	PROBE_PID=$!
	exec 7>"$WORK/probe.in"
	for _ in $(seq 200); do
		grep -q '^READY' "$WORK/probe.out" && return 0
		sleep 0.05
	done
	return 1
}
# VSS_HOOK_IMPORT (args: snapshot serials, unused: the session finds them)
h_import() {
	echo go >&7
	exec 7>&-
	for _ in $(seq 400); do
		grep -q '^DONE' "$WORK/probe.out" && break
		sleep 0.05
	done
	wait "$PROBE_PID"
	PROBE_PID=
	sed -n '/^READY/,$p' "$WORK/probe.out" | grep -v '^READY'
	grep -q '^DONE' "$WORK/probe.out"
}

# VSS_HOOK_RESYNC_VERIFY: the originals hold what they held at the freeze
h_resync_verify() {
	sums_of ha "$IQA_T" "$@" >"$WORK/resync.sums" || return 1
	diff <(sort "$WORK/freeze.sums") <(sort "$WORK/resync.sums")
}

# ---- array queries the harness asks for ----
h_ctl() { ctl "$@"; }
h_set_count() { # snapshots of set $1 on the array
	ctl --json snapshot list | jq --arg s "$1" '[.[] | select(.snapset_id == $s)] | length'
}
h_set_aborted() { # the audit log shows the set aborted on the array
	ctl audit | grep -q "snapset-abort .*OK .*snapset abort ${1//-/}"
}
h_daemon_stop() { stop_daemon; }
h_daemon_start() { start_daemon; }

set_snaps() { # "name origin" of the snapshots of set $1
	ctl --json snapshot list | jq -r --arg s "$1" '.[] | select(.snapset_id == $s) | "\(.name) \(.origin)"'
}
pool_used() { ctl --json status | jq -r .used; }

# ---- setup ----
NPORTALS=1 start_daemon || exit 1
ctl host create ha --iqn "$IQA" >/dev/null
ctl host add-iqn ha "$IQA_W" >/dev/null
ctl host add-iqn ha "$IQA_T" >/dev/null
ctl host create hb --iqn "$IQB" >/dev/null
ctl host add-iqn hb "$IQB_T" >/dev/null
for l in a1 a2; do
	ctl lun create $l --size 16M >/dev/null
done
ctl lun create bdummy --size 1M >/dev/null
ctl map a1 ha --lun 0 >/dev/null
ctl map a2 ha --lun 1 >/dev/null
ctl map bdummy hb --lun 0 >/dev/null
"$LUNID" fill "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_T" 0 11 &&
	"$LUNID" fill "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_T" 1 12 ||
	fail "fill a1/a2 with data"

wine_provider_setup "$IQA" --commit-timeout 1000
echo "# setup done in $(($(now_ms) - T0)) ms"

export VSS_HOOK_IDENTIFY=h_identify

# ---- 1. creation of a two-LUN set while an application writes ----
echo "# scenario 1: two-LUN set, full call order, LocateLuns to this host"
writer_start 0 1 || fail "writer started"
probe_start "$IQA" 0 || fail "open session of $IQA before LocateLuns"
VSS_HOOK_FREEZE=h_freeze VSS_HOOK_THAW=h_thaw VSS_HOOK_IMPORT=h_import \
	wine_harness guest --iqn "$IQA" --negative --save "$WORK/set1.txt" a1 a2
SET1=$H_SET
sleep 0.5 # the application goes on writing after the thaw
writer_stop || fail "writer ran without I/O errors"
is "writer kept writing" "$(awk '$1=="WRITES" && $2>0 {print "yes"}' "$WORK/writer.out")" yes
is "unit attention 3F/0E on the session that was open before LocateLuns" \
	"$(grep -c '^UA 3f/0e' "$WORK/probe.out")" 1
is "the array has two snapshots in set $SET1" "$(set_snaps "$SET1" | wc -l)" 2
sums_of ha "$IQA_T" a1 a2 >"$WORK/after.sums"
n_same=$(join <(sort "$WORK/freeze.sums") <(sort "$WORK/after.sums") | awk '$2 == $3' | wc -l)
is "originals changed after the commit (writes went on)" "$n_same" 0
while read -r snap origin; do
	is "snapshot $snap mapped to host ha by LocateLuns" "$(lun_no "$snap" ha | grep -c .)" 1
	want=$(awk -v o="$origin" '$1 == o {print $2}' "$WORK/freeze.sums")
	got=$(sums_of ha "$IQA_T" "$snap" | awk '{print $2}')
	is "snapshot $snap holds $origin as of the commit" "$got" "$want"
done < <(set_snaps "$SET1")

# ---- 2. transportable set, imported on a second host ----
echo "# scenario 2: transportable set, LocateLuns to a second host in a new process"
# new content first, so that set 2 owns blocks of its own (scenario 3)
"$LUNID" fill "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_T" 0 21 &&
	"$LUNID" fill "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_T" 1 22 || fail "refill a1/a2"
wine_harness guest --context 0x20 --no-locate --save "$WORK/set2.txt" a1 a2
SET2=$H_SET
n_mapped=0
for s in $(set_snaps "$SET2" | awk '{print $1}'); do
	n_mapped=$((n_mapped + $(ctl --json map list | jq --arg l "$s" '[.[] | select(.lun == $l)] | length')))
done
is "transportable set: no snapshot mapped before the import" "$n_mapped" 0
probe_start "$IQB" 0 || fail "open session of $IQB before LocateLuns"
VSS_HOOK_IMPORT=h_import wine_harness import --load "$WORK/set2.txt" --iqn "$IQB"
is "unit attention on host hb's open session" "$(grep -c '^UA 3f/0e' "$WORK/probe.out")" 1
while read -r snap origin; do
	is "snapshot $snap mapped to host hb" "$(lun_no "$snap" hb | grep -c .)" 1
	is "snapshot $snap not mapped to host ha" "$(lun_no "$snap" ha | grep -c .)" 0
	got=$(sums_of hb "$IQB_T" "$snap" | awk '{print $2}')
	want=$(sums_of ha "$IQA_T" "$origin" | awk '{print $2}')
	is "host hb reads $snap = $origin at its commit" "$got" "$want"
done < <(set_snaps "$SET2")

# ---- 3. deletion ----
echo "# scenario 3: FillInLunInfo + OnLunEmpty"
"$LUNID" fill "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_T" 0 31 &&
	"$LUNID" fill "127.0.0.1:$ISCSI_PORT" "$TIQN" "$IQA_T" 1 32 || fail "refill a1/a2"
mapfile -t SNAPS2 < <(set_snaps "$SET2" | awk '{print $1}')
used0=$(pool_used)
snaps0=$(ctl --json status | jq .snap_count)
wine_harness delete --load "$WORK/set2.txt"
used1=$(pool_used)
is "OnLunEmpty: set 2 has no snapshot left" "$(set_snaps "$SET2" | wc -l)" 0
is "OnLunEmpty: snap_count went down by 2" "$(ctl --json status | jq .snap_count)" $((snaps0 - 2))
for s in "${SNAPS2[@]}"; do
	is "OnLunEmpty: $s is mapped nowhere" \
		"$(ctl --json map list | jq --arg l "$s" '[.[] | select(.lun == $l)] | length')" 0
done
# set 2 owned its 2 x 16 MiB exclusively (originals rewritten since)
if [ $((used0 - used1)) -ge $((30 * 1024 * 1024)) ]; then
	pass "pool space freed: used $used0 -> $used1"
else
	fail "pool space freed: used $used0 -> $used1 (want >= 30 MiB less)"
fi

# ---- 6. resync ----
echo "# scenario 6: ResyncLuns(set 1 snapshots -> originals)"
VSS_HOOK_RESYNC_VERIFY=h_resync_verify wine_harness resync --load "$WORK/set1.txt"
if diff -q <(sort "$WORK/freeze.sums") <(sort "$WORK/resync.sums") >/dev/null 2>&1; then
	pass "resynced originals equal the snapshots' content (checksums)"
else
	fail "resynced originals equal the snapshots' content (checksums)"
fi

# ---- 4. abort ----
echo "# scenario 4: AbortSnapshots, implicit abort, array unreachable"
wine_harness abort a1 a2
is "array back after the unreachable test" "$(ctl --json status | jq -r .state)" ok

# ---- 5. slow commit ----
echo "# scenario 5: SNAPSET_COMMIT delayed past CommitTimeoutMs (1000)"
wine_harness slowcommit --commit-limit-ms 1000 a1 a2
is "no fault left armed" "$(ctl --json fault list | jq length)" 0

# ---- 7. 64-LUN set ----
echo "# scenario 7: a 64-LUN set"
BIG=()
for i in $(seq 0 63); do
	n=$(printf 'b%02d' "$i")
	BIG+=("$n")
	ctl lun create "$n" --size 1M >/dev/null && ctl map "$n" ha --lun $((10 + i)) >/dev/null ||
		fail "create and map $n"
done
wine_harness guest --no-locate --delete --max-commit-ms 100 "${BIG[@]}"
SET7=$H_SET
is "64-LUN set deleted by OnLunEmpty" "$(set_snaps "$SET7" | wc -l)" 0
for n in "${BIG[@]}"; do
	ctl unmap "$n" ha >/dev/null && ctl lun delete "$n" >/dev/null || fail "clean up $n"
done

# ---- 8. memory ----
echo "# scenario 8: CoTaskMem accounting over every harness process"
read -r allocs frees leaked < <(sed -e 's/[a-z]*=//g' "$WORK/mem" |
	awk '{a += $3; f += $4; l += $5 - $6} END {print a + 0, f + 0, l + 0}')
echo "# CoTaskMem over all scenarios: $allocs blocks allocated, $frees freed, $leaked leaked"
is "every CoTaskMemAlloc'd block freed, outstanding back to baseline ($(wc -l <"$WORK/mem") processes)" \
	"$leaked" 0

echo "# check-provider ran in $(($(now_ms) - T0)) ms"
finish

#!/usr/bin/env bash
# make demo: a hardware shadow copy of a guest's LUN, end to end, on one box.
#
#   arraysimd on an embedded default pool (build/demo/array)
#   -> a LUN and a host object for the guest
#   -> the Linux test guest boots in QEMU, logs in with its own kernel
#      initiator (iscsistart, through restricted user networking), makes
#      ext4 and writes files with a SHA-256 manifest
#   -> the real provider DLL under Wine, driven by the VSS-coordinator
#      harness: prepare, freeze (guest fsfreeze), commit, thaw, import
#      (LocateLuns, the guest rescans and mounts the shadow copy read-only
#      and verifies it), resync (revert the original, verified), delete
#   -> a timeline of each VSS phase, the array operation behind it and its
#      latency, then the verification result.
#
# KEEP=1 leaves the array running (with the LUN) and prints how to use it.
# make demo builds first (make all provider guest-image); this script
# builds nothing.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
T_START=$(date +%s%3N)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DEMO=$BUILD/demo
OLD_PID=$DEMO/array/arraysimd.pid
if [ -f "$OLD_PID" ] && kill -0 "$(cat "$OLD_PID")" 2>/dev/null; then
	echo "demo: stopping the array an earlier KEEP=1 demo left running"
	kill -TERM "$(cat "$OLD_PID")" 2>/dev/null
	sleep 1
fi
rm -rf "$DEMO"
mkdir -p "$DEMO/tmp"
export TMPDIR=$DEMO/tmp

. tests/integration/lib.sh # WORK (under $DEMO/tmp), ctl, now_ms, pass/fail
DATA=$DEMO/array           # the demo's pool, key and config live here
. tests/vm/lib.sh
. tests/wine/runner.sh
. tests/vm/vss.sh

KEEP=${KEEP:-0}
TIQN=iqn.2026-11.org.arraysim:array
GIQN=iqn.2026-11.org.arraysim:demo-guest
G_VM=guest
G_HOST=demo-guest
LUN=db

demo_exit() {
	local rc=$?
	wineserver -k 2>/dev/null || true
	if [ "$N_FAIL" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo
		echo "== something failed; details:"
		grep -h '^FAIL' "$WORK/harness.log" 2>/dev/null | sed 's/^/  /'
		echo "-- arraysimd log (last 20 lines)"
		tail -20 "$WORK/daemon.log" 2>/dev/null | sed 's/^/  /'
		vm_dump "$G_VM"
	fi
	if [ "$KEEP" = 1 ] && [ -n "$DAEMON_PID" ] && [ "$N_FAIL" -eq 0 ]; then
		DAEMON_PID= # cleanup() must not stop it
		IT_KEEP=1
	fi
	cleanup 2>/dev/null
}
trap demo_exit EXIT

step() { printf '\n[%s] %s\n' "$1" "$2"; }
say() { printf '      %s\n' "$*"; }
die() {
	fail "$*"
	exit 1
}

# ---- the array ------------------------------------------------------------
step array "arraysimd on an embedded default pool in ${DEMO#"$ROOT"/}/array"
# the usual ports when free (KEEP=1 users expect them), else free ones
PORT=3270
ISCSI_PORT=3260
if (: </dev/tcp/127.0.0.1/3270) 2>/dev/null || (: </dev/tcp/127.0.0.1/3260) 2>/dev/null; then
	PORT=$((20000 + ($$ % 10000)))
	ISCSI_PORT=$((PORT + 1))
fi
mkdir -p "$DATA"
setsid "$ARRAYSIMD" --data-dir "$DATA" --foreground --control-listen "127.0.0.1:$PORT" \
	--iscsi-listen "127.0.0.1:$ISCSI_PORT" --log-level warn >>"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
echo "$DAEMON_PID" >"$DATA/arraysimd.pid"
for _ in $(seq 200); do
	ctl --retries 1 version >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || die "arraysimd did not start"
	sleep 0.05
done
say "control 127.0.0.1:$PORT (key $DATA/control.key), iSCSI portal 127.0.0.1:$ISCSI_PORT"
say "pool: 64 GiB sparse file, $(ctl --json status | jq -r '"\(.capacity / 107374182.4 | floor / 10) GiB for data, \(.used) bytes used"')"

ctl lun create $LUN --size 256M >/dev/null || die "lun create"
ctl host create $G_HOST --iqn $GIQN >/dev/null || die "host create"
ctl map $LUN $G_HOST --lun 0 >/dev/null || die "map"
say "LUN '$LUN' (256 MiB, thin), host '$G_HOST' = $GIQN, mapped as LUN 0"

# ---- the guest --------------------------------------------------------------
step guest "boot the Linux test guest; it reaches the array only through guestfwd"
t0=$(now_ms)
VM_APPEND="arraysim.iqn=$GIQN" vm_start $G_VM \
	-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:3260-cmd:$FWD $ISCSI_PORT" \
	-device virtio-net-pci,netdev=n0
ms=$(vm_wait $G_VM) || die "guest boot"
say "booted to its command channel in $(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }') s ($VM_ACCEL)"
vm_run $G_VM 120 <<<"$(g_login_script "$GIQN" "$TIQN")" >"$WORK/login.out" 2>&1 ||
	die "guest login: $(tail -3 "$WORK/login.out")"
say "iscsistart logged in as $GIQN; LUN 0 is $(tail -1 "$WORK/login.out")"
vm_run $G_VM 180 <<<"$G_MKFILES" >"$WORK/mkfs.out" 2>&1 ||
	die "guest mkfs/write: $(tail -3 "$WORK/mkfs.out")"
say "ext4 on the LUN, $(grep -c ' dir/f' "$WORK/mkfs.out") files written, SHA-256 manifest kept in the guest"

# ---- the provider -----------------------------------------------------------
step provider "arraysim-vss.dll in a Wine prefix, as on the guest's Windows twin"
wine_provider_setup "$GIQN" >"$WORK/setup.log" || true
[ "$N_FAIL" -eq 0 ] || die "provider setup: $(cat "$WORK/setup.log")"
say "regsvr32 (COM), then arraysim-vss-reg config: array 127.0.0.1:$PORT, key (DPAPI), initiator $GIQN"

# ---- the shadow copy ----------------------------------------------------------
step VSS "hardware shadow copy: prepare, freeze, commit, thaw, import, verify, resync, delete"
rm -f "$WORK/timeline"
wine_harness guest --iqn "$GIQN" --resync --delete --max-commit-ms 100 $LUN >"$WORK/harness.log" 2>&1
n_ok=$(grep -c '^ok - ' "$WORK/harness.log")
n_bad=$(grep -c '^FAIL - ' "$WORK/harness.log")

what() { # the host-side step behind a hook phase
	case $1 in
	Freeze) echo "guest: fsfreeze -f (writers frozen)" ;;
	Thaw) echo "guest: fsfreeze -u, writes go on" ;;
	Rescan) echo "guest: UA, rescan, mount ro, verify" ;;
	ResyncVerify) echo "guest: remount original, verify" ;;
	*) echo "$2" ;;
	esac
}
printf '\n      %-26s %-36s %10s\n' "VSS phase" "array operation / host step" "latency"
printf '      %-26s %-36s %10s\n' "---------" "---------------------------" "-------"
COMMIT_MS=
while read -r _ phase op ms; do
	[ "$op" = "-" ] && op="(none: provider bookkeeping)"
	[ "$op" = "host-hook" ] && op=$(what "$phase")
	printf '      %-26s %-36s %7s ms\n' "$phase" "$op" "$ms"
	[ "$phase" = CommitSnapshots ] && COMMIT_MS=$ms
done <"$WORK/timeline"

# ---- result ---------------------------------------------------------------
step result "verification"
grep -h '^# import: \|^# resync' "$WORK/harness.log" | sed 's/^# import: //; s/^/      /'
grep -q '^ok - ResyncVerify hook' "$WORK/harness.log" &&
	say "original after resync: the frozen files, later writes gone (checked in the guest)"
snaps=$(ctl --json snapshot list | jq length)
say "provider checks: $n_ok passed, $n_bad failed; snapshots left on the array: $snaps"
if [ "$H_RC" -eq 0 ] && [ "$n_bad" -eq 0 ] && [ "$snaps" -eq 0 ] && [ -n "$COMMIT_MS" ]; then
	say "CommitSnapshots took $COMMIT_MS ms (VSS allows 10 s; the target is < 100 ms)"
	say "RESULT: PASS — the shadow copy held exactly the data at the freeze"
else
	fail "the shadow copy run (harness exit $H_RC, $n_bad failed checks)"
	say "RESULT: FAIL (the full harness log is $WORK/harness.log)"
fi

vm_stop $G_VM
T_END=$(date +%s%3N)
say "demo run time: $(((T_END - T_START) / 1000)) s"

if [ "$KEEP" = 1 ] && [ "$N_FAIL" -eq 0 ]; then
	ctl unmap $LUN $G_HOST >/dev/null
	cat <<EOF

== KEEP=1: the array is still running (pid $DAEMON_PID), with LUN '$LUN' on it.
   arrayctl:      $BUILD/bin/arrayctl --data-dir $DATA lun list
                  (or: status, host list, snapshot create $LUN, map ..., audit)
   iSCSI portal:  127.0.0.1:$ISCSI_PORT, target $TIQN
                  e.g. map the LUN to QEMU's initiator and read it:
                  arrayctl --data-dir $DATA host create qemu --iqn iqn.2008-11.org.linux-kvm
                  arrayctl --data-dir $DATA map $LUN qemu
                  qemu-img info iscsi://127.0.0.1:$ISCSI_PORT/$TIQN/0
   control key:   $DATA/control.key (what the provider's reg tool takes)
   stop it:       kill $DAEMON_PID   (SIGTERM commits the pool and exits)
EOF
else
	ctl unmap $LUN $G_HOST >/dev/null 2>&1
	ctl lun delete $LUN >/dev/null 2>&1
	ctl host delete $G_HOST >/dev/null 2>&1
	stop_daemon >/dev/null 2>&1
	say "cleaned up: guest stopped, LUN and host deleted, array stopped (KEEP=1 keeps it)"
fi
[ "$N_FAIL" -eq 0 ]

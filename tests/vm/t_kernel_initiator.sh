#!/usr/bin/env bash
# End-to-end test 2: the guest's kernel initiator, the way Windows uses the
# array, and a hardware shadow copy through the real provider.
#
# The guest reaches the array only through QEMU user networking with
# restrict=on and a guestfwd of 10.0.2.100:3260 to the portal on 127.0.0.1
# (tests/vm/fwd.c, one per connection).  It logs in with iscsistart under
# its own IQN (a host object on the array), makes ext4 and writes files
# with checksums.  Then the provider DLL runs under Wine, driven by the
# VSS-coordinator harness (tests/wine/vsscoord.exe, scenario "guest") with
# the guest as the Windows host (tests/vm/vss.sh has the hooks):
# AreLunsSupported (identities from the guest's own SCSI layer),
# BeginPrepare, EndPrepare, [guest fsfreeze -f], PreCommit, Commit,
# PostCommit, [guest thaws and keeps writing], GetTargetLuns, LocateLuns to
# the guest's IQN; the guest finds the snapshot LUN after the unit
# attention and a rescan without logging in again, its identity matches
# GetTargetLuns (FillInLunInfo), it holds exactly the frozen files; then
# ResyncLuns reverts the original and the guest verifies it; FillInLunInfo
# and OnLunEmpty delete the snapshot LUN.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/wine/runner.sh"
. "$ROOT/tests/vm/vss.sh"
trap 'wineserver -k 2>/dev/null || true; cleanup' EXIT

TIQN=iqn.2026-11.org.arraysim:array
GIQN=iqn.2026-11.org.arraysim:guest1
start_daemon
P=$ISCSI_PORT
ctl lun create k1 --size 128M >/dev/null
ctl host create guest1 --iqn $GIQN >/dev/null
ctl map k1 guest1 --lun 0 >/dev/null
G_VM=k
G_HOST=guest1

VM_APPEND="arraysim.iqn=$GIQN" vm_start k \
	-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:3260-cmd:$FWD $P" \
	-device virtio-net-pci,netdev=n0
if ms=$(vm_wait k); then pass "guest booted to its command loop ($ms ms, $VM_ACCEL)"; else
	fail "guest boot"
	vm_finish
	exit 1
fi

t0=$(now_ms)
vm_ok k "guest: iscsistart logs in as $GIQN through the guestfwd and LUN 0 appears" 120 \
	<<<"$(g_login_script "$GIQN" "$TIQN")" || true
echo "# login to LUN visible: $(($(now_ms) - t0)) ms"

vm_ok k "guest: mkfs.ext4 on the LUN, 8 files with checksums" 180 <<<"$G_MKFILES" || true
is "manifest has 8 files" "$(grep -c ' dir/f' "$WORK/last.out")" 8

# the provider in the Wine prefix, configured as the guest's host would
# configure it: this array, and the guest's initiator name
wine_provider_setup "$GIQN"
t0=$(now_ms)
wine_harness guest --iqn "$GIQN" --resync --delete --max-commit-ms 100 k1
echo "# shadow copy, import, resync and deletion through the provider: $(($(now_ms) - t0)) ms"
is "harness: the whole VSS sequence passed" "$H_RC" 0
grep -q '^@@TL CommitSnapshots SNAPSET_COMMIT' "$WORK/timeline" &&
	pass "timeline has the commit" || fail "timeline has the commit"
sed 's/^@@TL /# timeline: /' "$WORK/timeline"
is "array: OnLunEmpty deleted the snapshot LUN" "$(ctl --json snapshot list | jq length)" 0
is "array: only the original stays mapped to the guest" \
	"$(ctl --json map list | jq -r '[.[] | .lun] | join(",")')" k1
vm_stop k

ok "unmap the LUN" ctl unmap k1 guest1
ok "delete the LUN" ctl lun delete k1
ok "delete the host" ctl host delete guest1
vm_finish

# shellcheck shell=bash
# A hardware shadow copy of a guest's LUN through the real provider: the
# Linux guest plays the Windows host (its kernel initiator logged in under
# its own IQN, its filesystem frozen like VSS writers), the provider DLL
# runs under Wine driven by the VSS-coordinator harness (tests/wine), and
# these functions are the harness's host hooks (VSS_HOOK_*), run by the
# runner in this shell.  Used by tests/vm/t_kernel_initiator.sh and by
# scripts/demo.sh.
#
# Sourced after tests/integration/lib.sh, tests/vm/lib.sh and
# tests/wine/runner.sh.  Needs G_VM (the guest's name for vm_run) and
# G_HOST (the guest's host object on the array); the guest has the
# original LUN mounted on /mnt/d and its checksum manifest in
# /tmp/manifest (files under dir/).

G_MNT=/mnt/d

# guest shell functions: the block device of SCSI LUN $1, and the LUN
# whose unit serial (VPD 0x80) is $1
G_FUNCS='
lundev() { for b in /sys/class/scsi_device/*:*:*:$1/device/block/*; do [ -e "$b" ] && echo /dev/${b##*/} && return 0; done; return 1; }
hexf() { od -An -v -tx1 "$1" | tr -d " \n"; }
ident() { # LUN LABEL: what the storage stack read from the LUN
	d=$(ls -d /sys/class/scsi_device/*:*:*:$1/device | head -1)
	[ -r "$d/vpd_pg83" ] || return 1
	echo "LUN $1 LABEL $2 INQ $(hexf $d/inquiry) VPD80 $(hexf $d/vpd_pg80) VPD83 $(hexf $d/vpd_pg83)"
}
lun_of_serial() {
	for d in /sys/class/scsi_device/*; do
		[ -r $d/device/vpd_pg80 ] || continue
		if tail -c +5 $d/device/vpd_pg80 | grep -q "$1"; then echo ${d##*:}; return 0; fi
	done
	return 1
}
'

# g_login_script INITIATOR TARGET: the guest's login through the guestfwd
# portal with iscsistart under its own IQN; prints LUN 0's device.
# iscsistart exits once logged in and the kernel keeps the session.  No
# iscsid: the array sends no iSCSI Async Messages by default ([iscsi]
# async_events, docs/iscsi.md), and iscsid's adoption of the session
# would reconnect it once.
g_login_script() {
	cat <<SH
$G_FUNCS
grep -q "InitiatorName=$1" /etc/iscsi/initiatorname.iscsi
setsid iscsistart -i $1 -t $2 -g 1 -a 10.0.2.100 -p 3260 >/tmp/iscsistart.log 2>&1 &
for i in \$(seq 600); do lundev 0 >/dev/null && break; sleep 0.1; done
lundev 0 || { cat /tmp/iscsistart.log; dmesg | tail -20; exit 1; }
SH
}

# guest script: ext4 on LUN 0 mounted on G_MNT, files dir/f1..f8 and their
# SHA-256 manifest in /tmp/manifest (what g_import and g_resync_verify
# check); prints the manifest
G_MKFILES="set -e
$G_FUNCS
d=\$(lundev 0)
mkfs.ext4 -q -F \$d
mkdir -p $G_MNT
mount -t ext4 \$d $G_MNT
mkdir $G_MNT/dir
for i in 1 2 3 4 5 6 7 8; do
	dd if=/dev/urandom of=$G_MNT/dir/f\$i bs=4k count=\$((i * 29)) 2>/dev/null
done
(cd $G_MNT && sha256sum dir/*) >/tmp/manifest
cat /tmp/manifest"

# the SCSI LUN number LUN $1 has for host G_HOST
g_lun_number() {
	ctl --json map list | jq -r --arg l "$1" --arg h "$G_HOST" \
		'.[] | select(.lun == $l and .host == $h) | .lun_number'
}

# VSS_HOOK_IDENTIFY NAME...: the LUNs' INQUIRY and VPD 0x80/0x83 as the
# guest's SCSI layer read them (sysfs), the way Windows builds
# VDS_LUN_INFORMATION from its own disk stack
g_identify() {
	local l n script=$G_FUNCS
	for l in "$@"; do
		n=$(g_lun_number "$l")
		[ -n "$n" ] || return 1
		script+="ident $n $l || exit 1"$'\n'
	done
	vm_run "$G_VM" 60 <<<"$script"
}

# VSS_HOOK_FREEZE: the writers freeze (after EndPrepareSnapshots, before
# PreCommitSnapshots): fsfreeze flushes the filesystem and holds writes
# (util-linux's; busybox sh would run its own applet)
g_freeze() {
	vm_run "$G_VM" 60 <<<"/sbin/fsfreeze -f $G_MNT"
}

# VSS_HOOK_THAW (after PostCommitSnapshots): thaw; the application goes on
# writing, so the original moves away from the shadow copy
g_thaw() {
	vm_run "$G_VM" 60 <<SH
set -e
/sbin/fsfreeze -u $G_MNT
dd if=/dev/urandom of=$G_MNT/dir/f1 bs=4k count=8 conv=notrunc 2>/dev/null
echo after-thaw >$G_MNT/dir/f9
sync
SH
}

# VSS_HOOK_IMPORT SERIAL...: after LocateLuns mapped the snapshot LUNs to
# this host.  No new login: I/O on the session collects the REPORTED LUNS
# DATA HAS CHANGED attention, a rescan brings the LUNs (VSS rescans, the
# provider must not).  Prints their identities (FillInLunInfo input), then
# does what a backup application does with the imported shadow copy:
# mounts it read-only and checks it against the manifest.  Finally the
# original is dismounted, as VSS does before a resync.
g_import() {
	local s script=$G_FUNCS
	script+='
set -e
dd if=$(lundev 0) of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || true
dmesg | grep -q "LUN assignments on this target have changed" ||
	{ echo "the guest saw no unit attention 3F/0E (REPORTED LUNS DATA HAS CHANGED)"; exit 1; }
echo "unit attention 3F/0E seen: $(dmesg | grep "LUN assignments on this target have changed" | tail -1)"
for h in /sys/class/iscsi_host/host*; do echo "- - -" >/sys/class/scsi_host/${h##*/}/scan; done
n=$(ls -d /sys/class/iscsi_session/session* | wc -l)
[ "$n" = 1 ] || { echo "$n iSCSI sessions, want 1 (no new login)"; exit 1; }
'
	for s in "$@"; do
		script+="
for i in \$(seq 300); do lun_of_serial $s >/dev/null && break; sleep 0.1; done
l=\$(lun_of_serial $s) || { echo 'no LUN with serial $s arrived'; exit 1; }
for i in \$(seq 100); do lundev \$l >/dev/null && break; sleep 0.1; done
ident \$l shadow-\$l
mkdir -p /mnt/s\$l
mount -t ext4 -o ro,noload \$(lundev \$l) /mnt/s\$l
(cd /mnt/s\$l && sha256sum -c /tmp/manifest >/dev/null) || { echo 'shadow copy content differs from the manifest'; exit 1; }
[ \"\$(ls /mnt/s\$l/dir | tr '\n' ' ')\" = 'f1 f2 f3 f4 f5 f6 f7 f8 ' ] || { echo \"shadow copy has: \$(ls /mnt/s\$l/dir)\"; exit 1; }
echo \"shadow copy on LUN \$l: manifest verified (\$(wc -l </tmp/manifest) files)\"
umount /mnt/s\$l
"
	done
	script+="
[ \"\$(cat $G_MNT/dir/f9)\" = after-thaw ] || { echo 'the original lacks the writes after the thaw'; exit 1; }
umount $G_MNT
"
	vm_run "$G_VM" 180 <<<"$script"
}

# VSS_HOOK_RESYNC_VERIFY NAME...: after ResyncLuns reverted the original
# LUN, the guest re-reads it (caches dropped) and finds the frozen files
g_resync_verify() {
	vm_run "$G_VM" 120 <<SH
set -e
$G_FUNCS
d=\$(lundev 0)
blockdev --flushbufs \$d
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 \$d $G_MNT
cd $G_MNT
sha256sum -c /tmp/manifest >/dev/null
[ ! -e dir/f9 ] || { echo "f9 survived the resync"; exit 1; }
echo "original after resync: manifest verified (\$(wc -l </tmp/manifest) files), later writes gone"
cd /
umount $G_MNT
SH
}

export VSS_HOOK_IDENTIFY=g_identify VSS_HOOK_FREEZE=g_freeze VSS_HOOK_THAW=g_thaw
export VSS_HOOK_IMPORT=g_import VSS_HOOK_RESYNC_VERIFY=g_resync_verify

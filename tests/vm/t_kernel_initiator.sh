#!/usr/bin/env bash
# End-to-end test 2: the guest's kernel initiator, the way Windows uses the
# array.  The guest reaches the array only through QEMU user networking
# with restrict=on and a guestfwd of 10.0.2.100:3260 to the portal on
# 127.0.0.1 (tests/vm/fwd.c, one per connection).  It logs in with
# iscsistart under its own IQN (a host object on the array), makes ext4,
# writes files with checksums, freezes the filesystem and tells the host;
# the host takes the snapshot (host_snapshot), the guest thaws and keeps
# writing; the host maps the snapshot LUN to the guest's host
# (host_locate_luns); the guest finds it after the unit attention and a
# rescan, without logging in again, and it holds exactly the frozen files.
# Then the host reverts the original LUN to the snapshot (host_resync) and
# the guest verifies it.
#
# The three host_* functions are where the VSS-coordinator harness (the
# provider DLL under Wine) takes over; for now they call arrayctl.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

TIQN=iqn.2026-11.org.arraysim:array
GIQN=iqn.2026-11.org.arraysim:guest1
start_daemon
P=$ISCSI_PORT
ctl lun create k1 --size 128M >/dev/null
ctl host create guest1 --iqn $GIQN >/dev/null
ctl map k1 guest1 --lun 0 >/dev/null

# ---- the array operations the VSS harness will perform --------------------
# HARNESS: replace with the provider run under Wine up to CommitSnapshots.
host_snapshot() { # LUN SNAPNAME
	ctl snapshot create "$1" --name "$2" >/dev/null
}
# HARNESS: replace with LocateLuns (maps the snapshot LUN to the host).
host_locate_luns() { # SNAPNAME HOST LUN_NUMBER
	ctl map "$1" "$2" --lun "$3" >/dev/null
}
# HARNESS: replace with the resync run (ResyncLuns).
host_resync() { # LUN SNAPNAME
	ctl revert "$1" "$2" >/dev/null
}
# ---------------------------------------------------------------------------

VM_APPEND="arraysim.iqn=$GIQN" vm_start k \
	-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:3260-cmd:$FWD $P" \
	-device virtio-net-pci,netdev=n0
if ms=$(vm_wait k); then pass "guest booted to its command loop ($ms ms, $VM_ACCEL)"; else
	fail "guest boot"
	vm_finish
	exit 1
fi

# In the guest: the block device of SCSI LUN L of the (only) iSCSI session.
LUNDEV='lundev() { for b in /sys/class/scsi_device/*:*:*:$1/device/block/*; do [ -e "$b" ] && echo /dev/${b##*/} && return 0; done; return 1; }'

t0=$(now_ms)
vm_ok k "guest: iscsistart logs in as $GIQN through the guestfwd and LUN 0 appears" 120 <<SH || true
$LUNDEV
grep -q "InitiatorName=$GIQN" /etc/iscsi/initiatorname.iscsi
setsid iscsistart -i $GIQN -t $TIQN -g 1 -a 10.0.2.100 -p 3260 >/tmp/iscsistart.log 2>&1 &
for i in \$(seq 600); do lundev 0 >/dev/null && break; sleep 0.1; done
lundev 0 || { cat /tmp/iscsistart.log; dmesg | tail -20; exit 1; }
# iscsistart exits once logged in; iscsid adopts the session so that the
# kernel has someone to hand the target's Async Messages to and to
# recover the connection (without it the first Async Message fails the
# connection for good)
setsid iscsid -f >/tmp/iscsid.log 2>&1 &
for i in \$(seq 100); do iscsiadm -m session >/dev/null 2>&1 && break; sleep 0.1; done
iscsiadm -m session
SH
echo "# login to LUN visible: $(($(now_ms) - t0)) ms"

vm_ok k "guest: mkfs.ext4 on the LUN, 8 files with checksums, fsfreeze -f" 180 <<SH || true
set -e
$LUNDEV
d=\$(lundev 0)
mkfs.ext4 -q -F \$d
mkdir -p /mnt/d
mount -t ext4 \$d /mnt/d
mkdir /mnt/d/dir
for i in 1 2 3 4 5 6 7 8; do
	dd if=/dev/urandom of=/mnt/d/dir/f\$i bs=4k count=\$((i * 29)) 2>/dev/null
done
(cd /mnt/d && sha256sum dir/*) >/tmp/manifest
/sbin/fsfreeze -f /mnt/d # util-linux (busybox sh would run its own applet)
cat /tmp/manifest
SH
cp "$WORK/last.out" "$WORK/manifest"
is "manifest has 8 files" "$(grep -c ' dir/f' "$WORK/manifest")" 8

t0=$(now_ms)
ok "host: snapshot while the guest's filesystem is frozen" host_snapshot k1 k1-snap
echo "# snapshot (host_snapshot) took $(($(now_ms) - t0)) ms"

vm_ok k "guest: fsfreeze -u, then keeps writing (f1 overwritten, f9 added)" 120 <<'SH' || true
set -e
/sbin/fsfreeze -u /mnt/d
dd if=/dev/urandom of=/mnt/d/dir/f1 bs=4k count=8 conv=notrunc 2>/dev/null
echo after-thaw >/mnt/d/dir/f9
sync
SH

ok "host: snapshot LUN mapped to the guest's host as LUN 1" host_locate_luns k1-snap guest1 1
vm_ok k "guest: after the unit attention and a rescan (same session) LUN 1 appears" 120 <<SH || true
$LUNDEV
# any I/O to LUN 0 collects the REPORTED LUNS DATA HAS CHANGED attention
dd if=\$(lundev 0) of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
for h in /sys/class/iscsi_host/host*; do echo '- - -' >/sys/class/scsi_host/\${h##*/}/scan; done
for i in \$(seq 300); do lundev 1 >/dev/null && break; sleep 0.1; done
lundev 1 || { dmesg | tail -20; exit 1; }
n=\$(ls -d /sys/class/iscsi_session/session* | wc -l)
[ "\$n" = 1 ] || { echo "\$n iSCSI sessions, want 1"; exit 1; }
dmesg | grep -i 'reported luns data has changed' | tail -1
cat /tmp/iscsid.log
SH
grep -qi 'luns data has changed' "$WORK/last.out" &&
	pass "guest kernel logged the REPORTED LUNS DATA HAS CHANGED unit attention" ||
	echo "# (the guest kernel did not log the unit attention text)"
grep '^iscsid' "$WORK/last.out" | sed 's/^/# guest /' || true

vm_ok k "guest: the snapshot LUN (ro, noload) holds exactly the frozen files and checksums" 120 <<SH || true
set -e
$LUNDEV
mkdir -p /mnt/s
mount -t ext4 -o ro,noload \$(lundev 1) /mnt/s
cd /mnt/s
sha256sum -c /tmp/manifest
[ "\$(ls dir | tr '\n' ' ')" = "f1 f2 f3 f4 f5 f6 f7 f8 " ] || { echo "snapshot has: \$(ls dir)"; exit 1; }
cd /
umount /mnt/s
SH

vm_ok k "guest: the original LUN has the later writes; unmount it for the resync" 60 <<'SH' || true
set -e
[ "$(cat /mnt/d/dir/f9)" = after-thaw ]
umount /mnt/d
SH
t0=$(now_ms)
ok "host: resync (revert the original LUN to the snapshot)" host_resync k1 k1-snap
echo "# resync (host_resync) took $(($(now_ms) - t0)) ms"
vm_ok k "guest: after the resync the original LUN holds exactly the frozen files" 120 <<SH || true
set -e
$LUNDEV
d=\$(lundev 0)
blockdev --flushbufs \$d
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 \$d /mnt/d
cd /mnt/d
sha256sum -c /tmp/manifest
[ ! -e dir/f9 ] || { echo "f9 survived the resync"; exit 1; }
cd /
umount /mnt/d
SH
vm_stop k

ok "unmap the snapshot" ctl unmap k1-snap guest1
ok "unmap the LUN" ctl unmap k1 guest1
ok "delete the snapshot" ctl snapshot delete k1-snap
ok "delete the LUN" ctl lun delete k1
ok "delete the host" ctl host delete guest1
vm_finish

#!/usr/bin/env bash
# End-to-end test 1: QEMU's own initiator.  The guest's disk is a LUN that
# QEMU attaches through its libiscsi driver (-drive file=iscsi://...).  The
# guest makes ext4, writes files, records their SHA-256 and syncs; the test
# takes a snapshot; the guest then changes a file and adds another.  A
# second boot gets the snapshot LUN (through a throw-away QEMU overlay, so
# that ext4 can replay its journal without writing to the array) and the
# origin LUN: the snapshot holds exactly the files and checksums as of the
# snapshot, the origin the later changes.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

TIQN=iqn.2026-11.org.arraysim:array
QIQN=iqn.2008-11.org.linux-kvm # QEMU's default initiator name
start_daemon
P=$ISCSI_PORT
ctl lun create vm1 --size 128M >/dev/null
ctl host create qemu --iqn $QIQN >/dev/null
ctl map vm1 qemu --lun 0 >/dev/null
iscsi_drive() { # LUN [extra drive options]
	echo "file=iscsi://127.0.0.1:$P/$TIQN/$1,if=virtio,format=raw,cache=none${2:-}"
}

vm_start g1 -drive "$(iscsi_drive 0)"
if ms=$(vm_wait g1); then pass "guest booted to its command loop ($ms ms, $VM_ACCEL)"; else
	fail "guest boot"
	vm_finish
	exit 1
fi
vm_ok g1 "guest: mkfs.ext4 on the iSCSI disk and mount" 180 <<'SH' || true
set -e
mkfs.ext4 -q -F /dev/vda
mkdir -p /mnt/d
mount -t ext4 /dev/vda /mnt/d
SH
vm_ok g1 "guest: write 8 files, checksum them, sync" 120 <<'SH' || true
set -e
cd /mnt/d
mkdir -p dir
for i in 1 2 3 4 5 6 7 8; do
	dd if=/dev/urandom of=dir/f$i bs=4k count=$((i * 37)) 2>/dev/null
done
sync
sha256sum dir/*
SH
cp "$WORK/last.out" "$WORK/manifest"
is "manifest has 8 files" "$(grep -c ' dir/f' "$WORK/manifest")" 8

t0=$(now_ms)
ok "snapshot of the LUN under the mounted filesystem" ctl snapshot create vm1 --name vm1-snap
echo "# snapshot took $(($(now_ms) - t0)) ms"

vm_ok g1 "guest: after the snapshot, overwrite f1, add f9, sync, unmount" 120 <<'SH' || true
set -e
cd /mnt/d
dd if=/dev/urandom of=dir/f1 bs=4k count=10 conv=notrunc 2>/dev/null
echo later >dir/f9
sync
cd /
umount /mnt/d
SH
vm_stop g1

# Second boot: vda = the snapshot (through a temporary overlay), vdb = the
# origin, read-only.
ctl map vm1-snap qemu --lun 1 >/dev/null
vm_start g2 -drive "$(iscsi_drive 1 ,snapshot=on)" -drive "$(iscsi_drive 0 ,readonly=on)"
if ms=$(vm_wait g2); then pass "second guest booted ($ms ms)"; else fail "second guest boot"; fi
vm_ok g2 "guest: the snapshot holds exactly the files and checksums of the manifest" 120 <<SH || true
set -e
mkdir -p /mnt/s /mnt/o
mount -t ext4 /dev/vda /mnt/s
cd /mnt/s
cat >/tmp/manifest <<'M'
$(cat "$WORK/manifest")
M
sha256sum -c /tmp/manifest
[ "\$(ls dir | tr '\n' ' ')" = "f1 f2 f3 f4 f5 f6 f7 f8 " ] || { echo "snapshot has: \$(ls dir)"; exit 1; }
SH
vm_ok g2 "guest: the origin has the changes made after the snapshot" 120 <<SH || true
set -e
mount -t ext4 -o ro,noload /dev/vdb /mnt/o
cd /mnt/o
[ "\$(cat dir/f9)" = later ]
! sha256sum dir/f1 | grep -q "$(grep ' dir/f1$' "$WORK/manifest" | cut -d' ' -f1)"
sha256sum dir/f2 | grep -q "$(grep ' dir/f2$' "$WORK/manifest" | cut -d' ' -f1)"
cd /
umount /mnt/o
umount /mnt/s
SH
vm_stop g2

ok "unmap the snapshot" ctl unmap vm1-snap qemu
ok "unmap the LUN" ctl unmap vm1 qemu
ok "delete the snapshot" ctl snapshot delete vm1-snap
ok "delete the LUN" ctl lun delete vm1
vm_finish

#!/usr/bin/env bash
# End-to-end test 3: the guest defined and started through libvirt.  Its
# disk is a network iSCSI disk in the domain XML (QEMU's libiscsi driver,
# initiator name from the XML), it boots the test kernel and initramfs
# directly and its command port is a unix-socket virtio channel.  The guest
# makes ext4 on the disk and reads back what it wrote; an iscsi-direct
# storage pool lists the LUNs mapped to its initiator, and after
# pool-refresh the snapshot LUN the test made meanwhile.
#
# Private daemons, as tests/iscsi/t_libvirt.sh: virtlogd and a session
# libvirtd run as the unprivileged user "nobody" with HOME and the XDG
# directories inside the test's work directory (no system configuration is
# read or changed, no other libvirtd is touched); both are stopped after.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../integration/libvirt.sh"
TIQN=iqn.2026-11.org.arraysim:array
LIQN=iqn.2026-11.org.arraysim:libvirt-host
start_daemon
P=$ISCSI_PORT
ctl lun create lvdisk --size 128M >/dev/null
ctl lun create lvdata --size 64M >/dev/null
ctl host create lv --iqn $LIQN >/dev/null
ctl map lvdisk lv --lun 0 >/dev/null
ctl map lvdata lv --lun 1 >/dev/null

LV_DOMAIN=arraysim-lv
trap 'lv_stop; cleanup' EXIT
lv_start || { finish; exit 1; }
pass "private libvirtd answers"
mkdir -p "$LV/vm"
chown nobody "$LV/vm"
# the guest files must be readable by nobody
cp "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" "$LV/vm/"
chmod 644 "$LV/vm/vmlinuz" "$LV/vm/initramfs.cpio.gz"
# lib.sh's vm_run/vm_dump look for $WORK/NAME.sock and NAME.console
ln -s "$LV/vm/lv.sock" "$WORK/lv.sock"
ln -s "$LV/vm/lv.console" "$WORK/lv.console"
ln -s "$LV/home/.cache/libvirt/qemu/log/arraysim-lv.log" "$WORK/lv.qemu.log"

# --- storage pool ---------------------------------------------------------
lv_pool_xml "$LV/pool.xml" "$P" "$TIQN" "$LIQN"
ok "iscsi-direct pool created" V pool-create "$LV/pool.xml"
nvols() { V vol-list arraysim 2>&1 | grep -c '^ unit:' || true; }
is "the pool lists the two LUNs mapped to its initiator" "$(nvols)" 2

# --- the guest --------------------------------------------------------------
vm_accel
dtype=qemu
[ "$VM_ACCEL" = kvm ] && dtype=kvm
cat >"$LV/domain.xml" <<XML
<domain type='$dtype'>
  <name>arraysim-lv</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LV/vm/vmlinuz</kernel>
    <initrd>$LV/vm/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet mitigations=off</cmdline>
  </os>
  <cpu mode='maximum'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source protocol='iscsi' name='$TIQN/0'>
        <host name='127.0.0.1' port='$P'/>
        <initiator><iqn name='$LIQN'/></initiator>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$LV/vm/lv.console'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <source mode='bind' path='$LV/vm/lv.sock'/>
      <target type='virtio' name='arraysim.0'/>
    </channel>
    <memballoon model='none'/>
  </devices>
</domain>
XML
chmod 644 "$LV/domain.xml"
ok "domain defined" V define "$LV/domain.xml"
ok "domain started" V start arraysim-lv
if ms=$(vm_wait lv); then pass "libvirt guest booted to its command loop ($ms ms, $VM_ACCEL)"; else
	fail "libvirt guest boot"
	tail -20 "$WORK/libvirtd.log"
fi
vm_ok lv "guest: ext4 on the libvirt iSCSI disk, files written, read back after remount" 180 <<'SH' || true
set -e
mkfs.ext4 -q -F /dev/vda
mkdir -p /mnt/d
mount -t ext4 /dev/vda /mnt/d
for i in 1 2 3 4; do dd if=/dev/urandom of=/mnt/d/f$i bs=4k count=$((i * 50)) 2>/dev/null; done
(cd /mnt/d && sha256sum f*) >/tmp/sums
umount /mnt/d
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 /dev/vda /mnt/d
cd /mnt/d
sha256sum -c /tmp/sums
cp /tmp/sums /mnt/d/SUMS
sync
SH
ok "snapshot of the guest's disk while it runs" ctl snapshot create lvdisk --name lvdisk-snap
ok "snapshot mapped to the pool's initiator" ctl map lvdisk-snap lv --lun 2
is "before the refresh the pool still lists two LUNs" "$(nvols)" 2
ok "pool-refresh" V pool-refresh arraysim
is "after the refresh the snapshot LUN is listed too" "$(nvols)" 3
cap=$(V vol-info --pool arraysim unit:0:0:2 --bytes 2>&1 | awk '/Capacity/ {print $2}')
# libvirt 9's iscsi-direct backend reports one 512-byte block less (see
# tests/iscsi/t_libvirt.sh)
is "the snapshot LUN has the disk's capacity" "$cap" $(((128 << 20) - 512))
vm_ok lv "guest: the disk is still readable and writable after the snapshot" 60 <<'SH' || true
set -e
cd /mnt/d
sha256sum -c SUMS
echo after >after
sync
cd /
umount /mnt/d
SH

ok "domain destroyed" V destroy arraysim-lv
ok "domain undefined" V undefine arraysim-lv
ok "pool destroyed" V pool-destroy arraysim
if lv_stop; then
	pass "private libvirtd and virtlogd stopped"
else
	fail "private libvirtd and virtlogd stopped"
fi
ok "unmap the snapshot" ctl unmap lvdisk-snap lv
ok "unmap the LUNs" sh -c "'$ARRAYCTL' --data-dir '$DATA' unmap lvdisk lv && '$ARRAYCTL' --data-dir '$DATA' unmap lvdata lv"
ok "delete the snapshot" ctl snapshot delete lvdisk-snap
ok "delete the LUNs" sh -c "'$ARRAYCTL' --data-dir '$DATA' lun delete lvdisk && '$ARRAYCTL' --data-dir '$DATA' lun delete lvdata"
vm_finish

#!/usr/bin/env bash
# virt-install.sh: create the arraysim Windows Server 2022 lab guest; the
# equivalent of `virsh define domain.xml` plus the media it needs.
#
#   ADMIN_PASSWORD='...' vm-images/windows/virt-install.sh WINDOWS_ISO [MEDIA_DIR]
#
# WINDOWS_ISO: a Windows Server 2022 evaluation ISO you downloaded.
# MEDIA_DIR:   the lab media made by host-setup.sh (default build/win/lab-media).
# ADMIN_PASSWORD replaces @ADMIN_PASSWORD@ in autounattend.xml (only in
# the generated ISO, never in the repository).
#
# Steps: autounattend.xml (password filled in) is added to the media and
# the media becomes arraysim-lab.iso (xorriso or genisoimage); the
# isolated network arraysim-lab (network.xml) is defined and started if
# missing; virt-install creates a 60G qcow2 disk and boots the ISO.  The
# install then runs unattended and provision.ps1 runs at first logon.
# Environment: IMAGES (/var/lib/libvirt/images), VM_NAME (arraysim-ws2022),
# LIBVIRT_URI (qemu:///system).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ISO=${1:?usage: ADMIN_PASSWORD=... virt-install.sh WINDOWS_ISO [MEDIA_DIR]}
MEDIA=${2:-$ROOT/build/win/lab-media}
IMAGES=${IMAGES:-/var/lib/libvirt/images}
VM_NAME=${VM_NAME:-arraysim-ws2022}
URI=${LIBVIRT_URI:-qemu:///system}

die() {
	echo "virt-install.sh: $*" >&2
	exit 1
}
[ -r "$ISO" ] || die "$ISO not readable"
[ -f "$MEDIA/lab.json" ] || die "$MEDIA/lab.json missing: run host-setup.sh first"
[ -n "${ADMIN_PASSWORD:-}" ] || die "set ADMIN_PASSWORD (8+ characters, 3 of upper/lower/digit/symbol)"
command -v virt-install >/dev/null || die "virt-install missing (apt-get install virtinst)"
case $ADMIN_PASSWORD in *[\<\>\&]*) die "ADMIN_PASSWORD: no < > & please (it goes into XML)" ;; esac

# the unattend file with the password, only inside the generated ISO
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r "$MEDIA"/. "$stage"/
sed "s|@ADMIN_PASSWORD@|${ADMIN_PASSWORD//|/\\|}|g" "$HERE/autounattend.xml" >"$stage/autounattend.xml"
lab_iso=$IMAGES/arraysim-lab.iso
if command -v xorriso >/dev/null; then
	xorriso -as mkisofs -quiet -J -r -V ARRAYSIMLAB -o "$lab_iso" "$stage"
elif command -v genisoimage >/dev/null; then
	genisoimage -quiet -J -r -V ARRAYSIMLAB -o "$lab_iso" "$stage"
else
	die "need xorriso or genisoimage (apt-get install xorriso)"
fi
chmod 0600 "$lab_iso"

if ! virsh -c "$URI" net-info arraysim-lab >/dev/null 2>&1; then
	virsh -c "$URI" net-define "$HERE/network.xml"
fi
virsh -c "$URI" net-autostart arraysim-lab >/dev/null
virsh -c "$URI" net-info arraysim-lab | grep -q '^Active:.*yes' || virsh -c "$URI" net-start arraysim-lab

# the same machine as domain.xml: q35, SeaBIOS, SATA disks, e1000e NIC
virt-install --connect "$URI" \
	--name "$VM_NAME" \
	--osinfo win2k22 \
	--machine q35 \
	--memory 4096 --vcpus 2 --cpu host-passthrough \
	--features hyperv.relaxed.state=on,hyperv.vapic.state=on,hyperv.spinlocks.state=on,hyperv.spinlocks.retries=8191 \
	--clock offset=localtime,hypervclock_present=yes \
	--disk "path=$IMAGES/$VM_NAME.qcow2,size=60,format=qcow2,bus=sata,discard=unmap" \
	--disk "path=$ISO,device=cdrom,bus=sata" \
	--disk "path=$lab_iso,device=cdrom,bus=sata" \
	--network network=arraysim-lab,model=e1000e \
	--graphics vnc,listen=127.0.0.1 \
	--boot hd,cdrom \
	--noautoconsole
echo "virt-install.sh: $VM_NAME is installing (about 15-30 min); watch with: virt-viewer -c $URI $VM_NAME"
echo "provisioning log in the guest: C:\\arraysim\\lab\\provision.log"

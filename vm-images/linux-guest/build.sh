#!/usr/bin/env bash
# Build the Linux test guest from the host's Debian packages, with no
# downloads: the kernel from linux-image-amd64, an initramfs with
# busybox-static, the modules for virtio, SCSI, ext4 and the kernel iSCSI
# initiator (resolved through modules.dep), open-iscsi's iscsistart,
# e2fsprogs' mke2fs and the shared libraries they need (from ldd), and
# vm-images/linux-guest/init, which runs commands the host sends over a
# virtio-serial port (see tests/vm/lib.sh for the protocol).
#
# Usage: build.sh OUTDIR  ->  OUTDIR/vmlinuz, OUTDIR/initramfs.cpio.gz
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: build.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The newest kernel that has both an image and its modules.
KVER=
for k in $(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V); do
	[ -f "/lib/modules/$k/modules.dep" ] && KVER=$k
done
if [ -z "$KVER" ]; then
	echo "build.sh: no /boot/vmlinuz-*-amd64 with modules (apt-get install linux-image-amd64)" >&2
	exit 1
fi
for t in busybox iscsistart mke2fs cpio depmod; do
	p=$(PATH=/usr/sbin:/sbin:$PATH command -v $t || true)
	if [ -z "$p" ]; then
		echo "build.sh: $t missing (make deps)" >&2
		exit 1
	fi
done
BUSYBOX=$(command -v busybox)
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' && ldd "$BUSYBOX" >/dev/null 2>&1; then
	echo "build.sh: $BUSYBOX is not static (apt-get install busybox-static)" >&2
	exit 1
fi

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/arraysim-guest.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc/iscsi,proc,sys,dev,tmp,run,var/lock,mnt,root}
ln -s ../run "$ROOT/var/run"

# busybox and its applets as symlinks (real tools below replace some)
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$ROOT/bin/$a"
done

# dynamic binaries and their libraries, at their host paths
copy_bin() {
	local src=$1 dst=$2 lib
	install -D -m 0755 "$src" "$ROOT$dst"
	for lib in $(ldd "$src" | grep -oE '/[^ ]+'); do
		[ -e "$ROOT$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$ROOT$lib"
	done
}
copy_bin "$(PATH=/usr/sbin:/sbin:$PATH command -v iscsistart)" /sbin/iscsistart
# iscsistart logs in and exits, the kernel keeps the session.  iscsid and
# iscsiadm are there for tests that want user-space connection recovery
# (iscsid adopts the session, reconnecting it once); the Linux kernel
# fails a connection on an iSCSI Async Message when no iscsid listens,
# which is why the array sends none by default ([iscsi] async_events)
copy_bin /usr/sbin/iscsid /sbin/iscsid
copy_bin /usr/sbin/iscsiadm /sbin/iscsiadm
mkdir -p "$ROOT/etc/iscsi/nodes" "$ROOT/etc/iscsi/send_targets" "$ROOT/var/lib/iscsi"
: >"$ROOT/etc/iscsi/iscsid.conf"
# iscsid answers iscsiadm only for the user named root
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
echo 'root:x:0:' >"$ROOT/etc/group"
copy_bin "$(PATH=/usr/sbin:/sbin:$PATH command -v mke2fs)" /sbin/mke2fs
# util-linux's fsfreeze (-f/-u); busybox's only knows --freeze/--unfreeze
copy_bin "$(PATH=/usr/sbin:/sbin:$PATH command -v fsfreeze)" /sbin/fsfreeze
rm -f "$ROOT/bin/fsfreeze"
ln -sf mke2fs "$ROOT/sbin/mkfs.ext4"
rm -f "$ROOT/bin/mke2fs" # busybox's cannot make ext4
# ldd names the dynamic loader by its /lib64 path
[ -e "$ROOT/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$ROOT/lib64/"
# mke2fs reads its defaults from here
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$ROOT/etc/"

# Kernel modules: the closure of these under modules.dep, then depmod so
# that busybox modprobe (and the kernel's request_module) find them.
MODS=(virtio_pci virtio_blk virtio_scsi virtio_net virtio_console
	sd_mod ext4 crc32c_generic crc32c-intel crc64_rocksoft_generic crct10dif_generic
	iscsi_tcp)
MDIR=/lib/modules/$KVER
modpath() { # module name -> path in modules.dep ('-' and '_' are the same)
	local n
	n=$(echo "$1" | sed 's/[-_]/[-_]/g')
	grep -oE "^[^:]*/${n}\.ko(\.[a-z]+)?:" "$MDIR/modules.dep" | head -1 | tr -d : || true
}
declare -A SEEN=()
add_mod() {
	local p=$1 d
	[ -n "${SEEN[$p]:-}" ] && return 0
	SEEN[$p]=1
	for d in $(grep -E "^$p:" "$MDIR/modules.dep" | cut -d: -f2-); do
		add_mod "$d"
	done
	mkdir -p "$(dirname "$ROOT$MDIR/$p")"
	case $p in
	*.ko.xz) xz -dc "$MDIR/$p" >"$ROOT$MDIR/${p%.xz}" ;;
	*.ko.zst) zstd -qdc "$MDIR/$p" >"$ROOT$MDIR/${p%.zst}" ;;
	*.ko.gz) gzip -dc "$MDIR/$p" >"$ROOT$MDIR/${p%.gz}" ;;
	*) cp "$MDIR/$p" "$ROOT$MDIR/$p" ;;
	esac
}
for m in "${MODS[@]}"; do
	p=$(modpath "$m")
	if [ -z "$p" ]; then
		# built into this kernel (or absent): fine as long as it is built in
		grep -qE "/${m//-/_}\.ko" "$MDIR/modules.builtin" 2>/dev/null ||
			echo "build.sh: note: module $m not found in $KVER" >&2
		continue
	fi
	add_mod "$p"
done
cp "$MDIR"/modules.{order,builtin} "$ROOT$MDIR/" 2>/dev/null || true
cp "$MDIR"/modules.builtin.modinfo "$ROOT$MDIR/" 2>/dev/null || true
depmod -b "$ROOT" "$KVER"
printf '%s\n' "${MODS[@]}" >"$ROOT/etc/modules"

install -m 0755 "$HERE/init" "$ROOT/init"
install -m 0755 "$HERE/udhcpc.script" "$ROOT/etc/udhcpc.script"
echo "$KVER" >"$ROOT/etc/kernel-version"

cp "/boot/vmlinuz-$KVER" "$OUT/vmlinuz.tmp"
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
	gzip -1 >"$OUT/initramfs.cpio.gz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
chmod 644 "$OUT/vmlinuz" "$OUT/initramfs.cpio.gz"
echo "guest: kernel $KVER, initramfs $(du -k "$OUT/initramfs.cpio.gz" | cut -f1) KiB in $OUT"

#!/usr/bin/env bash
# libvirt's iscsi-direct storage pool (libiscsi inside libvirtd) lists the
# LUNs mapped to its initiator, and a snapshot LUN after a refresh.
#
# The test runs its own libvirtd with a private configuration: a session
# daemon as the unprivileged user "nobody" with HOME and XDG_RUNTIME_DIR
# inside the test's work directory (no system configuration is read or
# changed, no other libvirtd is touched), and stops it afterwards.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

command -v libvirtd >/dev/null || { fail "libvirtd not installed (make deps)"; finish; exit 1; }
TIQN=iqn.2026-11.org.arraysim:array
LIQN=iqn.2026-11.org.arraysim:libvirt-host
start_daemon
P=$ISCSI_PORT
ctl lun create v1 --size 256M >/dev/null
ctl lun create v2 --size 128M >/dev/null
ctl lun create hidden --size 64M >/dev/null
ctl host create lv --iqn $LIQN >/dev/null
ctl map v1 lv --lun 0 >/dev/null
ctl map v2 lv --lun 1 >/dev/null

LV=$WORK/libvirt
mkdir -p "$LV/xdg" "$LV/home"
chmod 755 "$WORK"
chown -R nobody "$LV"
chmod 700 "$LV/xdg"
as_nobody() {
	runuser -u nobody -- env HOME="$LV/home" XDG_RUNTIME_DIR="$LV/xdg" \
		XDG_CONFIG_HOME="$LV/home/.config" XDG_CACHE_HOME="$LV/home/.cache" "$@"
}
as_nobody libvirtd >"$WORK/libvirtd.log" 2>&1 &
LVD=$!
BG_PIDS+=("$LVD")
V() { as_nobody virsh -c qemu:///session "$@"; }
trap 'stop_libvirtd 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do
	V version >/dev/null 2>&1 && break
	sleep 0.1
done

cat >"$LV/pool.xml" <<XML
<pool type='iscsi-direct'>
  <name>arraysim</name>
  <source>
    <host name='127.0.0.1' port='$P'/>
    <device path='$TIQN'/>
    <initiator><iqn name='$LIQN'/></initiator>
  </source>
</pool>
XML
chmod 644 "$LV/pool.xml"
ok "libvirt creates the iscsi-direct pool" V pool-create "$LV/pool.xml"
vols=$(V vol-list arraysim 2>&1 | grep -c '^ unit:' || true)
is "the pool lists the two LUNs mapped to its initiator (not the third)" "$vols" 2
cap=$(V vol-info --pool arraysim unit:0:0:0 --bytes 2>&1 | awk '/Capacity/ {print $2}')
# libvirt 9's iscsi-direct backend multiplies READ CAPACITY's last LBA (not
# the block count) by the block size, so it shows one block less.
is "LUN 0 capacity as libvirt computes it (256 MiB less one 512-byte block)" "$cap" \
	$(((256 << 20) - 512))

ctl snapshot create v1 --name v1-snap >/dev/null
ctl map v1-snap lv --lun 2 >/dev/null
ok "pool refresh" V pool-refresh arraysim
vols=$(V vol-list arraysim 2>&1 | grep -c '^ unit:' || true)
is "after the refresh the snapshot LUN is listed too" "$vols" 3
ok "pool destroy" V pool-destroy arraysim

stop_libvirtd() {
	local pid
	pid=$(cat "$LV/xdg/libvirt/libvirtd.pid" 2>/dev/null || true)
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	wait "$LVD" 2>/dev/null || true
}
stop_libvirtd
if [ -n "$(cat "$LV/xdg/libvirt/libvirtd.pid" 2>/dev/null)" ] &&
	kill -0 "$(cat "$LV/xdg/libvirt/libvirtd.pid")" 2>/dev/null; then
	fail "private libvirtd stopped"
else
	pass "private libvirtd stopped"
fi
finish

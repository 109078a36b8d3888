#!/usr/bin/env bash
# libvirt's iscsi-direct storage pool (libiscsi inside libvirtd) lists the
# LUNs mapped to its initiator, and a snapshot LUN after a refresh.
#
# The test runs its own libvirtd with a private configuration
# (tests/integration/libvirt.sh) and stops it afterwards.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/libvirt.sh"
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

trap 'lv_stop; cleanup' EXIT
lv_start || { finish; exit 1; }
lv_pool_xml "$LV/pool.xml" "$P" "$TIQN" "$LIQN"
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

if lv_stop; then
	pass "private libvirtd stopped"
else
	fail "private libvirtd stopped"
fi
finish

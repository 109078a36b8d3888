#!/usr/bin/env bash
# host-setup.sh: prepare arraysimd for the Windows lab guest and build the
# lab media directory that virt-install.sh turns into an ISO.
#
#   vm-images/windows/host-setup.sh DATA_DIR [MEDIA_DIR]
#
# DATA_DIR is the running arraysimd's data directory (its control.key is
# used).  arrayctl connects to LAB_ADDR:CONTROL_PORT, the address the guest
# will use, so a wrong listen address shows up here already.  On the
# array it creates, unless they exist:
#   LUNs  ws-data1 and ws-data2 (LAB_LUN_SIZE, default 4G)
#   host  ws2022 with the guest's IQN (GUEST_IQN) and one-way CHAP
#   maps  ws-data1 as LUN 0 and ws-data2 as LUN 1 to ws2022
# Then MEDIA_DIR (default build/win/lab-media) gets: lab.json (address,
# ports, IQNs, CHAP), a copy of control.key, the MSI, provision.ps1,
# verify.ps1, the diskshadow scripts, and the marker arraysim-lab.txt.
#
# Environment: LAB_ADDR (192.168.133.1: the host side of network.xml),
# ISCSI_PORT (3260), CONTROL_PORT (3270), GUEST_IQN
# (iqn.1991-05.com.microsoft:arraysim-ws), TARGET_IQN
# (iqn.2026-11.org.arraysim:target), CHAP_USER (ws2022), CHAP_SECRET
# (random 16 characters unless set), ARRAYCTL (build/bin/arrayctl).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/vm-images/windows
DATA=${1:?usage: host-setup.sh DATA_DIR [MEDIA_DIR]}
MEDIA=${2:-$ROOT/build/win/lab-media}
ARRAYCTL=${ARRAYCTL:-$ROOT/build/bin/arrayctl}
LAB_ADDR=${LAB_ADDR:-192.168.133.1}
ISCSI_PORT=${ISCSI_PORT:-3260}
CONTROL_PORT=${CONTROL_PORT:-3270}
GUEST_IQN=${GUEST_IQN:-iqn.1991-05.com.microsoft:arraysim-ws}
TARGET_IQN=${TARGET_IQN:-iqn.2026-11.org.arraysim:target}
CHAP_USER=${CHAP_USER:-ws2022}
CHAP_SECRET=${CHAP_SECRET:-$(openssl rand -hex 8)}
LUN_SIZE=${LAB_LUN_SIZE:-4G}
MSI=${MSI:-$ROOT/build/win/arraysim-vss.msi}
HOST=ws2022

die() {
	echo "host-setup: $*" >&2
	exit 1
}
[ -x "$ARRAYCTL" ] || die "$ARRAYCTL missing (make all)"
[ -r "$DATA/control.key" ] || die "$DATA/control.key not readable (is DATA_DIR the daemon's --data-dir?)"
[ -f "$MSI" ] || die "$MSI missing (make msi)"
# the array refuses fewer than 12 characters; Microsoft's initiator
# takes at most 16 (12..16 without IPsec)
[ ${#CHAP_SECRET} -ge 12 ] && [ ${#CHAP_SECRET} -le 16 ] ||
	die "CHAP_SECRET must be 12..16 characters (the array refuses shorter, the Windows initiator longer)"

ctl() { "$ARRAYCTL" --connect "$LAB_ADDR:$CONTROL_PORT" --key-file "$DATA/control.key" "$@"; }
ctl status >/dev/null || die "cannot reach arraysimd at $LAB_ADDR:$CONTROL_PORT with $DATA/control.key (running, listening there? see docs/lab-setup.md)"

for lun in ws-data1 ws-data2; do
	if ctl lun show "$lun" >/dev/null 2>&1; then
		echo "lun $lun: exists"
	else
		ctl lun create "$lun" --size "$LUN_SIZE" >/dev/null
		echo "lun $lun: created ($LUN_SIZE)"
	fi
done
if ctl host list | awk 'NR > 1 { print $1 }' | grep -qx "$HOST"; then
	echo "host $HOST: exists"
else
	ctl host create "$HOST" --iqn "$GUEST_IQN" >/dev/null
	echo "host $HOST: created ($GUEST_IQN)"
fi
# CHAP is (re)set every time: the secret goes to lab.json below
ctl host set-chap "$HOST" --user "$CHAP_USER" --secret "$CHAP_SECRET" >/dev/null
echo "host $HOST: CHAP user $CHAP_USER"
n=0
for lun in ws-data1 ws-data2; do
	if ctl map list --lun "$lun" --host "$HOST" | awk 'NR > 1' | grep -q .; then
		echo "map $lun -> $HOST: exists"
	else
		ctl map "$lun" "$HOST" --lun "$n" >/dev/null
		echo "map $lun -> $HOST: LUN $n"
	fi
	n=$((n + 1))
done

mkdir -p "$MEDIA"
chmod 0700 "$MEDIA"
cat >"$MEDIA/lab.json" <<JSON
{
  "ArrayAddress": "$LAB_ADDR",
  "IscsiPort": $ISCSI_PORT,
  "ControlPort": $CONTROL_PORT,
  "TargetIqn": "$TARGET_IQN",
  "Iqn": "$GUEST_IQN",
  "ChapUser": "$CHAP_USER",
  "ChapSecret": "$CHAP_SECRET"
}
JSON
install -m 0600 "$DATA/control.key" "$MEDIA/control.key"
cp "$MSI" "$MEDIA/arraysim-vss.msi"
cp "$HERE"/provision.ps1 "$HERE"/verify.ps1 "$HERE"/*.dsh "$MEDIA/"
cp "$ROOT/provider/win/installer/Install-ArraysimVss.ps1" "$MEDIA/"
echo "arraysim lab media" >"$MEDIA/arraysim-lab.txt"
echo "host-setup: lab media in $MEDIA (it holds the control key and the CHAP secret: keep it private)"
echo "next: vm-images/windows/virt-install.sh WINDOWS_ISO $MEDIA"

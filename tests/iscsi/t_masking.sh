#!/usr/bin/env bash
# LUN masking and unit attentions over iSCSI:
#  - an initiator whose host has no maps sees no LUN, an unknown initiator
#    sees no target at all in discovery;
#  - mapping a LUN while a session is logged in makes the next command on
#    that session report REPORTED LUNS DATA HAS CHANGED (3F/0E), and REPORT
#    LUNS then lists it; unmapping does the same.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

PROBE=$BUILD/itest/ua_probe
TIQN=iqn.2026-11.org.arraysim:array
IQA=iqn.2026-11.org.arraysim:test-a
IQB=iqn.2026-11.org.arraysim:test-b
IQC=iqn.2026-11.org.arraysim:test-unknown

start_daemon
P=$ISCSI_PORT
ctl lun create m1 --size 64M >/dev/null
ctl lun create m2 --size 64M >/dev/null
ctl host create ha --iqn $IQA >/dev/null
ctl host create hb --iqn $IQB >/dev/null
ctl map m1 ha --lun 0 >/dev/null

ls_as() { timeout 20 iscsi-ls -s -i "$1" "iscsi://127.0.0.1:$P" 2>&1 || true; }

out=$(ls_as $IQA)
is "mapped initiator sees its one LUN" "$(echo "$out" | grep -c '^Lun:')" 1
out=$(ls_as $IQB)
is "initiator of a host with no maps sees no LUN" "$(echo "$out" | grep -c '^Lun:')" 0
out=$(ls_as $IQC)
is "unknown initiator: discovery lists no target" "$(echo "$out" | grep -c "^Target:$TIQN")" 0
ko "unknown initiator cannot read a LUN" "." timeout 20 iscsi-inq -i $IQC "iscsi://127.0.0.1:$P/$TIQN/0"

# A live session, then map a second LUN to its host.
coproc PR { "$PROBE" "iscsi://127.0.0.1:$P/$TIQN/0" $IQA 2>&1; }
read -r -t 20 l1 <&"${PR[0]}" || l1=
read -r -t 20 l2 <&"${PR[0]}" || l2=
is "live session: REPORT LUNS before the map" "$l1" "LUNS 1 0"
is "live session ready" "$l2" "READY"
ctl map m2 ha --lun 5 >/dev/null
echo go >&"${PR[1]}"
read -r -t 20 l3 <&"${PR[0]}" || l3=
read -r -t 20 l4 <&"${PR[0]}" || l4=
is "unit attention on the live session after the map" "$l3" "UA 3f/0e"
is "REPORT LUNS on the live session lists the new LUN" "$l4" "LUNS 2 0 5"
wait "${PR_PID:-}" 2>/dev/null || true

# And unmap, on a new live session.
coproc PR2 { "$PROBE" "iscsi://127.0.0.1:$P/$TIQN/0" $IQA 2>&1; }
read -r -t 20 l1 <&"${PR2[0]}" || l1=
read -r -t 20 l2 <&"${PR2[0]}" || l2=
ctl unmap m2 ha >/dev/null
echo go >&"${PR2[1]}"
read -r -t 20 l3 <&"${PR2[0]}" || l3=
read -r -t 20 l4 <&"${PR2[0]}" || l4=
is "unit attention after the unmap" "$l3" "UA 3f/0e"
is "REPORT LUNS no longer lists the unmapped LUN" "$l4" "LUNS 1 0"
wait "${PR2_PID:-}" 2>/dev/null || true

# Snapshots and their origin have different identities (VPD 0x80, 0x83).
ctl snapshot create m1 --name m1-snap >/dev/null
ctl map m1-snap ha --lun 7 >/dev/null
s0=$(timeout 20 iscsi-inq -i $IQA -e 1 -c 128 "iscsi://127.0.0.1:$P/$TIQN/0" 2>&1 | grep -i "serial number" || true)
s7=$(timeout 20 iscsi-inq -i $IQA -e 1 -c 128 "iscsi://127.0.0.1:$P/$TIQN/7" 2>&1 | grep -i "serial number" || true)
if [ -n "$s0" ] && [ -n "$s7" ] && [ "$s0" != "$s7" ]; then
	pass "LUN and its snapshot have different unit serials"
else
	fail "LUN and its snapshot have different unit serials ('$s0' vs '$s7')"
fi
finish

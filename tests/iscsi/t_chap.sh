#!/usr/bin/env bash
# CHAP over iSCSI: per-host credentials from the control plane.
#  - a host with CHAP must log in with the right secret (hex-free ASCII
#    secret here; libiscsi sends CHAP_R in hex);
#  - a wrong secret, or no CHAP at all, is refused;
#  - mutual CHAP: the initiator checks the target's answer; a wrong target
#    secret on the initiator's side makes the login fail.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

TIQN=iqn.2026-11.org.arraysim:array
IQ=iqn.2026-11.org.arraysim:chap-initiator
start_daemon
P=$ISCSI_PORT
ctl lun create c1 --size 64M >/dev/null
ctl host create hc --iqn $IQ >/dev/null
ctl map c1 hc --lun 0 >/dev/null

inq() { timeout 20 iscsi-inq -i $IQ "$1"; }
URL="127.0.0.1:$P/$TIQN/0"

ok "no CHAP configured: plain login works" inq "iscsi://$URL"
ctl host set-chap hc --user chapuser --secret chap-secret-12 >/dev/null
ok "right CHAP secret logs in" inq "iscsi://chapuser%chap-secret-12@$URL"
ko "wrong CHAP secret is refused" "." inq "iscsi://chapuser%wrong-secret-1@$URL"
ko "wrong CHAP user is refused" "." inq "iscsi://otheruser%chap-secret-12@$URL"
ko "no CHAP when the host has CHAP is refused" "." inq "iscsi://$URL"
ctl host set-chap hc --user chapuser --secret chap-secret-12 \
	--mutual-user arraysim --mutual-secret target-secret9 >/dev/null
ok "mutual CHAP: initiator verifies the target" \
	inq "iscsi://chapuser%chap-secret-12@$URL?target_user=arraysim&target_password=target-secret9"
ko "mutual CHAP: a target that answers with another secret is refused by the initiator" "." \
	inq "iscsi://chapuser%chap-secret-12@$URL?target_user=arraysim&target_password=not-the-secret"
ok "mutual configured, one-way login still allowed" inq "iscsi://chapuser%chap-secret-12@$URL"
finish

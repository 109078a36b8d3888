#!/usr/bin/env bash
# shellcheck disable=SC2119 # start_daemon takes optional extra daemon options
# Authentication: a client with another key can do nothing; requests
# before the handshake, replayed frames and tampered frames are refused
# and the connection closed, and the array's state does not change.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

start_daemon
ok "setup: lun create keep1" ctl lun create keep1 --size 1G

# another valid key (64 hex digits, mode 0600) that the array does not hold
other=$WORK/other.key
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$other" && echo >>"$other")
bad() {
	"$ARRAYCTL" --connect "127.0.0.1:$PORT" --key-file "$other" "$@"
}
ko "wrong key: lun list refused with EAUTH (exit 3)" '^arrayctl: lun list: EAUTH: ' bad lun list
ko "wrong key: lun create refused" 'EAUTH' bad lun create evil --size 1G
ko "wrong key: lun delete refused" 'EAUTH' bad lun delete keep1
ko "wrong key: fault drop-connections refused" 'EAUTH' bad fault drop-connections
rc=0
bad status >/dev/null 2>&1 || rc=$?
is "wrong key: exit status 3" "$rc" 3
is "wrong key changed nothing: keep1 is still there, no evil" \
	"$(ctl lun list | tail -n +2 | awk '{ print $1 }' | tr '\n' ' ')" "keep1 "
is "wrong key: nothing audited (refused before any request)" \
	"$(ctl --json audit | grep -c '"text": "lun create evil' || true)" 0

# a key file others may read is not accepted by the client
cp "$DATA/control.key" "$WORK/open.key"
chmod 644 "$WORK/open.key"
ko "key file with mode 0644 is refused" 'bad key file' \
	"$ARRAYCTL" --connect "127.0.0.1:$PORT" --key-file "$WORK/open.key" lun list
ok "the right key via --connect/--key-file works" \
	"$ARRAYCTL" --connect "127.0.0.1:$PORT" --key-file "$DATA/control.key" lun list

# protocol level: raw frames from the C driver
"$ITEST_PROTO" "$PORT" "$DATA/control.key" noauth unauth1 | tee "$WORK/p.out" || true
"$ITEST_PROTO" "$PORT" "$DATA/control.key" replay rp1 | tee -a "$WORK/p.out" || true
"$ITEST_PROTO" "$PORT" "$DATA/control.key" tamper tp | tee -a "$WORK/p.out" || true
N_PASS=$((N_PASS + $(grep -c '^PASS' "$WORK/p.out" || true)))
N_FAIL=$((N_FAIL + $(grep -c '^FAIL' "$WORK/p.out" || true)))
is "after all that: LUNs are exactly keep1" \
	"$(ctl lun list | tail -n +2 | awk '{ print $1 }' | tr '\n' ' ')" "keep1 "
is "the daemon logged the refusals" "$(grep -c 'refused frame' "$WORK/daemon.log" || true)" 7
ok "and still serves good clients" ctl status
finish

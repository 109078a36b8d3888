#!/usr/bin/env bash
# shellcheck disable=SC2119 # start_daemon takes optional extra daemon options
# Idempotent retries: a state-changing request sent twice under the same
# request id is done once and both answers are the first outcome; also
# with F_RETRY on a new connection, after the connection dropped before
# the reply, and through the client library's timeout-and-retry.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

start_daemon
count() { # how many LUNs called $1
	ctl lun list | tail -n +2 | awk -v n="$1" '$1 == n' | wc -l
}

# through arrayctl's hidden --request-id (the same id the library resends)
id=0x5eed0000$$
a=$(ctl --json --request-id $id lun create idem1 --size 1G || true)
b=$(ctl --json --request-id $id lun create idem1 --size 1G || true)
is "same request id twice via arrayctl: both OK with the same LUN uuid" \
	"$(echo "$b" | jfield uuid)" "$(echo "$a" | jfield uuid)"
is "only one LUN idem1 exists" "$(count idem1)" 1
ko "a new request id for the same name is a new operation: EEXIST" 'EEXIST' \
	ctl lun create idem1 --size 1G
# spec section 6: the same id with another message type is EINVAL
ko "same request id with another message type is refused with EINVAL" 'EINVAL' \
	ctl --request-id $id lun delete idem1
is "...and idem1 was not deleted" "$(count idem1)" 1

# protocol level, C driver
"$ITEST_PROTO" "$PORT" "$DATA/control.key" retry idem2 | tee "$WORK/p.out" || true
"$ITEST_PROTO" "$PORT" "$DATA/control.key" reqid0 idem0 | tee -a "$WORK/p.out" || true
"$ITEST_PROTO" "$PORT" "$DATA/control.key" retry-drop idem3 | tee -a "$WORK/p.out" || true
ok "setup: lun create sset1" ctl lun create sset1 --size 1G
"$ITEST_PROTO" "$PORT" "$DATA/control.key" snapset sset1 | tee -a "$WORK/p.out" || true
# the library's retry: the first attempt times out (600 ms) while the
# array holds the create for 1500 ms; the resend waits for its outcome
ok "fault delay lun-create --ms 1500" ctl fault delay lun-create --ms 1500
"$ITEST_PROTO" "$PORT" "$DATA/control.key" retry-timeout idem4 | tee -a "$WORK/p.out" || true
N_PASS=$((N_PASS + $(grep -c '^PASS' "$WORK/p.out" || true)))
N_FAIL=$((N_FAIL + $(grep -c '^FAIL' "$WORK/p.out" || true)))
is "audit: idem4 was created once" "$(ctl --json audit | grep -c '"text": "lun create idem4' || true)" 1
finish

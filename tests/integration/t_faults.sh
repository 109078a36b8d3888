#!/usr/bin/env bash
# shellcheck disable=SC2119 # start_daemon takes optional extra daemon options
# Fault injection, every mode: delay, fail, drop-connections, LUN
# offline/online, and listing/clearing armed faults.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

start_daemon
ok "setup: lun create f1 f2" bash -c "$(declare -f ctl); ARRAYCTL=$ARRAYCTL DATA=$DATA; \
	ctl lun create f1 --size 1G && ctl lun create f2 --size 1G"

# ---- delay
ok "fault delay snapset-commit --ms 1500" ctl fault delay snapset-commit --ms 1500
is "fault list: the delay is armed for snapset-commit" \
	"$(ctl fault list | tail -n +2 | awk '{ print $2, $3, $5 }')" "delay snapset-commit 1500"
t0=$(now_ms)
ok "snapshot create f1 f2 (delayed commit)" ctl snapshot create f1 f2 --name fd1
dt=$(($(now_ms) - t0))
if [ "$dt" -ge 1500 ]; then pass "the delayed commit took $dt ms (>= 1500)"; else fail "the delayed commit took only $dt ms"; fi
t0=$(now_ms)
ok "next snapshot create (count 1 used up)" ctl snapshot create f1 --name fd2
dt=$(($(now_ms) - t0))
if [ "$dt" -lt 1000 ]; then pass "the next commit is not delayed ($dt ms)"; else fail "the next commit took $dt ms"; fi
is "fault list: empty again" "$(ctl fault list | tail -n +2 | wc -l)" 0
ok "fault delay by number (0x401) --count 0 (until cleared)" ctl fault delay 0x401 --ms 5 --count 0
is "fault list shows it as snapset-commit, count 0" \
	"$(ctl fault list | tail -n +2 | awk '{ print $3, $4 }')" "snapset-commit 0"

# ---- fail
ok "fault fail lun-create --error EIO" ctl fault fail lun-create --error EIO
ko "the next lun create fails with the injected EIO" '^arrayctl: lun create: EIO: ' \
	ctl lun create f3 --size 1G
ok "the one after works" ctl lun create f3 --size 1G
ok "fault fail lun-create --count 2 (default error)" ctl fault fail lun-create --count 2
ko "first: EFAULT_INJECTED" 'EFAULT_INJECTED' ctl lun create f4 --size 1G
ko "second: EFAULT_INJECTED" 'EFAULT_INJECTED' ctl lun create f4 --size 1G
ok "third works" ctl lun create f4 --size 1G
ko "fault fail with an unknown op is a usage error" 'unknown operation' ctl fault fail frobnicate
ko "fault fail with an unknown error is a usage error" 'unknown error code' \
	ctl fault fail lun-create --error ENOPE
ok "fault fail any --count 0" ctl fault fail any --count 0 --error EBUSY
ko "...fails every faultable operation (lun list)" 'EBUSY' ctl lun list
ok "...but fault list still works" ctl fault list
id=$(ctl fault list | tail -n +2 | awk '$3 == "any" { print $1 }' || true)
ok "fault clear $id" ctl fault clear "$id"
ok "lun list works again" ctl lun list
ko "fault clear of an unknown id fails with ENOENT" 'ENOENT' ctl fault clear 9999
ok "fault clear (all)" ctl fault clear
is "fault list: empty" "$(ctl fault list | tail -n +2 | wc -l)" 0

# ---- drop connections
"$ITEST_PROTO" "$PORT" "$DATA/control.key" dropconn | tee "$WORK/p.out" || true
N_PASS=$((N_PASS + $(grep -c '^PASS' "$WORK/p.out" || true)))
N_FAIL=$((N_FAIL + $(grep -c '^FAIL' "$WORK/p.out" || true)))
ok "arrayctl fault drop-connections" ctl fault drop-connections

# ---- LUN offline / online
ok "fault lun-offline f1" ctl fault lun-offline f1
is "lun show f1: offline" "$(ctl lun show f1 | awk '$1 == "State:" { print $2 }')" offline
is "lun list: f1 offline, f2 online" "$(ctl lun list | col f1 5)/$(ctl lun list | col f2 5)" \
	"offline/online"
is "lun show --json f1: state offline" "$(ctl --json lun show f1 | jfield state)" offline
ok "fault lun-online f1" ctl fault lun-online f1
is "lun show f1: online" "$(ctl lun show f1 | awk '$1 == "State:" { print $2 }')" online
ko "fault lun-offline of a missing LUN fails with ENOENT" 'ENOENT' ctl fault lun-offline nope
is "audit records the fault operations" \
	"$(ctl --json audit | grep -c '"op": "fault-inject"')" 10
finish

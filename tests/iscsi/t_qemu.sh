#!/usr/bin/env bash
# QEMU's own initiator (block driver iscsi://, libiscsi) against arraysimd:
#  - qemu-img convert writes a random image to a LUN, reads it back, equal;
#  - qemu-io write, read, flush, discard and write-zeroes, checked by pattern;
#  - a snapshot taken through arrayctl while a LUN is being written holds
#    exactly the point-in-time data: every write completed before the
#    snapshot call, none started after it returned.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

TIQN=iqn.2026-11.org.arraysim:array
QIQN=iqn.2008-11.org.linux-kvm # QEMU's default initiator name
start_daemon
P=$ISCSI_PORT
ctl lun create q1 --size 64M >/dev/null
ctl lun create q2 --size 64M >/dev/null
ctl host create qemu --iqn $QIQN >/dev/null
ctl map q1 qemu --lun 0 >/dev/null
ctl map q2 qemu --lun 1 >/dev/null
U0="iscsi://127.0.0.1:$P/$TIQN/0"
U1="iscsi://127.0.0.1:$P/$TIQN/1"

head -c 48M /dev/urandom >"$WORK/rand.img"
ok "qemu-img convert: random image to the LUN" \
	timeout 60 qemu-img convert -n -f raw -O raw "$WORK/rand.img" "$U0"
ok "qemu-img convert: LUN back to a file" \
	timeout 60 qemu-img convert -f raw -O raw "$U0" "$WORK/back.img"
if cmp -s -n $((48 << 20)) "$WORK/rand.img" "$WORK/back.img"; then
	pass "read back equals what was written (48 MiB)"
else
	fail "read back equals what was written"
fi
if cmp -s -i $((48 << 20)):0 -n $((16 << 20)) "$WORK/back.img" /dev/zero; then
	pass "the never-written tail reads as zeros"
else
	fail "the never-written tail reads as zeros"
fi

qio() { timeout 30 qemu-io -f raw "$@" "$U1"; }
# qemu-io prints errors and "Pattern verification failed" but may exit 0:
# treat any such line as a failure.
qio_ok() {
	local what=$1 out
	shift
	if out=$(qio "$@" 2>&1) && ! echo "$out" | grep -qiE "fail|error"; then
		pass "$what"
	else
		fail "$what: $(echo "$out" | head -3)"
	fi
}
qio_ok "qemu-io write 1 MiB of 0xab" -c "write -P 0xab 0 1M"
qio_ok "qemu-io read it back" -c "read -P 0xab 0 1M"
qio_ok "qemu-io flush (SYNCHRONIZE CACHE)" -c "write -P 0x11 1M 64k" -c "flush" -c "read -P 0x11 1M 64k"
qio_ok "qemu-io FUA write" -c "write -f -P 0x22 2M 64k" -c "read -P 0x22 2M 64k"
qio_ok "qemu-io discard reads back as zeros" -c "discard 0 1M" -c "read -P 0 0 1M"
qio_ok "qemu-io write-zeroes" -c "write -P 0x33 4M 1M" -c "write -z 4M 1M" -c "read -P 0 4M 1M"
qio_ok "qemu-io write-zeroes with unmap" -c "write -P 0x44 8M 2M" -c "write -z -u 8M 2M" -c "read -P 0 8M 2M"
qio_ok "qemu-io unaligned-to-chunk write" -c "write -P 0x55 65024 4096" -c "read -P 0x55 65024 4096"

# Point in time: a writer fills 1 MiB regions of q2 one by one with
# pattern i+1 (sequentially, so each is acknowledged before the next).
N=40
(
	for i in $(seq 0 $((N - 1))); do
		qio -c "write -P $((i + 1)) $((i + 16))M 1M" >/dev/null 2>&1 || exit 1
		echo "$i" >>"$WORK/done.log"
	done
) &
W=$!
BG_PIDS+=("$W")
: >"$WORK/done.log"
for _ in $(seq 200); do
	[ "$(wc -l <"$WORK/done.log")" -ge 8 ] && break
	sleep 0.05
done
before=$(wc -l <"$WORK/done.log")
ctl snapshot create q2 --name q2-pit >/dev/null
after=$(wc -l <"$WORK/done.log")
wait "$W" && pass "writer finished all $N writes" || fail "writer finished"
ctl map q2-pit qemu --lun 2 >/dev/null
U2="iscsi://127.0.0.1:$P/$TIQN/2"
bad=0
for i in $(seq 0 $((N - 1))); do
	off=$((i + 16))M
	if [ "$i" -lt "$before" ]; then
		want=$((i + 1)) # completed before the snapshot call
	elif [ "$i" -gt "$after" ]; then
		want=0 # started after the snapshot returned
	else
		continue # in flight during the call: either is right
	fi
	out=$(timeout 30 qemu-io -r -f raw -c "read -P $want $off 1M" "$U2" 2>&1 || echo "error: exit $?")
	if echo "$out" | grep -qiE "fail|error"; then
		bad=$((bad + 1))
		echo "# region $i: want pattern $want: $out" | head -2
	fi
done
is "snapshot holds exactly the point-in-time data ($before done before, $after after; $N regions)" "$bad" 0
out=$(timeout 30 qemu-io -f raw -c "read -P $N $((N - 1 + 16))M 1M" "$U1" 2>&1 || echo "error: exit $?")
if echo "$out" | grep -qiE "fail|error"; then fail "origin has the last write"; else pass "origin has the last write"; fi
finish

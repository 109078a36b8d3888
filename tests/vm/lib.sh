# shellcheck shell=bash disable=SC2034
# Helpers for the VM end-to-end tests (sourced after tests/integration/lib.sh,
# whose EXIT trap kills what BG_PIDS lists and removes $WORK).
#
# The guest (vm-images/linux-guest, built by `make guest-image` into
# $BUILD/guest) serves commands on a virtio-serial port named arraysim.0,
# which QEMU connects to a unix socket ($WORK/NAME.sock).  vm_run NAME
# sends a shell script (stdin) as one line "ID BASE64" and prints what the
# guest answers up to "@@ARRAYSIM-END ID RC"; its exit code is RC.  The
# console (ttyS0) goes to $WORK/NAME.console and is printed on failure.

GUEST=$BUILD/guest
VMCHAN=$BUILD/vm/vmchan
FWD=$BUILD/vm/fwd
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-120}
declare -A VM_PID=()

for f in "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" "$VMCHAN" "$FWD"; do
	if [ ! -e "$f" ]; then
		echo "FAIL: $f missing (make guest-image $BUILD/vm/vmchan $BUILD/vm/fwd)"
		exit 1
	fi
done

# KVM when /dev/kvm exists and really runs the guest (some sandboxes
# expose a /dev/kvm that aborts or hangs), else TCG.  The probe's answer
# is kept in $GUEST/accel; VM_ACCEL=tcg|kvm overrides.
VM_ACCEL=${VM_ACCEL:-}
vm_accel() {
	[ -n "$VM_ACCEL" ] && return 0
	VM_ACCEL=tcg
	[ -w /dev/kvm ] || return 0
	if [ ! -s "$GUEST/accel" ]; then
		# in a subshell, quietly: bash reports a QEMU that aborts
		(
			a=tcg
			VM_ACCEL=kvm
			vm_start kvmprobe
			for _ in $(seq 20); do # give up at once if QEMU died
				kill -0 "${VM_PID[kvmprobe]}" 2>/dev/null || break
				if echo true | "$VMCHAN" "$WORK/kvmprobe.sock" 1 >/dev/null 2>&1; then
					a=kvm
					break
				fi
			done
			vm_stop kvmprobe
			rm -f "$WORK"/kvmprobe.*
			echo "$a" >"$GUEST/accel"
		) 2>/dev/null
	fi
	VM_ACCEL=$(cat "$GUEST/accel")
}

# vm_start NAME [QEMU OPTIONS...]: boot the guest in the background.  The
# kernel command line gets $VM_APPEND (e.g. arraysim.iqn=IQN).
vm_start() {
	local name=$1 cpu=max
	shift
	vm_accel
	[ "$VM_ACCEL" = kvm ] && cpu=host
	rm -f "$WORK/$name.sock"
	qemu-system-x86_64 -accel "$VM_ACCEL" -cpu $cpu -smp 1 -m 256 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet mitigations=off ${VM_APPEND:-}" \
		-serial "file:$WORK/$name.console" \
		-chardev "socket,id=cmd,path=$WORK/$name.sock,server=on,wait=off" \
		-device virtio-serial-pci -device virtserialport,chardev=cmd,name=arraysim.0 \
		"$@" >>"$WORK/$name.qemu.log" 2>&1 &
	VM_PID[$name]=$!
	BG_PIDS+=("$!")
}

# vm_wait NAME: until the guest answers; prints the boot time in ms.
vm_wait() {
	local t0
	t0=$(now_ms)
	if echo true | "$VMCHAN" "$WORK/$1.sock" "$VM_BOOT_TIMEOUT" >/dev/null; then
		echo $(($(now_ms) - t0))
	else
		vm_dump "$1"
		return 1
	fi
}

# vm_run NAME TIMEOUT_S < script: run it in the guest, print its output
vm_run() {
	"$VMCHAN" "$WORK/$1.sock" "$2"
}

# vm_ok NAME DESCRIPTION TIMEOUT_S < script: PASS if the script exits 0
# in the guest; its output is kept in $WORK/last.out
vm_ok() {
	local rc=0
	vm_run "$1" "$3" >"$WORK/last.out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$2"
	else
		fail "$2 (guest exit $rc)"
		sed 's/^/#   guest: /' "$WORK/last.out" | tail -20
		return 1
	fi
}

# vm_stop NAME: flush and power off by killing QEMU (the tests sync and
# unmount first; nothing in the guest outlives it).
vm_stop() {
	local p=${VM_PID[$1]:-}
	[ -n "$p" ] || return 0
	term_wait "$p"
	unset "VM_PID[$1]"
}

# vm_dump NAME: the guest's console and QEMU's messages, for a failure
vm_dump() {
	echo "# ---- console of guest $1 ----"
	sed 's/^/# /' "$WORK/$1.console" 2>/dev/null | tail -60
	echo "# ---- qemu ($1) ----"
	sed 's/^/# /' "$WORK/$1.qemu.log" 2>/dev/null | tail -20
}

# vm_finish: on failure print every guest's console, then finish
vm_finish() {
	local n
	if [ "$N_FAIL" -ne 0 ]; then
		for n in "$WORK"/*.console; do
			[ -e "$n" ] && vm_dump "$(basename "$n" .console)"
		done
	fi
	for n in "${!VM_PID[@]}"; do
		vm_stop "$n"
	done
	finish
}

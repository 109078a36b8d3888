# The VM lab (issue 6): the Linux test guest built from the host's Debian
# packages (vm-images/linux-guest/build.sh -> $(BUILD)/guest/) and the
# end-to-end tests in tests/vm/, which boot it in QEMU (KVM when usable,
# else TCG) against a live arraysimd.

GUEST_DIR   := $(BUILD)/guest
GUEST_IMAGE := $(GUEST_DIR)/vmlinuz $(GUEST_DIR)/initramfs.cpio.gz
VM_TOOLS    := $(BUILD)/vm/vmchan $(BUILD)/vm/fwd
VM_TESTS    := $(wildcard tests/vm/t_*.sh)

$(BUILD)/vm/%: tests/vm/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -o $@ $<

# Rebuilt when the init, the build script or the installed kernel changes.
$(GUEST_IMAGE) &: vm-images/linux-guest/build.sh vm-images/linux-guest/init \
		vm-images/linux-guest/udhcpc.script $(wildcard /boot/vmlinuz-*-amd64)
	bash vm-images/linux-guest/build.sh $(GUEST_DIR)
	@rm -f $(GUEST_DIR)/accel

.PHONY: guest-image check-vm
guest-image: $(GUEST_IMAGE) $(VM_TOOLS)

check-vm: $(BUILD)/bin/arraysimd $(BUILD)/bin/arrayctl guest-image provider
	@bash scripts/run-scripts.sh $(VM_TESTS)

CHECK_TARGETS += check-vm

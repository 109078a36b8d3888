# iSCSI-level tests against a live arraysimd (tests/iscsi/): conformance
# with libiscsi's iscsi-test-cu, masking and unit attentions, CHAP, QEMU's
# iscsi:// driver, and libvirt's iscsi-direct pool.  Each script starts its
# own daemon on free loopback ports and cleans up after itself.

ITEST_ISCSI_BIN := $(BUILD)/itest/ua_probe

$(BUILD)/itest/ua_probe: tests/iscsi/ua_probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -o $@ $< -liscsi

ISCSI_TESTS := $(wildcard tests/iscsi/t_*.sh)

.PHONY: check-iscsi check-conformance
check-iscsi: $(BUILD)/bin/arraysimd $(BUILD)/bin/arrayctl $(ITEST_ISCSI_BIN)
	@bash scripts/run-scripts.sh $(ISCSI_TESTS)

check-conformance: $(BUILD)/bin/arraysimd $(BUILD)/bin/arrayctl
	@bash tests/iscsi/conformance.sh

CHECK_TARGETS += check-conformance check-iscsi

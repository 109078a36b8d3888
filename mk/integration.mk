# Integration tests: a live arraysimd driven by arrayctl and by a
# protocol-level C driver (tests/integration/itest_proto.c).
#
#   make check-integration            every tests/integration/t_*.sh
#   make check-integration IT=faults  one of them (t_faults.sh)
#
# Each test starts its own daemon on 127.0.0.1 in a temporary data
# directory and stops it on exit; the runner prints "N passed, N failed".

IT ?=
ITEST_PROTO := $(BUILD)/itest/itest_proto

$(ITEST_PROTO): tests/integration/itest_proto.c $(BUILD)/lib/libproto.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/lib/libproto.a -lcrypto -pthread

.PHONY: check-integration
# arraysim-check is used when it exists (the kill -9 test checks the pool)
ITEST_CHECKER := $(if $(wildcard array-sim/tools/arraysim-check.c),$(BUILD)/bin/arraysim-check)

check-integration: $(BUILD)/bin/arraysimd $(BUILD)/bin/arrayctl $(ITEST_PROTO) $(ITEST_CHECKER)
	@BUILD=$(BUILD) bash tests/integration/run.sh $(IT)

CHECK_TARGETS += check-integration

# Control-plane benchmark (tests/bench/bench_snapset.c): a 64-LUN
# snapshot-set commit over the protocol while writers run, in-process
# (pool + array + control server + client).  `make bench` runs it through
# scripts/bench-control.sh, which writes the "Control plane" section of
# docs/performance.md.  `make bench-control` runs only this one.
#
#   make bench-control [BENCH_CONTROL_ARGS="--rounds 200 --writers 8"]

BENCH_CONTROL_ARGS ?=

# It links the control server, which the generic bench rule does not.
$(BUILD)/bench/bench_snapset: $(BUILD)/obj/tests/bench/bench_snapset.o $(BUILD)/lib/libtestcommon.a \
		$(BUILD)/lib/libarraysim.a $(BUILD)/lib/libengine.a $(BUILD)/lib/libproto.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-control
bench-control: $(BUILD)/bench/bench_snapset
	@BUILD=$(BUILD) BENCH_CONTROL_ARGS="$(BENCH_CONTROL_ARGS)" bash scripts/bench-control.sh

BENCH_TARGETS += bench-control

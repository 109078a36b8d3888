# libFuzzer target for the SCSI core's CDB handling (tests/fuzz/fuzz_cdb.c).
#
#   make fuzz-cdb                 fuzz for FUZZ_SECONDS (default 20)
#   make fuzz-cdb FUZZ_SECONDS=600
#
# The SCSI core, the array object model it reads LUNs from, the engine
# and the TLV codec the array stores records with are compiled into the
# fuzzer with coverage and sanitizers, under $(BUILD)/fuzz/cdb-obj.  New
# inputs go to $(BUILD)/fuzz/corpus-cdb; the checked-in seeds in
# tests/fuzz/corpus/cdb are only read.  (Variables are FZC_-prefixed.)

FUZZ_SECONDS ?= 20
FZC_CFLAGS   := -std=c11 -O1 -g -pthread $(WARN) -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined
FZC_BIN      := $(BUILD)/fuzz/fuzz_cdb
FZC_SEEDS    := tests/fuzz/corpus/cdb
FZC_SRC      := $(ENGINE_SRC) array-sim/control/array.c shared/proto.c \
		$(wildcard array-sim/scsi/*.c) tests/fuzz/fuzz_cdb.c
FZC_OBJS     := $(patsubst %.c,$(BUILD)/fuzz/cdb-obj/%.o,$(FZC_SRC))

$(BUILD)/fuzz/cdb-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FZC_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FZC_BIN): $(FZC_OBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FZC_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

-include $(shell find $(BUILD)/fuzz/cdb-obj -name '*.d' 2>/dev/null)

.PHONY: fuzz-cdb
fuzz-cdb: $(FZC_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus-cdb
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FZC_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
	  $(BUILD)/fuzz/corpus-cdb $(FZC_SEEDS)

CHECK_TARGETS += fuzz-cdb
FUZZ_TARGETS  += fuzz-cdb

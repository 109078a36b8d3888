# libFuzzer target for the provider core's INQUIRY / VPD parser
# (tests/fuzz/fuzz_vds.c over provider/core/vds_lun.c).
#
#   make fuzz-vds                 fuzz for FUZZ_SECONDS (default 20)
#   make fuzz-vds FUZZ_SECONDS=600
#
# Objects under $(BUILD)/fuzz/vds-obj; new inputs go to
# $(BUILD)/fuzz/corpus-vds, the checked-in seeds in tests/fuzz/corpus/vds
# (real pages of an array-sim LUN, and a few broken ones) are only read.
# (Variables are FZV_-prefixed.)

FUZZ_SECONDS ?= 20
FZV_CFLAGS   := -std=c11 -O1 -g $(WARN) -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined
FZV_BIN      := $(BUILD)/fuzz/fuzz_vds
FZV_SEEDS    := tests/fuzz/corpus/vds
FZV_SRC      := provider/core/vds_lun.c tests/fuzz/fuzz_vds.c
FZV_OBJS     := $(patsubst %.c,$(BUILD)/fuzz/vds-obj/%.o,$(FZV_SRC))

$(BUILD)/fuzz/vds-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FZV_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FZV_BIN): $(FZV_OBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FZV_CFLAGS) -fsanitize=fuzzer -o $@ $^

-include $(shell find $(BUILD)/fuzz/vds-obj -name '*.d' 2>/dev/null)

.PHONY: fuzz-vds
fuzz-vds: $(FZV_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus-vds
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FZV_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
	  $(BUILD)/fuzz/corpus-vds $(FZV_SEEDS)

CHECK_TARGETS += fuzz-vds
FUZZ_TARGETS  += fuzz-vds

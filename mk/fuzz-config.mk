# libFuzzer target for arraysimd's config parser and the control-key file
# format (tests/fuzz/fuzz_config.c over array-sim/daemon/config.c and
# shared/auth.c).
#
#   make fuzz-config                 fuzz for FUZZ_SECONDS (default 20)
#
# Objects under $(BUILD)/fuzz/config-obj; new inputs go to
# $(BUILD)/fuzz/corpus-config, the checked-in seeds in
# tests/fuzz/corpus/config are only read.  (Variables are FZF_-prefixed.)

FUZZ_SECONDS ?= 20
FZF_CFLAGS   := -std=c11 -O1 -g $(WARN) -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined
FZF_BIN      := $(BUILD)/fuzz/fuzz_config
FZF_SEEDS    := tests/fuzz/corpus/config
FZF_SRC      := array-sim/daemon/config.c shared/auth.c shared/proto.c shared/platform_posix.c \
		tests/fuzz/fuzz_config.c
FZF_OBJS     := $(patsubst %.c,$(BUILD)/fuzz/config-obj/%.o,$(FZF_SRC))

$(BUILD)/fuzz/config-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FZF_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FZF_BIN): $(FZF_OBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FZF_CFLAGS) -fsanitize=fuzzer -o $@ $^ -linih -lcrypto -pthread

-include $(shell find $(BUILD)/fuzz/config-obj -name '*.d' 2>/dev/null)

.PHONY: fuzz-config
fuzz-config: $(FZF_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus-config
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FZF_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
	  -dict=tests/fuzz/config.dict $(BUILD)/fuzz/corpus-config $(FZF_SEEDS)

CHECK_TARGETS += fuzz-config
FUZZ_TARGETS  += fuzz-config

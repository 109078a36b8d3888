# libFuzzer target for the pool's on-disk format (tests/fuzz/fuzz_pool_image.c).
#
#   make fuzz-pool-image                 fuzz for FUZZ_SECONDS (default 20)
#   make fuzz-pool-image FUZZ_SECONDS=600
#
# The engine is compiled into the fuzzer with coverage and sanitizers, so it
# has its own objects under $(BUILD)/fuzz/pool-obj.  New inputs go to
# $(BUILD)/fuzz/corpus-pool_image and crashes to $(BUILD)/fuzz/artifacts;
# the checked-in seeds are only read.  Replay a crash with
#   $(BUILD)/fuzz/fuzz_pool_image $(BUILD)/fuzz/artifacts/crash-...
# (Variables are FZP_-prefixed: other fuzz fragments define FUZZ_CFLAGS.)

FUZZ_SECONDS ?= 20
FZP_CFLAGS   := -std=c11 -O1 -g -pthread $(WARN) -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined
FZP_BIN      := $(BUILD)/fuzz/fuzz_pool_image
FZP_SEEDS    := tests/fuzz/corpus/pool_image
FZP_OBJS     := $(patsubst %.c,$(BUILD)/fuzz/pool-obj/%.o,$(ENGINE_SRC) tests/fuzz/fuzz_pool_image.c)

$(BUILD)/fuzz/pool-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FZP_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FZP_BIN): $(FZP_OBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FZP_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

-include $(shell find $(BUILD)/fuzz/pool-obj -name '*.d' 2>/dev/null)

.PHONY: fuzz-pool-image
fuzz-pool-image: $(FZP_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus-pool_image $(BUILD)/fuzz/artifacts
	ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FZP_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/ \
	  $(BUILD)/fuzz/corpus-pool_image $(FZP_SEEDS)

CHECK_TARGETS += fuzz-pool-image
FUZZ_TARGETS  += fuzz-pool-image

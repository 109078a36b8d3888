# libFuzzer targets for the provider core's parsers: INQUIRY / VPD pages
# (tests/fuzz/fuzz_vds.c over provider/core/vds_lun.c) and the
# SNAPSET_COMMIT reply (tests/fuzz/fuzz_commit_reply.c over
# provider/core/array_ops.c; seeds from `make fuzz-commit-corpus`).
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

FZR_BIN  := $(BUILD)/fuzz/fuzz_commit_reply
FZR_SRC  := provider/core/array_ops.c provider/core/vds_lun.c shared/proto.c shared/client.c shared/auth.c \
	    shared/platform_posix.c tests/fuzz/fuzz_commit_reply.c
FZR_OBJS := $(patsubst %.c,$(BUILD)/fuzz/vds-obj/%.o,$(FZR_SRC))

$(FZR_BIN): $(FZR_OBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FZV_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lcrypto -pthread

.PHONY: fuzz-commit-reply fuzz-commit-corpus
fuzz-commit-reply: $(FZR_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus-commit-reply
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FZR_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=8192 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
	  $(BUILD)/fuzz/corpus-commit-reply tests/fuzz/corpus/commit_reply

# rewrites the checked-in seeds (only needed when the reply format changes)
fuzz-commit-corpus: tests/fuzz/gen_commit_corpus.c $(BUILD)/lib/libproto.a
	@mkdir -p $(BUILD)/fuzz tests/fuzz/corpus/commit_reply
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $(BUILD)/fuzz/gen_commit_corpus $< $(BUILD)/lib/libproto.a $(LDLIBS)
	$(BUILD)/fuzz/gen_commit_corpus tests/fuzz/corpus/commit_reply

CHECK_TARGETS += fuzz-vds fuzz-commit-reply
FUZZ_TARGETS  += fuzz-vds fuzz-commit-reply

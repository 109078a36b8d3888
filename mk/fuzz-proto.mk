# libFuzzer target for the ASCP frame decoder (tests/fuzz/fuzz_frame.c).
# `make fuzz-frame` runs it for FUZZ_SECONDS over the checked-in seed
# corpus; new inputs go to $(BUILD)/fuzz/corpus-frame, never into the tree.

FUZZ_SECONDS ?= 20
PROTO_FUZZ_CFLAGS  := -std=c11 -g -O1 -D_GNU_SOURCE -Ishared \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
PROTO_FUZZ_SRC := shared/proto.c shared/auth.c shared/platform_posix.c

$(BUILD)/fuzz/fuzz_frame: tests/fuzz/fuzz_frame.c $(PROTO_FUZZ_SRC) $(wildcard shared/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(PROTO_FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_frame.c $(PROTO_FUZZ_SRC) -lcrypto

.PHONY: fuzz-frame
fuzz-frame: $(BUILD)/fuzz/fuzz_frame
	@mkdir -p $(BUILD)/fuzz/corpus-frame
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
	   -artifact_prefix=$(BUILD)/fuzz/ \
	   $(BUILD)/fuzz/corpus-frame tests/fuzz/corpus/frame

CHECK_TARGETS += fuzz-frame
FUZZ_TARGETS  += fuzz-frame

# Seed generator (plain gcc build against libproto.a).  The seeds are
# checked in; `make fuzz-frame-corpus` regenerates them after a change
# to the message table.
$(BUILD)/fuzz/gen_frame_corpus: tests/fuzz/gen_frame_corpus.c tests/fuzz/fuzz_frame.h $(BUILD)/lib/libproto.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/lib/libproto.a -lcrypto

.PHONY: fuzz-frame-corpus
fuzz-frame-corpus: $(BUILD)/fuzz/gen_frame_corpus
	@mkdir -p tests/fuzz/corpus/frame
	$< tests/fuzz/corpus/frame

# iSCSI target (array-sim/iscsi/): libFuzzer targets and test tools.
#
#   make fuzz-pdu     PDU header / AHS / digest parser  (tests/fuzz/fuzz_pdu.c)
#   make fuzz-login   login text keys, CHAP, negotiation (tests/fuzz/fuzz_login.c)
#       each runs FUZZ_SECONDS (default 20) over tests/fuzz/corpus/{pdu,login};
#       new inputs go to $(BUILD)/fuzz/corpus-{pdu,login}, never into the tree.
#   make iscsi-tools  $(BUILD)/iscsi/mini_target (target + SCSI core + array in
#                     one process) and $(BUILD)/iscsi/robustness (raw-socket test)
#   make iscsi-robustness  runs the raw-socket test against a mini_target
#
# The fuzzers compile only the pure codec files (pdu.c, text.c, chap.c,
# login.c), so they need neither the SCSI core nor the array.
# (Variables are FZI_-prefixed: other fuzz fragments define FUZZ_CFLAGS.)

FUZZ_SECONDS ?= 20
FZI_CFLAGS := -std=c11 -O1 -g -pthread $(WARN) -fno-omit-frame-pointer \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FZI_CODEC  := array-sim/iscsi/pdu.c array-sim/iscsi/text.c array-sim/iscsi/chap.c \
	      array-sim/iscsi/login.c
FZI_HDRS   := $(wildcard array-sim/iscsi/*.h)

$(BUILD)/fuzz/fuzz_pdu: tests/fuzz/fuzz_pdu.c $(FZI_CODEC) $(FZI_HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FZI_CFLAGS) -o $@ tests/fuzz/fuzz_pdu.c $(FZI_CODEC) -lisal -lcrypto

$(BUILD)/fuzz/fuzz_login: tests/fuzz/fuzz_login.c $(FZI_CODEC) $(FZI_HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(FZI_CFLAGS) -o $@ tests/fuzz/fuzz_login.c $(FZI_CODEC) -lisal -lcrypto

.PHONY: fuzz-pdu fuzz-login
fuzz-pdu: $(BUILD)/fuzz/fuzz_pdu
	@mkdir -p $(BUILD)/fuzz/corpus-pdu
	ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $< -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-pdu tests/fuzz/corpus/pdu

fuzz-login: $(BUILD)/fuzz/fuzz_login
	@mkdir -p $(BUILD)/fuzz/corpus-login
	ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $< -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=16384 -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-login tests/fuzz/corpus/login

CHECK_TARGETS += fuzz-pdu fuzz-login
FUZZ_TARGETS  += fuzz-pdu fuzz-login

# ---- tools and the raw-socket robustness test ---------------------------------
ISCSI_TOOL_LIBS := $(BUILD)/lib/libarraysim.a $(BUILD)/lib/libengine.a $(BUILD)/lib/libproto.a
ISCSI_ASAN_LIBS := $(BUILD)/asan/lib/libarraysim.a $(BUILD)/asan/lib/libengine.a \
		   $(BUILD)/asan/lib/libproto.a

$(BUILD)/iscsi/%: $(BUILD)/obj/tests/iscsi/%.o $(ISCSI_TOOL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/iscsi/%: $(BUILD)/asan/obj/tests/iscsi/%.o $(ISCSI_ASAN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

.PHONY: iscsi-tools iscsi-robustness
iscsi-tools: $(BUILD)/iscsi/mini_target $(BUILD)/iscsi/robustness

# In-process target on an ephemeral port; normal and ASan builds.
iscsi-robustness: $(BUILD)/iscsi/robustness $(BUILD)/asan/iscsi/robustness
	$(BUILD)/iscsi/robustness
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(BUILD)/asan/iscsi/robustness

CHECK_TARGETS += iscsi-robustness

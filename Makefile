# arraysim: storage-array simulator and Windows VSS hardware provider.
# GNU make.  Everything builds into build/.  See README.md.

CC       ?= gcc
ifeq ($(CC),cc)
CC       := gcc
endif
CLANG    ?= clang-14
BUILD    ?= build
OPT      ?= -O2
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS := -D_GNU_SOURCE -Iarray-sim/engine -Iarray-sim/control -Iarray-sim/daemon -Ishared \
            -Iarray-sim/scsi -Iarray-sim/iscsi \
            -Iprovider/core -Itests/common
CFLAGS   := -std=c11 $(OPT) -g -pthread $(WARN)
LDLIBS   := -linih -ljson-c -lisal -lcrypto -pthread
TEST_LDLIBS := -lcmocka
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

ENGINE_SRC := $(wildcard array-sim/engine/*.c)
PROTO_SRC  := $(wildcard shared/*.c)
DAEMON_MAIN := array-sim/daemon/main.c
DAEMON_SRC := $(filter-out $(DAEMON_MAIN),$(wildcard array-sim/control/*.c array-sim/daemon/*.c \
                array-sim/scsi/*.c array-sim/iscsi/*.c))
CLI_SRC    := $(wildcard array-sim/cli/*.c)
TOOLS_SRC  := $(wildcard array-sim/tools/*.c)
COMMON_SRC := $(wildcard tests/common/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
ENGTEST_SRC := $(wildcard tests/engine/*.c)
BENCH_SRC  := $(wildcard tests/bench/*.c)

# Targets that `make check` runs; fragments in mk/ add to these.
CHECK_TARGETS :=
BIN_TARGETS :=

.PHONY: all check deps deps-auto bench fuzz demo demo-engine clean format unit unit-asan install

PREFIX     ?= /usr/local
DESTDIR    ?=
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
all:

# ---- one build variant: $(1)=dir, $(2)=extra cflags ----------------------
define variant
$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(2) -MMD -MP -c $$< -o $$@

$(1)/lib/libengine.a: $$(patsubst %.c,$(1)/obj/%.o,$$(ENGINE_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(1)/lib/libproto.a: $$(patsubst %.c,$(1)/obj/%.o,$$(PROTO_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(1)/lib/libarraysim.a: $$(patsubst %.c,$(1)/obj/%.o,$$(DAEMON_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(1)/bin/arraysimd: $(1)/obj/$(DAEMON_MAIN:.c=.o) $(1)/lib/libarraysim.a $(1)/lib/libengine.a $(1)/lib/libproto.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(LDLIBS)

$(1)/bin/arrayctl: $$(patsubst %.c,$(1)/obj/%.o,$$(CLI_SRC)) $(1)/lib/libproto.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(LDLIBS)

$(1)/lib/libtestcommon.a: $$(patsubst %.c,$(1)/obj/%.o,$$(COMMON_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(1)/LIBS := $(1)/lib/libengine.a $(1)/lib/libproto.a

# a group: fragments add archives (libprovcore) after libproto, which they use
$(1)/tests/%: $(1)/obj/tests/unit/%.o $(1)/lib/libtestcommon.a $(1)/lib/libarraysim.a $(1)/lib/libengine.a $(1)/lib/libproto.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $(2) -o $$@ -Wl,--start-group $$^ -Wl,--end-group $$(TEST_LDLIBS) $$(LDLIBS)

$(1)/etests/%: $(1)/obj/tests/engine/%.o $(1)/lib/libtestcommon.a $(1)/lib/libarraysim.a $(1)/lib/libengine.a $(1)/lib/libproto.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(TEST_LDLIBS) $$(LDLIBS)

$(1)/bin/%: $(1)/obj/array-sim/tools/%.o $(1)/lib/libengine.a $(1)/lib/libproto.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(LDLIBS)

-include $$(shell find $(1)/obj -name '*.d' 2>/dev/null)
endef

$(eval $(call variant,$(BUILD),))
$(eval $(call variant,$(BUILD)/asan,$(SAN_FLAGS)))

UNIT_BINS      := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
UNIT_ASAN_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRC))
ENGTEST_BINS   := $(patsubst tests/engine/%.c,$(BUILD)/etests/%,$(ENGTEST_SRC))
ENGTEST_ASAN_BINS := $(patsubst tests/engine/%.c,$(BUILD)/asan/etests/%,$(ENGTEST_SRC))
TOOL_BINS      := $(patsubst array-sim/tools/%.c,$(BUILD)/bin/%,$(TOOLS_SRC)) $(BUILD)/bin/arraysimd \
                  $(if $(CLI_SRC),$(BUILD)/bin/arrayctl)
BENCH_BINS     := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/lib/libtestcommon.a $(BUILD)/lib/libengine.a $(BUILD)/lib/libproto.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

-include $(wildcard mk/*.mk)

all: $(TOOL_BINS) $(BIN_TARGETS)

# ---- dependencies ----------------------------------------------------------
deps:
	@bash scripts/deps.sh install

# check and demo install what is missing first (quietly when nothing is)
deps-auto:
	@bash scripts/deps.sh auto

# ---- tests -----------------------------------------------------------------
unit: $(UNIT_BINS)
	@bash scripts/run-tests.sh $(UNIT_BINS)

unit-asan: $(UNIT_ASAN_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  bash scripts/run-tests.sh $(UNIT_ASAN_BINS)

check: deps-auto
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(UNIT_ASAN_BINS) $(ENGTEST_BINS) $(ENGTEST_ASAN_BINS)
	@$(MAKE) --no-print-directory unit unit-asan $(CHECK_TARGETS)
	@echo "make check: all passed"

bench: deps-auto
	@$(MAKE) --no-print-directory all $(BENCH_BINS) $(BENCH_TARGETS)
	@bash scripts/bench.sh
	@bash scripts/bench-iscsi.sh --doc

fuzz: deps-auto
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)

# make demo [KEEP=1]: a hardware shadow copy of a guest's LUN through the
# provider under Wine (scripts/demo.sh); make demo-engine: the pool engine tour
demo: deps-auto
	@$(MAKE) --no-print-directory -j2 all provider guest-image
	@bash scripts/demo.sh

demo-engine: deps-auto
	@$(MAKE) --no-print-directory all
	@bash scripts/demo-engine.sh

# make install [PREFIX=/usr/local] [DESTDIR=]: binaries, man pages, systemd unit
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSTEMDDIR) \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/bin/arraysimd $(DESTDIR)$(PREFIX)/sbin/arraysimd
	for b in $(filter-out $(BUILD)/bin/arraysimd,$(TOOL_BINS)); do \
	  install -m 0755 $$b $(DESTDIR)$(PREFIX)/bin/; done
	for m in $(wildcard docs/man/*.1); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done
	for m in $(wildcard docs/man/*.8); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' array-sim/daemon/arraysimd.service.in \
	  > $(DESTDIR)$(SYSTEMDDIR)/arraysimd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/arraysimd.service

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

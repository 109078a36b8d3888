# Provider portable core (provider/core/): plain C11, no windows.h.
# The unit tests test_provider_* link it as libprovcore.a (native and
# ASan variants); `make cross-provider-core` compiles the same sources
# with mingw-w64 into $(BUILD)/win/obj/provider/core/ so a construct
# that only gcc-on-Linux accepts fails here, before the COM shell exists.

PROVCORE_SRC := $(wildcard provider/core/*.c)
PROVCORE_HDR := $(wildcard provider/core/*.h) $(wildcard shared/*.h)

# archives, so a test pulls in only the objects it uses (array_ops.o
# needs libproto, which the test rule lists before this archive)
$(BUILD)/lib/libprovcore.a: $(patsubst %.c,$(BUILD)/obj/%.o,$(PROVCORE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/lib/libprovcore.a: $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(PROVCORE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# extra prerequisites only; the recipe is the $(BUILD)/tests/% pattern's
PROVIDER_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_provider_*.c))
$(addprefix $(BUILD)/tests/,$(PROVIDER_TESTS)): $(BUILD)/lib/libprovcore.a
$(addprefix $(BUILD)/asan/tests/,$(PROVIDER_TESTS)): $(BUILD)/asan/lib/libprovcore.a

WIN_CC ?= x86_64-w64-mingw32-gcc
PROVCORE_WIN_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Ishared -Iprovider/core
PROVCORE_WIN_OBJ := $(patsubst provider/core/%.c,$(BUILD)/win/obj/provider/core/%.o,$(PROVCORE_SRC))

$(BUILD)/win/obj/provider/core/%.o: provider/core/%.c $(PROVCORE_HDR)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(PROVCORE_WIN_CFLAGS) -c $< -o $@

.PHONY: cross-provider-core
cross-provider-core: $(PROVCORE_WIN_OBJ)

CHECK_TARGETS += cross-provider-core

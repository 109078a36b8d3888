# The VSS-coordinator harness under Wine (tests/wine/): vsscoord.exe plays
# VSS against the provider DLL in a Wine prefix under $(BUILD)/, lunid is
# the Linux host's iSCSI side (libiscsi), run.sh drives both against a
# live arraysimd.  `make provider` builds the harness too.

WIN_CC ?= x86_64-w64-mingw32-gcc
WINE_HARNESS_SRC := $(wildcard tests/wine/*.c)
WINE_HARNESS_WIN := $(filter-out tests/wine/lunid.c,$(WINE_HARNESS_SRC))
WINE_HARNESS_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -D_WIN32_WINNT=0x0601 \
                       -Iprovider/win -Itests/wine -Ishared

$(BUILD)/win/vsscoord.exe: $(WINE_HARNESS_WIN) $(wildcard tests/wine/*.h) provider/win/provider_ids.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WINE_HARNESS_CFLAGS) -static-libgcc -o $@ $(WINE_HARNESS_WIN) \
	  -lole32 -luuid -ladvapi32

$(BUILD)/itest/lunid: tests/wine/lunid.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -o $@ $< -liscsi

provider: $(BUILD)/win/vsscoord.exe

.PHONY: check-provider
check-provider: provider $(BUILD)/win/vsscoord.exe $(BUILD)/itest/lunid $(BUILD)/bin/arraysimd \
		$(BUILD)/bin/arrayctl
	@bash tests/wine/run.sh

CHECK_TARGETS += check-provider

# The VSS hardware provider's Windows side (provider/win/), cross-built
# with mingw-w64 into $(BUILD)/win/:
#   arraysim-vss.dll      the provider (COM class, message table, self-registration)
#   arraysim-vss-reg.exe  IVssAdmin (un)registration and registry configuration
# Both link the provider core and shared/ compiled for Windows, and only
# system DLLs (iscsidsc.dll is loaded at run time); libgcc is static and
# `make provider` fails if the DLL imports anything else (e.g. libwinpthread).
#
# -Wno-unused-parameter: COM method signatures are fixed by the IDL and
# most methods ignore some of theirs (as the Linux build does).

WIN_CC      ?= x86_64-w64-mingw32-gcc
WIN_WINDMC  ?= x86_64-w64-mingw32-windmc
WIN_WINDRES ?= x86_64-w64-mingw32-windres
WIN_OBJDUMP ?= x86_64-w64-mingw32-objdump

PROVWIN_DIR    := $(BUILD)/win
PROVWIN_OBJDIR := $(BUILD)/win/obj/provider/win
PROVWIN_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
                  -D_WIN32_WINNT=0x0601 -DUNICODE -D_UNICODE -D__USE_MINGW_ANSI_STDIO=1 \
                  -Iprovider/win -Iprovider/core -Ishared -I$(PROVWIN_OBJDIR)
PROVWIN_LDFLAGS := -static-libgcc -Wl,--no-insert-timestamp
PROVWIN_LDLIBS  := -lole32 -loleaut32 -ladvapi32 -lcrypt32 -lws2_32 -lbcrypt -luuid

# object lists spelled out here: mk/provider.mk and mk/proto.mk own the
# rules for these objects, but may be read after this fragment
PROVWIN_SHARED_OBJ := $(patsubst shared/%.c,$(BUILD)/win/obj/shared/%.o,$(wildcard shared/*.c))
PROVWIN_CORE_OBJ   := $(patsubst provider/core/%.c,$(BUILD)/win/obj/provider/core/%.o,\
                        $(wildcard provider/core/*.c))
PROVWIN_DLL_SRC := provider/win/dllmain.c provider/win/provider.c provider/win/resync.c \
                   provider/win/lunconv.c provider/win/config.c provider/win/evlog.c
PROVWIN_DLL_OBJ := $(patsubst provider/win/%.c,$(PROVWIN_OBJDIR)/%.o,$(PROVWIN_DLL_SRC))
PROVWIN_REG_OBJ := $(PROVWIN_OBJDIR)/regtool.o $(PROVWIN_OBJDIR)/config.o
PROVWIN_HDR := $(wildcard provider/win/*.h provider/core/*.h shared/*.h)

# message table: windmc writes messages.h (ids), messages.rc and MSG00409.bin
$(PROVWIN_OBJDIR)/messages.h $(PROVWIN_OBJDIR)/messages.rc: provider/win/messages.mc
	@mkdir -p $(PROVWIN_OBJDIR)
	$(WIN_WINDMC) -U -h $(PROVWIN_OBJDIR) -r $(PROVWIN_OBJDIR) $<

$(PROVWIN_OBJDIR)/messages.res.o: $(PROVWIN_OBJDIR)/messages.rc
	$(WIN_WINDRES) -I$(PROVWIN_OBJDIR) -i $< -o $@

$(PROVWIN_OBJDIR)/%.o: provider/win/%.c $(PROVWIN_HDR) $(PROVWIN_OBJDIR)/messages.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(PROVWIN_CFLAGS) -c $< -o $@

$(PROVWIN_DIR)/arraysim-vss.dll: $(PROVWIN_DLL_OBJ) $(PROVWIN_OBJDIR)/messages.res.o \
		$(PROVWIN_CORE_OBJ) $(PROVWIN_SHARED_OBJ) provider/win/arraysim-vss.def
	$(WIN_CC) -shared $(PROVWIN_LDFLAGS) -o $@ $(filter %.o,$^) provider/win/arraysim-vss.def \
	  $(PROVWIN_LDLIBS)
	@bash provider/win/check-imports.sh $(WIN_OBJDUMP) $@

$(PROVWIN_DIR)/arraysim-vss-reg.exe: $(PROVWIN_REG_OBJ) $(PROVWIN_SHARED_OBJ)
	$(WIN_CC) $(PROVWIN_LDFLAGS) -o $@ $^ $(PROVWIN_LDLIBS)
	@bash provider/win/check-imports.sh $(WIN_OBJDUMP) $@

.PHONY: provider
provider: $(PROVWIN_DIR)/arraysim-vss.dll $(PROVWIN_DIR)/arraysim-vss-reg.exe

CHECK_TARGETS += provider

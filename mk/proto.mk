# Control protocol (shared/): Windows cross-build of the same sources the
# provider links.  `make cross-shared` compiles every shared/*.c with
# mingw-w64 into $(BUILD)/win/obj/shared/, archives $(BUILD)/win/libproto.a
# and links every object, with tests/win/proto_selftest.c, into
# $(BUILD)/win/proto-selftest.exe: an unresolved symbol (a missing
# -lws2_32/-lbcrypt import) fails here rather than in the provider build,
# and the .exe can be run on a Windows host to exercise BCrypt/Winsock.

WIN_CC     ?= x86_64-w64-mingw32-gcc
WIN_AR     ?= x86_64-w64-mingw32-ar
PROTO_WIN_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Ishared
PROTO_WIN_LDLIBS := -lws2_32 -lbcrypt

PROTO_WIN_OBJ := $(patsubst shared/%.c,$(BUILD)/win/obj/shared/%.o,$(PROTO_SRC))

$(BUILD)/win/obj/shared/%.o: shared/%.c $(wildcard shared/*.h)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(PROTO_WIN_CFLAGS) -c $< -o $@

$(BUILD)/win/libproto.a: $(PROTO_WIN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(WIN_AR) rcs $@ $^

$(BUILD)/win/proto-selftest.exe: tests/win/proto_selftest.c $(PROTO_WIN_OBJ)
	$(WIN_CC) $(PROTO_WIN_CFLAGS) -o $@ $^ $(PROTO_WIN_LDLIBS)

.PHONY: cross-shared
cross-shared: $(BUILD)/win/libproto.a $(BUILD)/win/proto-selftest.exe

CHECK_TARGETS += cross-shared

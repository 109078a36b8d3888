#!/usr/bin/env bash
# check-msi-wine.sh MSI FAKEVSS_DLL REG_EXE: run the provider's two install
# paths for real under Wine (make check-msi-wine):
#   a) arraysim-vss-reg.exe register / unregister (IVssAdmin)
#   b) msiexec /i and /x of the MSI, its properties and custom actions
#   c) an install that must fail (bad KEY_FILE) leaves nothing registered
#   d) a major upgrade (same package rebuilt as 1.0.1.0) keeps one registration
# Wine has no VSS service: tests/wine/fakevss (fakevss.dll, a test double
# of the coordinator's IVssAdmin) is registered for CLSID_VSSCoordinator
# and records registrations under Services\VSS\Providers as VSS does.
# Every check prints "ok: ..." or "FAIL: ..."; exit 1 if any failed.
# Own prefix under build/, its wineserver is killed on exit.
set -uo pipefail

[ $# -eq 3 ] || {
	echo "usage: $0 MSI FAKEVSS_DLL REG_EXE" >&2
	exit 2
}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT" || exit 1
MSI=$(realpath "$1") FAKE=$(realpath "$2") REG=$(realpath "$3")
BUILD=${BUILD:-build}
export WINEPREFIX=$ROOT/$BUILD/wineprefix-msi
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
WORK=$ROOT/$BUILD/msi-wine
T0=$(date +%s)
N_PASS=0 N_FAIL=0

ok() {
	echo "ok: $*"
	N_PASS=$((N_PASS + 1))
}
fail() {
	echo "FAIL: $*"
	N_FAIL=$((N_FAIL + 1))
}
# check DESCRIPTION COMMAND...: ok if the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

cleanup() {
	local rc=$?
	wineserver -k 2>/dev/null
	if [ "$N_FAIL" -ne 0 ] || [ "$rc" -ne 0 ]; then
		for f in "$WORK"/*.log; do
			[ -s "$f" ] || continue
			echo "# ---- $f (errors and custom actions) ----"
			tr -d '\r' <"$f" |
				grep -E -i 'error|failed|Return value [03]|Action start.*(Register|Unregister|Configure)' |
				tail -30
		done
	fi
	exit "$rc"
}
trap cleanup EXIT

# Windows path (Z:\...) of a Linux path
winpath() { winepath -w "$1" 2>/dev/null; }

# reg_has KEY [NAME [REGEX]]: the key exists / has value NAME / matching REGEX
# ((Default) is NAME "(Default)").  `wine reg query` prints "NAME TYPE DATA".
reg_out() { wine reg query "$1" 2>/dev/null | tr -d '\r'; }
reg_has() {
	local out
	out=$(reg_out "$1") || return 1
	[ $# -ge 2 ] || return 0
	local line
	line=$(awk -v n="$2" '{ s = $0; sub(/^ +/, "", s) } index(s, n " ") == 1 { print s }' <<<"$out")
	[ -n "$line" ] || return 1
	[ $# -ge 3 ] || return 0
	grep -Eq -- "$3" <<<"$line"
}
reg_gone() { ! wine reg query "$1" >/dev/null 2>&1; }

IDS=provider/win/provider_ids.h
idstr() { sed -n "s/^#define $1 \"\\(.*\\)\"$/\\1/p" "$IDS"; }
PROVIDER_ID=$(idstr ARRAYSIM_PROVIDER_ID_STR)
CLSID=$(idstr ARRAYSIM_CLSID_STR)
APPID=$(idstr ARRAYSIM_APPID_STR)
VERSION_ID=$(idstr ARRAYSIM_PROVIDER_VERSION_ID_STR)
NAME=$(sed -n 's/^#define ARRAYSIM_PROVIDER_NAME L"\(.*\)"$/\1/p' "$IDS")
for v in PROVIDER_ID CLSID APPID VERSION_ID NAME; do
	[ -n "${!v}" ] || {
		echo "FAIL: cannot read $v from $IDS"
		exit 1
	}
done
PROV_KEY="HKLM\\SYSTEM\\CurrentControlSet\\Services\\VSS\\Providers\\$PROVIDER_ID"
CLSID_KEY="HKCR\\CLSID\\$CLSID"
APPID_KEY="HKCR\\AppID\\$APPID"
CFG_KEY='HKLM\SOFTWARE\arraysim\VssProvider'
EVT_KEY='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\arraysim-vss'
INST_DIR="$WINEPREFIX/drive_c/Program Files/arraysim/VSS Provider"
INST_DLL='C:\Program Files\arraysim\VSS Provider\arraysim-vss.dll'

# ---- prefix, fake coordinator ----
rm -rf "$WORK" && mkdir -p "$WORK"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	echo "# creating $WINEPREFIX (first run takes ~10 s)"
	wine wineboot -i >"$WORK/wineboot.out" 2>&1 || {
		cat "$WORK/wineboot.out"
		echo "FAIL: wineboot"
		exit 1
	}
fi
# a previous run may have been interrupted: start from an uninstalled state
wine msiexec /x "$(winpath "$MSI")" /qn >/dev/null 2>&1
wine reg delete "$PROV_KEY" /f >/dev/null 2>&1
wine reg delete "$CFG_KEY" /f >/dev/null 2>&1
cp "$FAKE" "$WORK/fakevss.dll"
check "regsvr32 fakevss.dll (CLSID_VSSCoordinator -> the IVssAdmin test double)" \
	wine regsvr32 /s "$(winpath "$WORK/fakevss.dll")"
check "  its InprocServer32 is fakevss.dll" reg_has \
	'HKCR\CLSID\{E579AB5F-1CC4-44B4-BED9-DE0991FF0623}\InprocServer32' '(Default)' 'fakevss\.dll$'

# provider_registered: the Providers key has the fixed ids, type and name
provider_registered() {
	reg_has "$PROV_KEY" '(Default)' "REG_SZ +$NAME\$" &&
		reg_has "$PROV_KEY" Type 'REG_DWORD +0x3$' &&
		reg_has "$PROV_KEY" Version 'REG_SZ +1\.0\.[01]\.0$' &&
		reg_has "$PROV_KEY" VersionId "REG_SZ +$VERSION_ID\$" &&
		reg_has "$PROV_KEY\\CLSID" '(Default)' "REG_SZ +$CLSID\$"
}

# ---- a) the registration tool against IVssAdmin ----
echo "== a) arraysim-vss-reg.exe register / unregister"
out=$(wine "$REG" register 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "register: exit 0 ($(tr -d '\r' <<<"$out"))" || fail "register: exit $rc: $out"
check "  Providers\\$PROVIDER_ID: name \"$NAME\", Type 3 (VSS_PROV_HARDWARE), VersionId, CLSID $CLSID" \
	provider_registered
out=$(wine "$REG" register 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q '0x80042303 (the provider is already registered)' <<<"$out"; then
	ok "register again: exit 1, VSS_E_PROVIDER_ALREADY_REGISTERED reported"
else
	fail "register again: exit $rc, expected 1 and 0x80042303: $out"
fi
check "  the registration is unchanged" provider_registered
out=$(wine "$REG" unregister 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "unregister: exit 0" || fail "unregister: exit $rc: $out"
check "  Providers\\$PROVIDER_ID gone" reg_gone "$PROV_KEY"
out=$(wine "$REG" unregister 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q '0x80042304 (the provider is not registered)' <<<"$out"; then
	ok "unregister again: exit 1, VSS_E_PROVIDER_NOT_REGISTERED reported"
else
	fail "unregister again: exit $rc, expected 1 and 0x80042304: $out"
fi

# ---- b) msiexec /i and /x ----
echo "== b) msiexec /i, /x"
KEYF=$WORK/control.key
# 64 hex digits, like arraysimd's control.key
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$KEYF" && echo >>"$KEYF"
MSIW=$(winpath "$MSI")
wine msiexec /i "$MSIW" /qn /l*v "$(winpath "$WORK/install.log")" \
	ARRAY_ADDRESS=127.0.0.1 ARRAY_PORT=3270 "KEY_FILE=$(winpath "$KEYF")" >"$WORK/install.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "msiexec /i ... ARRAY_ADDRESS ARRAY_PORT KEY_FILE: exit 0" ||
	fail "msiexec /i: exit $rc: $(tr -d '\r' <"$WORK/install.out")"
check "  files in Program Files\\arraysim\\VSS Provider" \
	test -s "$INST_DIR/arraysim-vss.dll" -a -s "$INST_DIR/arraysim-vss-reg.exe"
check "  installed DLL is the built one" cmp -s "$INST_DIR/arraysim-vss.dll" "$(dirname "$MSI")/arraysim-vss.dll"
check "  CLSID $CLSID: InprocServer32 = the installed DLL" \
	reg_has "$CLSID_KEY\\InprocServer32" '(Default)' "REG_SZ +${INST_DLL//\\/\\\\}\$"
check "  CLSID AppID = $APPID" reg_has "$CLSID_KEY" AppID "REG_SZ +$APPID\$"
check "  AppID DllSurrogate (empty: dllhost)" reg_has "$APPID_KEY" DllSurrogate 'REG_SZ *$'
check "  VSS Providers key registered (via the fake coordinator)" provider_registered
check "  config Address 127.0.0.1" reg_has "$CFG_KEY" Address 'REG_SZ +127\.0\.0\.1$'
check "  config Port 3270" reg_has "$CFG_KEY" Port 'REG_DWORD +0xcc6$'
check "  config ControlKey (DPAPI blob)" reg_has "$CFG_KEY" ControlKey 'REG_BINARY +01000000'
check "  config InstallDir" reg_has "$CFG_KEY" InstallDir 'VSS Provider\\$'
check "  event source arraysim-vss -> the installed DLL" \
	reg_has "$EVT_KEY" EventMessageFile "${INST_DLL//\\/\\\\}\$"
# the installed tool reads back what the MSI's config action stored
out=$(wine "$INST_DIR/arraysim-vss-reg.exe" show 2>&1 | tr -d '\r')
if grep -q '^address: *127\.0\.0\.1$' <<<"$out" && grep -q '^port: *3270$' <<<"$out" &&
	grep -q '^control key: *set (DPAPI-protected)$' <<<"$out"; then
	ok "  installed arraysim-vss-reg.exe show: address, port, key set"
else
	fail "  installed arraysim-vss-reg.exe show: $out"
fi

wine msiexec /x "$MSIW" /qn /l*v "$(winpath "$WORK/uninstall.log")" >"$WORK/uninstall.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "msiexec /x: exit 0" || fail "msiexec /x: exit $rc: $(tr -d '\r' <"$WORK/uninstall.out")"
check "  files gone" test ! -e "$INST_DIR/arraysim-vss.dll" -a ! -e "$INST_DIR/arraysim-vss-reg.exe"
check "  CLSID gone" reg_gone "$CLSID_KEY"
check "  AppID gone" reg_gone "$APPID_KEY"
check "  VSS Providers key gone" reg_gone "$PROV_KEY"
check "  event source gone" reg_gone "$EVT_KEY"
check "  InstallDir value gone" eval '! reg_has "$CFG_KEY" InstallDir'
# by design (docs/provider.md) the settings outlive the package, for
# a reinstall or an upgrade; the key stays DPAPI-protected
if reg_has "$CFG_KEY" ControlKey; then
	echo "note: $CFG_KEY keeps Address/Port/ControlKey after /x (by design)"
fi
wine reg delete "$CFG_KEY" /f >/dev/null 2>&1

# ---- c) a failing install leaves nothing registered ----
echo "== c) msiexec /i with a bad KEY_FILE fails and leaves nothing registered"
echo "not a key" >"$WORK/bad.key"
wine msiexec /i "$MSIW" /qn /l*v "$(winpath "$WORK/install-badkey.log")" \
	ARRAY_ADDRESS=127.0.0.1 "KEY_FILE=$(winpath "$WORK/bad.key")" >"$WORK/badkey.out" 2>&1
rc=$?
[ $rc -ne 0 ] && ok "msiexec /i with a bad key file: exit $rc (failed, as it must)" ||
	fail "msiexec /i with a bad key file: exit 0"
check "  files rolled back" test ! -e "$INST_DIR/arraysim-vss.dll"
check "  no VSS Providers key left" reg_gone "$PROV_KEY"
check "  no CLSID left" reg_gone "$CLSID_KEY"
wine reg delete "$CFG_KEY" /f >/dev/null 2>&1

# without a coordinator RegisterVss fails, as VSS fails it with
# E_INVALIDARG on client Windows: the install must fail and roll back:
# no files, no VSS registration.
echo "== c) msiexec /i without a VSS coordinator (a client OS) fails"
wine regsvr32 /u /s "$(winpath "$WORK/fakevss.dll")"
wine msiexec /i "$MSIW" /qn /l*v "$(winpath "$WORK/install-novss.log")" >"$WORK/novss.out" 2>&1
rc=$?
[ $rc -ne 0 ] && ok "msiexec /i without the coordinator: exit $rc (failed, as it must)" ||
	fail "msiexec /i without the coordinator: exit 0"
check "  files rolled back" test ! -e "$INST_DIR/arraysim-vss.dll"
check "  no VSS Providers key left" reg_gone "$PROV_KEY"
# The rollback actions (add-rollback.sh) ran: Windows Installer runs the
# rollback script in reverse, so regsvr32 /u finds the DLL still there.
# Wine's msi removes the files first and runs rollback custom actions
# after (its log: RemoveFiles, ..., RollbackRegisterCom, regsvr32 exit 3),
# so the COM class of the removed DLL can stay here: reported, not failed.
check "  rollback actions ran (RollbackRegisterVss, RollbackRegisterCom)" eval \
	'grep -q "Action start .*RollbackRegisterVss" "$WORK/install-novss.log" &&
	 grep -q "Action start .*RollbackRegisterCom" "$WORK/install-novss.log"'
if ! reg_gone "$CLSID_KEY"; then
	echo "note: CLSID $CLSID left: Wine ran RollbackRegisterCom after removing the DLL"
	wine regsvr32 /u /s "$(winpath "$(dirname "$MSI")/arraysim-vss.dll")" >/dev/null 2>&1
	wine reg delete "$CLSID_KEY" /f >/dev/null 2>&1
	wine reg delete "$APPID_KEY" /f >/dev/null 2>&1
	wine reg delete "$EVT_KEY" /f >/dev/null 2>&1
fi
check "regsvr32 fakevss.dll again" wine regsvr32 /s "$(winpath "$WORK/fakevss.dll")"

# ---- d) major upgrade: same package as 1.0.1.0 ----
echo "== d) major upgrade 1.0.0.0 -> 1.0.1.0"
sed 's/Version="1\.0\.0\.0"/Version="1.0.1.0"/' provider/win/installer/arraysim-vss.wxs >"$WORK/v101.wxs"
MSI2=$WORK/arraysim-vss-1.0.1.msi
# wixl wants File/@Source relative to the current directory (mk/lab.mk)
if wixl -a x64 -D BinDir="$(realpath --relative-to=. "$(dirname "$MSI")")" -o "$MSI2" \
	"$WORK/v101.wxs" >"$WORK/wixl.out" 2>&1; then
	wine msiexec /i "$MSIW" /qn ARRAY_ADDRESS=127.0.0.1 "KEY_FILE=$(winpath "$KEYF")" \
		>/dev/null 2>&1 || fail "upgrade: install 1.0.0.0"
	wine msiexec /i "$(winpath "$MSI2")" /qn /l*v "$(winpath "$WORK/upgrade.log")" \
		>"$WORK/upgrade.out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && ok "msiexec /i 1.0.1.0 over 1.0.0.0: exit 0" ||
		fail "upgrade: exit $rc: $(tr -d '\r' <"$WORK/upgrade.out")"
	check "  provider registered once more after the old version's unregister" provider_registered
	check "  CLSID registered, files present" eval \
		'reg_has "$CLSID_KEY\\InprocServer32" && test -s "$INST_DIR/arraysim-vss.dll"'
	check "  settings kept (ControlKey, Address)" eval \
		'reg_has "$CFG_KEY" ControlKey && reg_has "$CFG_KEY" Address "127\\.0\\.0\\.1"'
	wine msiexec /x "$(winpath "$MSI2")" /qn >/dev/null 2>&1
	rc=$?
	[ $rc -eq 0 ] && ok "msiexec /x 1.0.1.0: exit 0" || fail "msiexec /x 1.0.1.0: exit $rc"
	check "  nothing left: files, CLSID, Providers key" eval \
		'test ! -e "$INST_DIR/arraysim-vss.dll" && reg_gone "$CLSID_KEY" && reg_gone "$PROV_KEY"'
else
	fail "wixl 1.0.1.0: $(cat "$WORK/wixl.out")"
fi
wine reg delete "$CFG_KEY" /f >/dev/null 2>&1

echo "check-msi-wine: $N_PASS passed, $N_FAIL failed ($(($(date +%s) - T0)) s)"
[ "$N_FAIL" -eq 0 ]

#!/usr/bin/env bash
# check-msi.sh MSI: the MSI built by `make msi` has the tables and rows
# the installer needs (msitools' msiinfo).  Exits 1 with the table dump
# on the first missing row.
set -euo pipefail
msi=$1
fail() {
	echo "FAIL: $*"
	exit 1
}
[ -s "$msi" ] || fail "$msi missing or empty"
tables=$(msiinfo tables "$msi")
for t in File Component Registry CustomAction InstallExecuteSequence Property Media Upgrade; do
	grep -qx "$t" <<<"$tables" || fail "table $t missing (tables: $(echo $tables))"
done
echo "ok: tables present: File Component Registry CustomAction InstallExecuteSequence Property Media Upgrade"

# expect TABLE REGEX: one exported row of TABLE matches REGEX (tab-separated)
expect() {
	local t=$1 re=$2 dump
	dump=$(msiinfo export "$msi" "$t" | tr -d '\r')
	if ! grep -Eq -- "$re" <<<"$dump"; then
		echo "$dump"
		fail "$t: no row matches /$re/"
	fi
	echo "ok: $t: $re"
}
T=$'\t'
expect File "^ArraysimVssDll${T}ProviderDll${T}arraysim-vss.dll${T}[1-9]"
expect File "^ArraysimVssRegExe${T}RegTool${T}arraysim-vss-reg.exe${T}[1-9]"
expect Directory "^INSTALLDIR${T}ArraysimDir${T}VSS Provider"
expect Directory "^ArraysimDir${T}ProgramFiles64Folder${T}arraysim"
# 256 = msidbComponentAttributes64bit
expect Component "^ProviderDll${T}\\{[0-9A-F-]{36}\\}${T}INSTALLDIR${T}256${T}"
expect Registry "${T}2${T}SOFTWARE\\\\arraysim\\\\VssProvider${T}InstallDir${T}\\[INSTALLDIR\\]"
# types: 18 exe from installed file, 50 exe from property; +1024 deferred,
# +2048 no impersonation (LocalSystem), +64 ignore exit code
expect CustomAction "^RegisterCom${T}3122${T}REGSVR32${T}/s \"\\[#ArraysimVssDll\\]\""
expect CustomAction "^RegisterVss${T}3090${T}ArraysimVssRegExe${T}register${T}*$"
expect CustomAction "^ConfigureArray${T}3090${T}ArraysimVssRegExe${T}config --address \"\\[ARRAY_ADDRESS\\]\" --port \\[ARRAY_PORT\\] --key-file \"\\[KEY_FILE\\]\"${T}*$"
expect CustomAction "^UnregisterVss${T}3154${T}ArraysimVssRegExe${T}unregister${T}*$"
expect CustomAction "^UnregisterCom${T}3186${T}REGSVR32${T}/u /s"
expect CustomAction "^SetRegsvr32${T}[0-9]+${T}REGSVR32${T}\\[System64Folder\\]regsvr32.exe"
# rollback actions (type + 0x100), added by add-rollback.sh
expect CustomAction "^RollbackRegisterCom${T}3378${T}REGSVR32${T}/u /s"
expect CustomAction "^RollbackRegisterVss${T}3346${T}ArraysimVssRegExe${T}unregister${T}*$"
expect CustomAction "^RollbackUnregisterVss${T}3346${T}ArraysimVssRegExe${T}register${T}*$"
expect CustomAction "^RollbackUnregisterCom${T}3378${T}REGSVR32${T}/s"
expect Property "^ARRAY_PORT${T}3270$"
expect Property "^UpgradeCode${T}\\{4da2d1a5-753b-4da9-af5b-432e4695de54\\}$"

# order: deferred actions inside the script, register after the files,
# unregister before they go, old version removed before registration
seq=$(msiinfo export "$msi" InstallExecuteSequence | tr -d '\r')
num() { awk -F'\t' -v a="$1" '$1 == a { print $3 }' <<<"$seq"; }
lt() {
	local a b
	a=$(num "$1") b=$(num "$2")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || { echo "$seq"; fail "sequence: $1 ($a) must come before $2 ($b)"; }
	echo "ok: sequence $1 ($a) < $2 ($b)"
}
lt RemoveExistingProducts InstallInitialize
lt InstallInitialize UnregisterVss
lt UnregisterVss UnregisterCom
lt UnregisterCom RemoveFiles
# configuration first: the step that fails on bad input (KEY_FILE) comes
# before anything is registered
lt InstallFiles ConfigureArray
lt ConfigureArray RegisterCom
lt ConfigureArrayIqn RegisterCom
lt RegisterCom RegisterVss
lt RegisterVss InstallFinalize
# a rollback action comes just before the action it undoes
lt RollbackRegisterCom RegisterCom
lt ConfigureArrayIqn RollbackRegisterCom
lt RollbackRegisterVss RegisterVss
lt RegisterCom RollbackRegisterVss
lt RollbackUnregisterVss UnregisterVss
lt RollbackUnregisterCom UnregisterCom
lt UnregisterVss RollbackUnregisterCom
echo "check-msi: $msi ok"

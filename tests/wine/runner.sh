# shellcheck shell=bash
# The Linux side of the harness protocol (sourced, not run).
#
# wine_harness ARGS...  runs `wine vsscoord.exe ARGS...` behind two FIFOs.
# Every "@@RUN <command>" line it prints is run here with eval, in this
# shell (so commands may call this script's functions and change its
# state, e.g. stop and restart the daemon), stdin /dev/null, stderr to
# $WORK/hooks.err; its stdout lines go back to the harness, then
# "@@RC <status>".  Other lines are printed (ok/FAIL lines are counted),
# "@@TL" lines are also appended to $WORK/timeline, "@@MEM" to $WORK/mem.
#
# Needs: ROOT, BUILD, WORK, WINE (default wine), and functions pass/fail
# (counted).  Sets WINEPREFIX ($BUILD/wineprefix unless set) and WINEDEBUG.
# After the call: H_RC = the harness's exit status, H_SET = the last
# "@@SET" (the snapshot set id as the array shows it).

H_RC=0
H_SET=
VSSCOORD=${VSSCOORD:-$BUILD/win/vsscoord.exe}
VSS_DLL=$BUILD/win/arraysim-vss.dll
VSS_REGTOOL=$BUILD/win/arraysim-vss-reg.exe
case $BUILD in /*) _wp=$BUILD/wineprefix ;; *) _wp=$ROOT/$BUILD/wineprefix ;; esac
export WINEPREFIX=${WINEPREFIX:-$_wp} WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko install dialogs

winpath() { # Unix path -> Z:\... (Wine's view of /)
	local p
	p=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	echo "Z:${p//\//\\}"
}

# wine_provider_setup IQN [reg-tool config options...]: the provider in
# the prefix as an administrator would install it: COM self-registration
# (regsvr32), then the array's address, control port and key (DPAPI) and
# this host's initiator name (Wine has no iSCSI initiator service to ask).
# Needs PORT and DATA (tests/integration/lib.sh start_daemon).
wine_provider_setup() {
	local iqn=$1
	shift
	# (callers may run under set -e: wineboot's and wineserver's exit
	# codes are not errors here; a prefix without system.reg is)
	if [ ! -f "$WINEPREFIX/system.reg" ]; then
		echo "# creating the Wine prefix $WINEPREFIX"
		wineboot -i >>"$WORK/wine.err" 2>&1 || true
		wineserver -w 2>/dev/null || true
	fi
	if [ ! -f "$WINEPREFIX/system.reg" ]; then
		fail "Wine prefix $WINEPREFIX not created (see $WORK/wine.err)"
		return 1
	fi
	wineserver -p 60 2>/dev/null || true # one server for the wine processes that follow
	if wine regsvr32 /s "$(winpath "$VSS_DLL")" >>"$WORK/wine.err" 2>&1; then
		pass "regsvr32 arraysim-vss.dll (COM self-registration in the prefix)"
	else
		fail "regsvr32 arraysim-vss.dll"
	fi
	if wine "$VSS_REGTOOL" config --address 127.0.0.1 --port "$PORT" \
		--key-file "$(winpath "$DATA/control.key")" --iqn "$iqn" "$@" \
		>>"$WORK/wine.err" 2>&1; then
		pass "arraysim-vss-reg config (array 127.0.0.1:$PORT, initiator $iqn)"
	else
		fail "arraysim-vss-reg config"
	fi
}

wine_harness() {
	local line cmd rc out=$WORK/run.out
	local wine=${WINE:-wine}
	local to_h from_h hpid ended=0

	H_SET=
	# FIFOs, not a coproc: bash closes a coproc's descriptors when it
	# reaps the process, which cut off its last lines (a FAIL among them
	# would go uncounted) with "read: Bad file descriptor"
	rm -f "$WORK/harness.in" "$WORK/harness.out"
	mkfifo "$WORK/harness.in" "$WORK/harness.out"
	"$wine" "$VSSCOORD" "$@" <"$WORK/harness.in" >"$WORK/harness.out" 2>>"$WORK/wine.err" &
	hpid=$!
	exec {to_h}>"$WORK/harness.in" {from_h}<"$WORK/harness.out"
	while IFS= read -r line <&"$from_h"; do
		line=${line%$'\r'}
		case $line in
		"@@RUN "*)
			cmd=${line#@@RUN }
			echo "  \$ $cmd" >>"$WORK/hooks.err"
			if eval "$cmd" >"$out" 2>>"$WORK/hooks.err" </dev/null; then
				rc=0
			else
				rc=$?
			fi
			{
				cat "$out"
				echo "@@RC $rc"
			} >&"$to_h"
			;;
		"ok - "*)
			echo "$line"
			N_PASS=$((N_PASS + 1))
			;;
		"FAIL - "*)
			echo "$line"
			N_FAIL=$((N_FAIL + 1))
			;;
		"@@TL "*)
			echo "$line" >>"$WORK/timeline"
			echo "$line"
			;;
		"@@MEM "*)
			echo "$line" >>"$WORK/mem"
			echo "$line"
			;;
		"@@SET "*)
			H_SET=${line#@@SET }
			echo "$line"
			;;
		"@@END "*)
			ended=1
			echo "$line"
			;;
		*)
			echo "$line"
			;;
		esac
	done
	exec {to_h}>&- {from_h}<&-
	wait "$hpid"
	H_RC=$?
	rm -f "$WORK/harness.in" "$WORK/harness.out"
	if [ "$H_RC" -ne 0 ]; then
		fail "harness '$1' exited with status $H_RC"
	elif [ "$ended" -ne 1 ]; then
		fail "harness '$1': output ended before its @@END line"
	fi
}

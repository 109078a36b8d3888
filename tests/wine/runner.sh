# shellcheck shell=bash
# The Linux side of the harness protocol (sourced, not run).
#
# wine_harness ARGS...  runs `wine vsscoord.exe ARGS...` as a coprocess.
# Every "@@RUN <command>" line it prints is run here with eval, in this
# shell (so commands may call this script's functions and change its
# state, e.g. stop and restart the daemon), stdin /dev/null, stderr to
# $WORK/hooks.err; its stdout lines go back to the harness, then
# "@@RC <status>".  Other lines are printed (ok/FAIL lines are counted),
# "@@TL" lines are also appended to $WORK/timeline, "@@MEM" to $WORK/mem.
#
# Needs: WORK, VSSCOORD (path of vsscoord.exe), WINE (default wine), the
# WINEPREFIX/WINEDEBUG environment, and functions pass/fail (counted).
# After the call: H_RC = the harness's exit status, H_SET = the last
# "@@SET" (the snapshot set id as the array shows it).

H_RC=0
H_SET=

wine_harness() {
	local line cmd rc out=$WORK/run.out
	local wine=${WINE:-wine}

	H_SET=
	coproc VSSH { exec "$wine" "$VSSCOORD" "$@" 2>>"$WORK/wine.err"; }
	local to_h=${VSSH[1]} from_h=${VSSH[0]} hpid=$VSSH_PID
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
		*)
			echo "$line"
			;;
		esac
	done
	wait "$hpid"
	H_RC=$?
	if [ "$H_RC" -ne 0 ]; then
		fail "harness '$1' exited with status $H_RC"
	fi
}

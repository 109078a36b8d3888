# shellcheck shell=bash disable=SC2034,SC2120
# Shared helpers for the integration tests (sourced, not run).
#
# Each test script gets its own temporary data directory and daemon on a
# free 127.0.0.1 port; the EXIT trap kills whatever this script started
# (by pid) and removes the directory (IT_KEEP=1 keeps it, for debugging).  Results are "PASS: ..." and
# "FAIL: ..." lines; the script exits 1 if any check failed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ARRAYSIMD=$BUILD/bin/arraysimd
ARRAYCTL=$BUILD/bin/arrayctl
CHECKER=$BUILD/bin/arraysim-check
POOLTOOL=$BUILD/bin/arraysim-pool
ITEST_PROTO=${ITEST_PROTO:-$BUILD/itest/itest_proto}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/arraysim-it.XXXXXX")
DATA=$WORK/data
DAEMON_PID=
PORT=
BG_PIDS=()
N_PASS=0
N_FAIL=0

cleanup() {
	local p
	for p in "${BG_PIDS[@]}" $DAEMON_PID; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	if [ -n "${IT_KEEP:-}" ]; then
		echo "# kept $WORK (daemon.log, data/)" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() {
	echo "PASS: $*"
	N_PASS=$((N_PASS + 1))
}

fail() {
	echo "FAIL: $*"
	N_FAIL=$((N_FAIL + 1))
}

# ok DESCRIPTION COMMAND...: PASS if the command succeeds
ok() {
	local what=$1
	shift
	if "$@" >"$WORK/last.out" 2>"$WORK/last.err"; then
		pass "$what"
	else
		fail "$what (exit $?: $(head -c 300 "$WORK/last.err"))"
	fi
}

# ko DESCRIPTION PATTERN COMMAND...: PASS if the command fails and its
# stderr matches PATTERN (grep -E)
ko() {
	local what=$1 pat=$2 rc=0
	shift 2
	"$@" >"$WORK/last.out" 2>"$WORK/last.err" || rc=$?
	if [ "$rc" -ne 0 ] && grep -Eq "$pat" "$WORK/last.err"; then
		pass "$what"
	else
		fail "$what (exit $rc, stderr: $(head -c 300 "$WORK/last.err"))"
	fi
}

# is DESCRIPTION GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1 (got '$2', want '$3')"
	fi
}

finish() {
	echo "# $(basename "$0"): $N_PASS passed, $N_FAIL failed"
	[ "$N_FAIL" -eq 0 ]
}

ctl() {
	"$ARRAYCTL" --data-dir "$DATA" "$@"
}

# Values of KEY in arrayctl's pretty JSON on stdin, one per line.
jfield() {
	grep -o "\"$1\": *[^,]*" | sed -e 's/^[^:]*: *//' -e 's/^"//' -e 's/"$//'
}

now_ms() {
	date +%s%3N
}

# The daemon reads the port from the command line; the config file says
# the same so that `arrayctl --data-dir` alone finds it.
write_conf() {
	mkdir -p "$DATA"
	chmod 700 "$DATA"
	printf '[pool]\nsize = 4G\n\n[control]\nlisten = 127.0.0.1:%s\n' "$PORT" \
		>"$DATA/arraysimd.conf"
}

# start_daemon [extra arraysimd options]: start and wait until it answers;
# on a port clash pick another port and retry.
start_daemon() {
	for _ in 1 2 3 4 5 6; do
		if [ -z "$PORT" ]; then
			PORT=$((20000 + (($$ + RANDOM) % 10000)))
		fi
		write_conf
		# iSCSI portals on the next NPORTALS ports (the default 3260 may
		# be taken, and tests must not collide).
		ISCSI_PORT=$((PORT + 1))
		ISCSI_LISTEN=127.0.0.1:$ISCSI_PORT
		for i in $(seq 2 "${NPORTALS:-1}"); do
			ISCSI_LISTEN=$ISCSI_LISTEN,127.0.0.1:$((PORT + i))
		done
		"$ARRAYSIMD" --data-dir "$DATA" --foreground --control-listen "127.0.0.1:$PORT" \
			--iscsi-listen "$ISCSI_LISTEN" \
			--pool-size "${POOL_SIZE:-4G}" --log-level warn "$@" >>"$WORK/daemon.log" 2>&1 &
		DAEMON_PID=$!
		for _ in $(seq 200); do
			if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
				break
			fi
			if "$ARRAYCTL" --data-dir "$DATA" --retries 1 version >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.025
		done
		if kill -0 "$DAEMON_PID" 2>/dev/null; then
			kill -KILL "$DAEMON_PID"
		fi
		wait "$DAEMON_PID" 2>/dev/null || true
		DAEMON_PID=
		PORT= # probably taken by someone else: try another
	done
	echo "FAIL: cannot start arraysimd; log:" >&2
	tail -20 "$WORK/daemon.log" >&2
	return 1
}

# term_wait PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it
term_wait() {
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

stop_daemon() {
	local rc=0
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	return $rc
}

kill9_daemon() {
	kill -KILL "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
}

# column N of arrayctl's table for the row whose first column is NAME
col() {
	awk -v n="$2" -v name="$1" 'NR > 1 && $1 == name { print $n }'
}

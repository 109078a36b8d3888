#!/usr/bin/env bash
# The daemon half of `make demo` (until the VM lab demo exists): start
# arraysimd on an embedded default pool in build/demo-array/, create a LUN
# and a host through arrayctl, show status, and print how to reach it.
# KEEP=1 leaves the daemon running; otherwise it is stopped cleanly.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
DIR=$(pwd)/$BUILD/demo-array
PORT=${DEMO_CONTROL_PORT:-3270}
CTL="$BIN/arrayctl --data-dir $DIR"

for b in arraysimd arrayctl; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is missing; run make first" >&2; exit 2; }
done

if [ -f "$DIR/arraysimd.pid" ] && kill -0 "$(cat "$DIR/arraysimd.pid")" 2>/dev/null; then
  echo "demo: stopping the array left running by an earlier KEEP=1 demo"
  kill -TERM "$(cat "$DIR/arraysimd.pid")"
  sleep 1
fi
rm -rf "$DIR"
mkdir -p "$DIR"

"$BIN/arraysimd" --data-dir "$DIR" --foreground --control-listen "127.0.0.1:$PORT" \
  --iscsi-listen "127.0.0.1:${DEMO_ISCSI_PORT:-3260}" \
  >"$DIR/arraysimd.log" 2>&1 &
pid=$!
echo $pid >"$DIR/arraysimd.pid"
stop() {
  if [ "${KEEP:-0}" != 1 ] && kill -0 $pid 2>/dev/null; then
    kill -TERM $pid
    wait $pid || true
    echo "demo: array stopped (pool committed); KEEP=1 leaves it running"
  fi
}
trap stop EXIT

# The key and config appear before the listener; wait for the listener.
for _ in $(seq 100); do
  $CTL version >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$DIR/arraysimd.log"; exit 1; }
  sleep 0.1
done

step() { printf '\n$ arrayctl %s\n' "$*"; $CTL "$@" | sed 's/^/  /'; }
echo "== arraysimd on a default 64 GiB thin pool in $DIR"
step status
step lun create demo-lun --size 10G
step host create demo-host --iqn iqn.2026-11.org.arraysim:demo-initiator
step map demo-lun demo-host
step snapshot create demo-lun --name demo-snap
step lun list
step snapshot list

cat <<TXT

How to reach the array:
  iSCSI portal       127.0.0.1:${DEMO_ISCSI_PORT:-3260}   target iqn.2026-11.org.arraysim:array
                     (demo-lun is LUN 0 for initiator iqn.2026-11.org.arraysim:demo-initiator, e.g.
                      iscsi-ls -s -i iqn.2026-11.org.arraysim:demo-initiator iscsi://127.0.0.1:${DEMO_ISCSI_PORT:-3260})
  control protocol   127.0.0.1:$PORT   key: $DIR/control.key
  CLI                $BIN/arrayctl --data-dir $DIR <command>   (arrayctl --help)
  config             $DIR/arraysimd.conf
  log                $DIR/arraysimd.log
  audit log          $DIR/audit.log
TXT
if [ "${KEEP:-0}" = 1 ]; then
  echo "  the array keeps running (pid $pid); stop it with: kill $pid"
  trap - EXIT
fi

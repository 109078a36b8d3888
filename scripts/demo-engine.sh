#!/usr/bin/env bash
# make demo-engine: a short tour of the pool engine through build/bin/arraysim-pool.
#
# Makes a sparse 4 GiB pool in build/demo-engine/, writes patterned data to two
# volumes, takes a consistency-group snapshot, overwrites the originals and
# proves by SHA-256 that the snapshots kept the old data; then clones,
# diffs, reverts, lists space figures and runs the offline checker.
# Exits non-zero if any verification fails.  KEEP=1 keeps build/demo-engine/.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
DIR=$BUILD/demo-engine
POOL=$DIR/pool.img
AP=$BIN/arraysim-pool

for b in arraysim-pool arraysim-check; do
  if [ ! -x "$BIN/$b" ]; then
    echo "demo: $BIN/$b is missing; run make first" >&2
    exit 2
  fi
done

rm -rf "$DIR"
mkdir -p "$DIR"
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then
    echo "demo: kept $DIR (KEEP=1)"
  else
    rm -rf "$DIR"
  fi
}
trap cleanup EXIT

fails=0
checks=0
declare -a summary=()
t_start=$(date +%s%N)

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# run TITLE CMD...: print the command and its output, time it, stop on error.
run() {
  local title=$1 t0 rc=0
  shift
  printf '\n== %s\n$ %s\n' "$title" "$*"
  t0=$(date +%s%N)
  "$@" >"$DIR/out" 2>&1 || rc=$?
  sed 's/^/  /' "$DIR/out"
  local ms
  ms=$(ms_since "$t0")
  summary+=("$(printf '%6s ms  %s' "$ms" "$title")")
  if [ $rc -ne 0 ]; then
    echo "demo: FAILED ($rc): $*" >&2
    exit 1
  fi
}

# sha of the last command's output (first field of the digest line)
last_sha() { grep -oE '^[0-9a-f]{64}  ' "$DIR/out" | tail -n1 | tr -d ' '; }

# expect WHAT GOT WANT [equal|differ]
expect() {
  local what=$1 got=$2 want=$3 mode=${4:-equal} ok=0
  checks=$((checks + 1))
  if [ "$mode" = equal ] && [ "$got" = "$want" ] && [ -n "$got" ]; then ok=1; fi
  if [ "$mode" = differ ] && [ "$got" != "$want" ] && [ -n "$got" ]; then ok=1; fi
  if [ $ok = 1 ]; then
    echo "  CHECK ok: $what"
    summary+=("    ok     $what")
  else
    echo "  CHECK FAILED: $what (got '$got', $mode '$want')" >&2
    summary+=("    FAILED $what")
    fails=$((fails + 1))
  fi
}

L=16M          # bytes written per volume
run "create a sparse 4 GiB pool, 64 KiB chunks" "$AP" create "$POOL" --size 4G --chunk 64K
echo "  file size $(stat -c %s "$POOL") bytes, on disk $(du -k "$POOL" | cut -f1) KiB"
run "create volume db (1 GiB, 512 B blocks)" "$AP" vol-create "$POOL" db --size 1G --bs 512
run "create volume logs (1 GiB, 4 KiB blocks)" "$AP" vol-create "$POOL" logs --size 1G --bs 4096

run "write pattern 1 to db[0,16M)" "$AP" write "$POOL" db --offset 0 --pattern 1 --length "$L"
db_v1=$(last_sha)
run "write pattern 2 to logs[0,16M)" "$AP" write "$POOL" logs --offset 0 --pattern 2 --length "$L"
logs_v1=$(last_sha)
run "write pattern 3 to db[512M,+4M)" "$AP" write "$POOL" db --offset 512M --pattern 3 --length 4M

run "consistency-group snapshot of db and logs" "$AP" snapshot "$POOL" cg1 db logs

run "overwrite db[0,16M) with pattern 11" "$AP" write "$POOL" db --offset 0 --pattern 11 --length "$L"
db_v2=$(last_sha)
run "overwrite logs[0,16M) with pattern 12" "$AP" write "$POOL" logs --offset 0 --pattern 12 --length "$L"
logs_v2=$(last_sha)

run "read db (now)" "$AP" read "$POOL" db --offset 0 --length "$L"
expect "db reads the new data" "$(last_sha)" "$db_v2"
run "read snapshot cg1-db" "$AP" read "$POOL" cg1-db --offset 0 --length "$L"
expect "snapshot cg1-db still holds the old db data" "$(last_sha)" "$db_v1"
run "read snapshot cg1-logs" "$AP" read "$POOL" cg1-logs --offset 0 --length "$L"
expect "snapshot cg1-logs still holds the old logs data" "$(last_sha)" "$logs_v1"
run "read logs (now)" "$AP" read "$POOL" logs --offset 0 --length "$L"
expect "logs reads the new data" "$(last_sha)" "$logs_v2"

run "clone cg1-db as db-test" "$AP" clone "$POOL" cg1-db db-test
run "read clone db-test" "$AP" read "$POOL" db-test --offset 0 --length "$L"
expect "clone starts equal to its snapshot" "$(last_sha)" "$db_v1"
run "write pattern 21 to db-test[1M,+2M)" "$AP" write "$POOL" db-test --offset 1M --pattern 21 --length 2M
run "read clone db-test" "$AP" read "$POOL" db-test --offset 0 --length "$L"
expect "clone changed after its write" "$(last_sha)" "$db_v1" differ
run "read snapshot cg1-db" "$AP" read "$POOL" cg1-db --offset 0 --length "$L"
expect "snapshot unchanged by the clone's write" "$(last_sha)" "$db_v1"

run "diff cg1-db db-test" "$AP" diff "$POOL" cg1-db db-test
expect "diff snapshot/clone is exactly the 2 MiB written" \
  "$(awk '/^[0-9]+ ranges?, /{print $1, $3}' "$DIR/out")" "1 2M"
run "diff cg1-db db" "$AP" diff "$POOL" cg1-db db
expect "diff snapshot/origin is the 16 MiB overwritten" \
  "$(awk '/^[0-9]+ ranges?, /{print $3}' "$DIR/out")" "16M"

run "revert db to cg1-db" "$AP" revert "$POOL" db cg1-db
run "read db after revert" "$AP" read "$POOL" db --offset 0 --length "$L"
expect "db equals the snapshot after revert" "$(last_sha)" "$db_v1"
run "read db[512M,+4M) after revert" "$AP" read "$POOL" db --offset 512M --length 4M
run "read cg1-db[512M,+4M)" "$AP" read "$POOL" cg1-db --offset 512M --length 4M
snap_hi=$(last_sha)
run "read db[512M,+4M) again" "$AP" read "$POOL" db --offset 512M --length 4M
expect "db's second extent matches the snapshot too" "$(last_sha)" "$snap_hi"
run "diff db cg1-db after revert" "$AP" diff "$POOL" db cg1-db
expect "no differences after revert" "$(awk '/^[0-9]+ ranges?, /{print $1}' "$DIR/out")" "0"

run "list volumes and snapshots with space figures" "$AP" list "$POOL"
run "pool statistics" "$AP" stat "$POOL"
run "offline check (arraysim-check)" "$BIN/arraysim-check" "$POOL"
expect "arraysim-check finds no fault" "$(grep -c '^fault:' "$DIR/out" || true)" "0"

echo "  pool file $(stat -c %s "$POOL") bytes virtual, $(du -k "$POOL" | cut -f1) KiB on disk"

total=$(ms_since "$t_start")
printf '\n== summary\n'
printf '%s\n' "${summary[@]}"
printf 'demo: %d/%d checks passed in %d ms\n' $((checks - fails)) "$checks" "$total"
[ $fails -eq 0 ]

#!/usr/bin/env bash
# make bench: run the benchmarks and record their tables in docs/performance.md.
#
# The engine benchmark's markdown goes under the heading "## Engine
# (in-process)" with the exact command, date and machine.  Any other "## "
# sections already in the file (e.g. iSCSI vs tgt) are kept as they are.
# BENCH_ARGS is passed to bench_engine (e.g. BENCH_ARGS=--quick).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DOC=docs/performance.md
HEADING="## Engine (in-process)"
BENCH=$BUILD/bench/bench_engine
TMPDIR_BENCH=$BUILD/bench-tmp

if [ ! -x "$BENCH" ]; then
  echo "bench: $BENCH is missing; run make bench" >&2
  exit 2
fi

mkdir -p "$TMPDIR_BENCH" docs
table=$(mktemp)
section=$(mktemp)
trap 'rm -f "$table" "$section"; [ -z "${FAST_DIR:-}" ] || rm -rf "$FAST_DIR"' EXIT

# BENCH_ARGS is a list of words on purpose, hence unquoted.
# shellcheck disable=SC2206
args=(${BENCH_ARGS:-} --dir "$TMPDIR_BENCH")
# Snapshot latency is repeated with the pool on tmpfs, where a flush costs
# nothing, to separate the engine's own cost from the disk's.
FAST_DIR=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  FAST_DIR=/dev/shm/arraysim-bench
  args+=(--fast-dir "$FAST_DIR")
fi
cmd="$BENCH ${args[*]}"
echo "bench: $cmd"
start=$(date +%s)
"$BENCH" "${args[@]}" --out "$table" >/dev/null
secs=$(( $(date +%s) - start ))

cpu=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || true)
fs=$(df -T "$TMPDIR_BENCH" 2>/dev/null | awk 'NR==2{print $2}')
{
  echo "$HEADING"
  echo
  echo "- Command: \`$cmd\` (via \`make bench\`, ${secs} s)"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, ${mem:-? RAM}, pool files on ${fs:-?}," \
       "kernel $(uname -r)"
  echo "- Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo
  cat "$table"
} >"$section"

# Replace the engine section (heading up to the next "## " heading) or
# append it; everything else in the file is copied unchanged.
if [ -f "$DOC" ]; then
  awk -v heading="$HEADING" -v secfile="$section" '
    function emit(   line) { while ((getline line < secfile) > 0) print line; done = 1 }
    $0 == heading { emit(); skip = 1; next }
    skip && /^## / { skip = 0 }
    !skip { print }
    END { if (!done) { print ""; emit() } }
  ' "$DOC" >"$DOC.new"
  mv "$DOC.new" "$DOC"
else
  {
    echo "# Performance"
    echo
    echo "Measured numbers only; each section records how it was produced."
    echo "Regenerate with \`make bench\`."
    echo
    cat "$section"
  } >"$DOC"
fi
echo "bench: wrote $HEADING to $DOC"

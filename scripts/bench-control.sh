#!/usr/bin/env bash
# make bench / make bench-control: run the control-plane benchmark
# (build/bench/bench_snapset) and record its table in docs/performance.md
# under "## Control plane", between the markers
#   <!-- control-bench:start --> ... <!-- control-bench:end -->
# Only that span is replaced; the rest of the file (scripts/bench.sh's
# engine section, anything else) is left as it is.  The file is created
# if absent.  BENCH_CONTROL_ARGS is passed to bench_snapset.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DOC=docs/performance.md
BENCH=$BUILD/bench/bench_snapset
TMPDIR_BENCH=$BUILD/bench-tmp
START='<!-- control-bench:start -->'
END='<!-- control-bench:end -->'

if [ ! -x "$BENCH" ]; then
	echo "bench-control: $BENCH is missing; run make bench-control" >&2
	exit 2
fi
mkdir -p "$TMPDIR_BENCH" docs
table=$(mktemp)
section=$(mktemp)
trap 'rm -f "$table" "$section" "$DOC.new"' EXIT

# BENCH_CONTROL_ARGS is a list of words on purpose, hence unquoted.
# shellcheck disable=SC2206
args=(${BENCH_CONTROL_ARGS:-} --dir "$TMPDIR_BENCH")
cmd="$BENCH ${args[*]}"
echo "bench-control: $cmd"
load=$(cut -d" " -f1-3 /proc/loadavg)
start=$(date +%s)
rc=0
"$BENCH" "${args[@]}" --out "$table" || rc=$?
secs=$(($(date +%s) - start))
if [ ! -s "$table" ]; then
	echo "bench-control: no results (exit $rc)" >&2
	exit 1
fi

cpu=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
fs=$(df -T "$TMPDIR_BENCH" 2>/dev/null | awk 'NR==2{print $2}')
{
	echo "$START"
	echo
	echo "- Command: \`$cmd\` (via \`make bench\` / \`make bench-control\`, ${secs} s)"
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, pool file on ${fs:-?}, kernel $(uname -r);" \
		"load average ${load} when it started (a shared machine adds noise)"
	echo "- Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "- Percentiles are nearest-rank over the measured rounds (of 100 rounds p99 is the second highest, of 30 the highest)."
	echo
	cat "$table"
	echo
	echo "$END"
} >"$section"

if [ ! -f "$DOC" ]; then
	{
		echo "# Performance"
		echo
		echo "Measured numbers only; each section records how it was produced."
		echo "Regenerate with \`make bench\`."
	} >"$DOC"
fi
if grep -qF "$START" "$DOC" && grep -qF "$END" "$DOC"; then
	awk -v start="$START" -v end="$END" -v secfile="$section" '
		$0 == start { while ((getline line < secfile) > 0) print line; skip = 1; next }
		skip && $0 == end { skip = 0; next }
		!skip { print }
	' "$DOC" >"$DOC.new"
else
	# The heading comes first and the markers inside it, so that
	# scripts/bench.sh (which replaces "## " sections it owns) ends its
	# section at our heading and never eats the start marker.
	{
		cat "$DOC"
		echo
		echo "## Control plane"
		echo
		cat "$section"
	} >"$DOC.new"
fi
mv "$DOC.new" "$DOC"
echo "bench-control: wrote the Control plane section of $DOC"
# A missed target is reported in the table (and here), not by failing
# `make bench`, which still has the other benchmarks to record.
if [ "$rc" -ne 0 ]; then
	echo "bench-control: WARNING: the 50 ms p99 target was missed (see $DOC)" >&2
fi

#!/usr/bin/env bash
# iSCSI data-path benchmark: arraysimd against Debian's tgt, in one run.
#
# Both targets serve a 1 GiB LUN holding the same data, on loopback.  The
# same workloads run against each, one after the other, then against the
# local file as the ceiling:
#   qemu-img bench  4 KiB strided read, QD32     4 KiB strided write, QD32
#                   1 MiB sequential read, QD8   1 MiB sequential write, QD8
#   iscsi-perf      random read (libiscsi), 32 requests in flight
# "Strided": qemu-img bench has no random mode; a step of 4 KiB x 2053 (a
# prime) modulo the image size visits every 4 KiB block in a scattered
# order.  iscsi-perf moves 8 blocks (4 KiB) per request.  Writes go to the
# same data on both targets.  Prints a markdown
# table and, with --doc, writes it into docs/performance.md between the
# iscsi-bench markers.  ROUNDS=N repeats each workload (median kept).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/arraysim-bench.XXXXXX")
SIZE_MB=1024
ROUNDS=${ROUNDS:-3}
DOC=
[ "${1:-}" = --doc ] && DOC=$ROOT/docs/performance.md
QIQN=iqn.2008-11.org.linux-kvm
PIQN=iqn.2010-11.ru.ru:iscsi-perf
AIQN=iqn.2026-11.org.arraysim:array
TIQN=iqn.2026-11.org.arraysim:tgt-peer
BASE=$((30000 + RANDOM % 20000))
A_CTL=$BASE A_ISCSI=$((BASE + 1)) T_PORT=$((BASE + 2)) T_CTL=$((BASE % 1000 + 100))
A_PID= T_PID=

cleanup() {
	if [ -n "$A_PID" ]; then
		kill -TERM "$A_PID" 2>/dev/null || true
		wait "$A_PID" 2>/dev/null || true
	fi
	if [ -n "$T_PID" ]; then
		# tgtd ignores SIGTERM while it has targets: ask it, then insist.
		tgtadm -C $T_CTL --mode system --op delete --force >/dev/null 2>&1 || true
		sleep 0.5
		kill -KILL "$T_PID" 2>/dev/null || true
		wait "$T_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

for t in qemu-img iscsi-perf tgtd tgtadm; do
	command -v $t >/dev/null || { echo "bench-iscsi: $t missing (make deps)" >&2; exit 2; }
done

echo "bench-iscsi: preparing ${SIZE_MB} MiB of data" >&2
head -c $((SIZE_MB << 20)) /dev/urandom >"$WORK/data.img"
cp --sparse=never "$WORK/data.img" "$WORK/tgt.img"

# arraysimd
"$BUILD/bin/arraysimd" --data-dir "$WORK/array" --foreground --control-listen 127.0.0.1:$A_CTL \
	--iscsi-listen 127.0.0.1:$A_ISCSI --pool-size 8G --log-level warn >"$WORK/arraysimd.log" 2>&1 &
A_PID=$!
CTL="$BUILD/bin/arrayctl --data-dir $WORK/array"
for _ in $(seq 100); do $CTL version >/dev/null 2>&1 && break; sleep 0.1; done
$CTL lun create bench --size ${SIZE_MB}M >/dev/null
$CTL host create bench --iqn $QIQN >/dev/null
$CTL host add-iqn bench $PIQN >/dev/null
$CTL map bench bench --lun 0 >/dev/null
A_URL=iscsi://127.0.0.1:$A_ISCSI/$AIQN/0
qemu-img convert -n -f raw -O raw "$WORK/data.img" "$A_URL"

# tgt: its own control socket number, a file LUN with the same data.
tgtd -f -C $T_CTL --iscsi portal=127.0.0.1:$T_PORT >"$WORK/tgtd.log" 2>&1 &
T_PID=$!
for _ in $(seq 100); do tgtadm -C $T_CTL --mode sys --op show >/dev/null 2>&1 && break; sleep 0.1; done
tgtadm -C $T_CTL --lld iscsi --mode target --op new --tid 1 --targetname $TIQN
tgtadm -C $T_CTL --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$WORK/tgt.img"
tgtadm -C $T_CTL --lld iscsi --mode target --op bind --tid 1 --initiator-address ALL
T_URL=iscsi://127.0.0.1:$T_PORT/$TIQN/1

# qemu-img bench prints "Run completed in X seconds."; IOPS = count / X.
qbench() { # URL|FILE COUNT DEPTH SIZE STEP [-w]
	local target=$1 count=$2 depth=$3 size=$4 step=$5 s
	shift 5
	s=$(qemu-img bench -f raw -c "$count" -d "$depth" -s "$size" -S "$step" "$@" "$target" 2>&1 |
		awk '/Run completed in/ {print $4}')
	[ -n "$s" ] || { echo 0; return; }
	awk -v c="$count" -v s="$s" 'BEGIN { printf "%.0f\n", c / s }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
run() { # NAME TARGET ARGS... -> median IOPS of ROUNDS
	local name=$1 target=$2 i
	shift 2
	for i in $(seq "$ROUNDS"); do
		qbench "$target" "$@"
	done | median
}
pbench() { # URL -> average IOPS from iscsi-perf's final line
	timeout 30 iscsi-perf -i $PIQN -t 5 -r -m 32 -b 8 "$1" 2>&1 | tr '\r' '\n' |
		awk '/iops average/ { for (i = 1; i < NF; i++) if ($i == "average") v = $(i + 1) }
		END { print v + 0 }'
}

STEP4K=$((4096 * 2053))
declare -A R
workloads=("4k-read" "4k-write" "1m-read" "1m-write")
for w in "${workloads[@]}"; do
	case $w in
	4k-read) args=(150000 32 4k $STEP4K) ;;
	4k-write) args=(100000 32 4k $STEP4K -w) ;;
	1m-read) args=(6000 8 1M 1M) ;;
	1m-write) args=(3000 8 1M 1M -w) ;;
	esac
	echo "bench-iscsi: $w" >&2
	R[$w,a]=$(run "$w" "$A_URL" "${args[@]}")
	R[$w,t]=$(run "$w" "$T_URL" "${args[@]}")
	R[$w,f]=$(run "$w" "$WORK/data.img" "${args[@]}")
done
echo "bench-iscsi: iscsi-perf" >&2
R[perf,a]=$(pbench "$A_URL")
R[perf,t]=$(pbench "$T_URL")

table() {
	local w unit
	echo "| workload | arraysimd | tgt | arraysimd / tgt | local file (ceiling) | arraysimd / ceiling |"
	echo "|---|---:|---:|---:|---:|---:|"
	for w in "${workloads[@]}" perf; do
		case $w in
		4k-read) label="qemu-img bench 4 KiB strided read, QD32" ;;
		4k-write) label="qemu-img bench 4 KiB strided write, QD32" ;;
		1m-read) label="qemu-img bench 1 MiB sequential read, QD8" ;;
		1m-write) label="qemu-img bench 1 MiB sequential write, QD8" ;;
		perf) label="iscsi-perf random read, 32 in flight, 4 KiB" ;;
		esac
		case $w in 1m-*) unit=MB/s ;; *) unit=IOPS ;; esac
		awk -v l="$label" -v u="$unit" -v a="${R[$w,a]}" -v t="${R[$w,t]}" -v f="${R[$w,f]:-}" 'BEGIN {
			m = (u == "MB/s") ? 1.048576 : 1
			fs = (f == "") ? "-" : sprintf("%.0f %s", f * m, u)
			fr = (f == "" || f == 0) ? "-" : sprintf("%.2f", a / f)
			printf "| %s | %.0f %s | %.0f %s | **%.2fx** | %s | %s |\n", l, a * m, u, t * m, u,
				(t > 0 ? a / t : 0), fs, fr }'
	done
}
out=$(table)
echo "$out"
if [ -n "$DOC" ]; then
	{
		echo "<!-- iscsi-bench:start -->"
		echo "Command: \`make bench\` (scripts/bench-iscsi.sh --doc), $(date -u +%Y-%m-%dT%H:%MZ)," \
			"$(nproc) CPUs ($(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //')),"
		echo "load average at start $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
		echo "1 GiB LUN on each target with the same data; median of $ROUNDS runs per cell;"
		echo "tgt $(dpkg-query -W -f='${Version}' tgt 2>/dev/null) with a file LUN; the local file through qemu-img's default cache (the page cache), as the ceiling."
		echo
		echo "$out"
		echo "<!-- iscsi-bench:end -->"
	} >"$WORK/section.md"
	touch "$DOC"
	if grep -q "<!-- iscsi-bench:start -->" "$DOC"; then
		awk -v f="$WORK/section.md" '
			/<!-- iscsi-bench:start -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
			/<!-- iscsi-bench:end -->/ { skip = 0; next }
			!skip' "$DOC" >"$WORK/doc.new" && cp "$WORK/doc.new" "$DOC"
	else
		{ echo; echo "## iSCSI data path: arraysimd vs tgt"; echo; cat "$WORK/section.md"; } >>"$DOC"
	fi
fi

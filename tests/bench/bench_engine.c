/*
 * bench_engine: in-process benchmark of the pool engine on a sparse file.
 *
 *   bench_engine [--quick] [--out FILE] [--dir DIR] [--keep]
 *
 * Measures
 *  1. snapshot creation latency (commit included) on 1 GiB, 1 TiB and
 *     16 TiB volumes holding data, with 0, 100 and 1,000 existing
 *     snapshots, and for a 64-volume consistency group;
 *  2. 4 KiB random-write IOPS with 0, 1, 10 and 100 snapshots, first write
 *     into a shared chunk (copy-on-write) and steady state separately;
 *  3. the same write figures and metadata bytes per chunk for chunk sizes
 *     16K..128K, to choose the default chunk size from data;
 *  4. metadata bytes per allocated chunk and process RAM.
 *
 * Output is a markdown report on stdout (and FILE with --out); progress
 * goes to stderr.  Every pool lives in DIR (default build/bench-tmp) as a
 * 64 GiB sparse file and is removed after use unless --keep.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "bdev.h"
#include "pool.h"

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)

#define POOL_FILE_SIZE (64 * GiB)
#define IO_SIZE	       4096u
#define COMMIT_EVERY   1000 /* writes between explicit pool_commit() calls */
#define GROUP_VOLS     64

/* ---- configuration ------------------------------------------------------ */

struct cfg {
	int quick;
	int keep;
	const char *dir;
	const char *out;
	const char *fast_dir;	/* also time snapshots with pools here (tmpfs) */
	unsigned snap_samples;	/* timed snapshots per cell */
	unsigned group_samples; /* timed group snapshots per cell */
	double write_secs;	/* steady-state duration per IOPS cell */
	double cow_secs;	/* cap on the first-write (CoW) phase */
	uint64_t iops_region;	/* bytes of volume written and then hit */
	uint64_t scatter_bytes; /* data written into the snapshot volumes */
	double setup_budget;	/* seconds allowed to build one cell's history */
	double group_budget;	/* the same for the 64-volume group */
};

static struct cfg C = {
    .dir = "build/bench-tmp",
    .snap_samples = 50,
    .group_samples = 20,
    .write_secs = 2.0,
    .cow_secs = 5.0,
    .iops_region = 1 * GiB,
    .scatter_bytes = 64 * MiB,
    .setup_budget = 120.0,
    .group_budget = 60.0,
};

/* ---- small helpers ---------------------------------------------------------- */

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_engine: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

/* xorshift64*: fast, and deterministic so runs are comparable. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The report is built in memory and written to stdout and --out at the end. */
static char *report;
static size_t report_len, report_cap;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (report_len + n + 1 > report_cap) {
		report_cap = (report_len + n + 1) * 2;
		report = realloc(report, report_cap);
		if (!report)
			die("report", -ENOMEM);
	}
	va_start(ap, fmt);
	vsnprintf(report + report_len, n + 1, fmt, ap);
	va_end(ap);
	report_len += n;
}

/* ---- samples ------------------------------------------------------------- */

struct samples {
	double *v;
	size_t n, cap;
};

static void sample_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("samples", -ENOMEM);
	}
	s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile (q in 0..1); sorts in place. */
static double pct(struct samples *s, double q)
{
	size_t k;

	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	k = (size_t)(q * s->n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > s->n)
		k = s->n;
	return s->v[k - 1];
}

static void sample_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- memory ---------------------------------------------------------------- */

/* VmRSS / VmHWM of this process in KiB (0 if unavailable). */
static void mem_kib(unsigned long *rss, unsigned long *hwm)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*rss = *hwm = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*rss = strtoul(line + 6, NULL, 10);
		else if (!strncmp(line, "VmHWM:", 6))
			*hwm = strtoul(line + 6, NULL, 10);
	}
	fclose(f);
}

/* ---- pool setup ---------------------------------------------------------- */

struct bpool {
	char path[512];
	struct bdev *bd;
	struct pool *p;
	uint32_t chunk;
};

static void bpool_open(struct bpool *b, const char *tag, uint32_t chunk)
{
	struct pool_create_opts co = {.chunk_size = chunk};
	/* No timer thread: the benchmark commits explicitly so the cost of
	 * each commit lands where it is stated. */
	struct pool_open_opts oo = {.commit_interval_ms = 0};
	int rc;

	snprintf(b->path, sizeof(b->path), "%s/%s.pool", C.dir, tag);
	unlink(b->path);
	rc = bdev_file_open(b->path, POOL_FILE_SIZE, 1, &b->bd);
	if (rc)
		die(b->path, rc);
	rc = pool_create(b->bd, &co);
	if (rc)
		die("pool_create", rc);
	rc = pool_open(b->bd, &oo, &b->p);
	if (rc)
		die("pool_open", rc);
	b->chunk = chunk ? chunk : POOL_DEFAULT_CHUNK;
}

/* Largest metadata cache seen (pool_stat.cache_bytes before each close). */
static uint64_t max_cache_bytes;

static void bpool_close(struct bpool *b)
{
	struct pool_stat st;
	int rc;

	if (!pool_stat(b->p, &st) && st.cache_bytes > max_cache_bytes)
		max_cache_bytes = st.cache_bytes;
	rc = pool_close(b->p);

	if (rc)
		die("pool_close", rc);
	bdev_destroy(b->bd);
	if (!C.keep)
		unlink(b->path);
}

static void commit(struct bpool *b)
{
	int rc = pool_commit(b->p);

	if (rc)
		die("pool_commit", rc);
}

/* Metadata bytes per allocated data chunk, from pool_stat. */
static double meta_per_chunk(struct bpool *b)
{
	struct pool_stat st;
	int rc = pool_stat(b->p, &st);
	uint64_t used;

	if (rc)
		die("pool_stat", rc);
	used = st.data_chunks - st.free_chunks;
	if (!used)
		return 0;
	return (double)(st.meta_blocks - st.free_meta_blocks) * 4096.0 / (double)used;
}

static uint64_t make_vol(struct bpool *b, const char *name, uint64_t size)
{
	uint64_t id;
	int rc = vol_create(b->p, name, size, 512, &id);

	if (rc)
		die("vol_create", rc);
	return id;
}

static void write_or_die(struct bpool *b, uint64_t vol, uint64_t off, uint64_t len, const void *buf)
{
	int rc = vol_write(b->p, vol, off, len, buf, 0);

	if (rc) {
		fprintf(stderr, "bench_engine: vol_write(%" PRIu64 ", %" PRIu64 "): %s\n", off, len,
			strerror(-rc));
		exit(1);
	}
}

static uint8_t *data_buf(size_t len)
{
	uint8_t *buf = aligned_alloc(4096, len);

	if (!buf)
		die("buffer", -ENOMEM);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = rnd();

		memcpy(buf + i, &r, 8);
	}
	return buf;
}

/*
 * Spread bytes of data evenly over a volume's whole virtual range: one
 * chunk-sized extent at a random chunk inside each of bytes/chunk equal
 * strides, so the mapping tree has leaves all across the address space
 * (the worst case for metadata per chunk, a realistic one for snapshots).
 */
static void scatter_write(struct bpool *b, uint64_t vol, uint64_t size, uint64_t bytes)
{
	uint64_t n = bytes / b->chunk, stride = size / n;
	uint8_t *buf = data_buf(b->chunk);

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = i * stride + rnd() % (stride / b->chunk) * b->chunk;

		write_or_die(b, vol, off, b->chunk, buf);
		if (i % COMMIT_EVERY == COMMIT_EVERY - 1)
			commit(b);
	}
	commit(b);
	free(buf);
}

/* Write [0, len) sequentially so every chunk in it is allocated. */
static void fill(struct bpool *b, uint64_t vol, uint64_t len)
{
	const size_t step = 1 * MiB;
	uint8_t *buf = data_buf(step);

	for (uint64_t off = 0; off < len; off += step)
		write_or_die(b, vol, off, step, buf);
	commit(b);
	free(buf);
}

/* A few 4K writes at random places: makes snapshots differ from each other. */
static void touch(struct bpool *b, uint64_t vol, uint64_t size, unsigned n, const void *buf)
{
	for (unsigned i = 0; i < n; i++)
		write_or_die(b, vol, rnd() % (size / IO_SIZE) * IO_SIZE, IO_SIZE, buf);
}

/* ---- 1. snapshot latency ------------------------------------------------------ */

struct cell {
	int done;
	double med, p99; /* ms */
	unsigned n;
	unsigned reached; /* history built when the budget ran out */
	double budget;
};

static const unsigned hist_counts[3] = {0, 100, 1000};

static void fmt_cell(const struct cell *c, char *buf, size_t len)
{
	if (!c->done && c->budget)
		snprintf(buf, len, "not reached: %u in %.0f s", c->reached, c->budget);
	else if (!c->done)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f / %.2f", c->med, c->p99);
}

/*
 * One timed sample = create a snapshot (the engine commits inside the
 * call).  The snapshot is then deleted, untimed, so the count of existing
 * snapshots stays at the cell's figure for every sample.
 */
static void time_snapshots(struct bpool *b, unsigned nvol, const uint64_t *vols, unsigned samples,
			   struct cell *c)
{
	struct samples s = {0};
	uint64_t ids[GROUP_VOLS];
	char names[GROUP_VOLS][32];
	const char *np[GROUP_VOLS];
	int rc;

	static unsigned serial; /* names are never reused, even after delete */

	for (unsigned i = 0; i < samples; i++) {
		double t0;

		serial++;
		for (unsigned v = 0; v < nvol; v++) {
			snprintf(names[v], sizeof(names[v]), "t%u-%u", serial, v);
			np[v] = names[v];
		}
		/* Start from a committed pool: the figure is the snapshot's
		 * own cost, not that of flushing earlier writes. */
		commit(b);
		t0 = now_s();
		if (nvol == 1)
			rc = vol_snapshot(b->p, vols[0], np[0], &ids[0]);
		else
			rc = vol_snapshot_group(b->p, nvol, vols, np, ids);
		sample_add(&s, (now_s() - t0) * 1e3);
		if (rc)
			die("snapshot", rc);
		for (unsigned v = 0; v < nvol; v++) {
			rc = vol_delete(b->p, ids[v]);
			if (rc)
				die("vol_delete", rc);
		}
	}
	commit(b);
	c->done = 1;
	c->n = samples;
	c->med = pct(&s, 0.5);
	c->p99 = pct(&s, 0.99);
	sample_free(&s);
}

/*
 * Grow the history of the volume(s) to target snapshots, writing a few 4K
 * blocks before each so that every snapshot has its own metadata.
 * Returns 0, or -ETIME when the setup budget ran out.
 */
static int grow_history(struct bpool *b, unsigned nvol, const uint64_t *vols, uint64_t vsize,
			unsigned *have, unsigned target, const void *buf, double t_start,
			double budget)
{
	char names[GROUP_VOLS][32];
	const char *np[GROUP_VOLS];
	uint64_t ids[GROUP_VOLS];
	int rc;

	while (*have < target) {
		/* A group touches one member per snapshot, in turn: enough
		 * to make the snapshots differ without copying GiBs. */
		touch(b, vols[*have % nvol], vsize, nvol == 1 ? 4 : 1, buf);
		for (unsigned v = 0; v < nvol; v++) {
			snprintf(names[v], sizeof(names[v]), "h%u-%u", *have, v);
			np[v] = names[v];
		}
		if (nvol == 1)
			rc = vol_snapshot(b->p, vols[0], np[0], &ids[0]);
		else
			rc = vol_snapshot_group(b->p, nvol, vols, np, ids);
		if (rc)
			die("snapshot (history)", rc);
		(*have)++;
		if (*have < target && now_s() - t_start > budget)
			return -ETIME;
	}
	return 0;
}

struct snap_row {
	char label[64];
	char data[64];
	double meta_per_chunk;
	struct cell cell[3];
};

static void bench_snap_single(uint64_t vsize, const char *label, struct snap_row *row)
{
	struct bpool b;
	uint64_t vol;
	unsigned have = 0;
	uint8_t *buf = data_buf(IO_SIZE);
	char tag[32];
	double t_start;

	snprintf(tag, sizeof(tag), "snap-%s", label);
	progress("snapshot latency, %s volume", label);
	bpool_open(&b, tag, 0);
	vol = make_vol(&b, "v", vsize);
	scatter_write(&b, vol, vsize, C.scatter_bytes);
	snprintf(row->label, sizeof(row->label), "%s volume", label);
	snprintf(row->data, sizeof(row->data), "%" PRIu64 " MiB in %" PRIu64 " chunks",
		 C.scatter_bytes / MiB, C.scatter_bytes / b.chunk);
	row->meta_per_chunk = meta_per_chunk(&b);

	t_start = now_s();
	for (int k = 0; k < 3; k++) {
		if (grow_history(&b, 1, &vol, vsize, &have, hist_counts[k], buf, t_start,
				 C.setup_budget)) {
			row->cell[k].reached = have;
			row->cell[k].budget = C.setup_budget;
			break;
		}
		commit(&b);
		progress("  %u existing snapshots (setup %.1f s): timing %u", have,
			 now_s() - t_start, C.snap_samples);
		time_snapshots(&b, 1, &vol, C.snap_samples, &row->cell[k]);
	}
	bpool_close(&b);
	free(buf);
}

static void bench_snap_group(struct snap_row *row)
{
	const uint64_t vsize = 1 * GiB, per_vol = C.quick ? 1 * MiB : 4 * MiB;
	uint64_t vols[GROUP_VOLS];
	struct bpool b;
	unsigned have = 0;
	uint8_t *buf = data_buf(IO_SIZE);
	double t_start;

	progress("snapshot latency, %d-volume consistency group", GROUP_VOLS);
	bpool_open(&b, "snap-group", 0);
	for (unsigned v = 0; v < GROUP_VOLS; v++) {
		char name[16];

		snprintf(name, sizeof(name), "g%u", v);
		vols[v] = make_vol(&b, name, vsize);
		scatter_write(&b, vols[v], vsize, per_vol);
	}
	snprintf(row->label, sizeof(row->label), "%d x 1 GiB group", GROUP_VOLS);
	snprintf(row->data, sizeof(row->data), "%" PRIu64 " MiB per volume", per_vol / MiB);
	row->meta_per_chunk = meta_per_chunk(&b);

	t_start = now_s();
	for (int k = 0; k < 3; k++) {
		if (grow_history(&b, GROUP_VOLS, vols, vsize, &have, hist_counts[k], buf, t_start,
				 C.group_budget)) {
			row->cell[k].reached = have;
			row->cell[k].budget = C.group_budget;
			break;
		}
		commit(&b);
		progress("  %u existing group snapshots (setup %.1f s): timing %u", have,
			 now_s() - t_start, C.group_samples);
		time_snapshots(&b, GROUP_VOLS, vols, C.group_samples, &row->cell[k]);
	}
	bpool_close(&b);
	free(buf);
}

static void section_snapshots(const char *dir, const char *where)
{
	const char *saved = C.dir;
	static const struct {
		uint64_t size;
		const char *label;
	} sizes[] = {{1 * GiB, "1 GiB"}, {1 * TiB, "1 TiB"}, {16 * TiB, "16 TiB"}};
	struct snap_row rows[4] = {0};
	char c0[64], c1[64], c2[64];

	C.dir = dir;
	for (int i = 0; i < 3; i++)
		bench_snap_single(sizes[i].size, sizes[i].label, &rows[i]);
	bench_snap_group(&rows[3]);
	C.dir = saved;

	out("### Snapshot creation latency (commit included), %s\n\n", where);
	out("Median / p99 in ms over %u snapshots per cell (%u for the group).\n\n", C.snap_samples,
	    C.group_samples);
	out("| Volume | Data written | Meta B/chunk | 0 existing | 100 existing | 1,000 existing "
	    "|\n");
	out("|---|---|---:|---:|---:|---:|\n");
	for (int i = 0; i < 4; i++) {
		fmt_cell(&rows[i].cell[0], c0, sizeof(c0));
		fmt_cell(&rows[i].cell[1], c1, sizeof(c1));
		fmt_cell(&rows[i].cell[2], c2, sizeof(c2));
		out("| %s | %s | %.0f | %s | %s | %s |\n", rows[i].label, rows[i].data,
		    rows[i].meta_per_chunk, c0, c1, c2);
	}
	out("\n");
}

/* ---- 2./3. random-write IOPS --------------------------------------------------- */

struct iops {
	int done;
	double iops, med_us, p99_us;
	uint64_t writes;
};

/*
 * Time 4K writes; pick() chooses each offset.  A pool_commit() follows
 * every COMMIT_EVERY writes and its time counts (it is part of sustaining
 * the rate); it lands in the latency of the write that triggered it.
 */
struct picker {
	uint64_t *chunks; /* chunk indices (first-write phase: a permutation) */
	uint64_t n;	  /* chunks available */
	uint64_t next;	  /* first-write phase: next unused */
	uint32_t chunk;
	int sequential; /* 1: each chunk once, in order; 0: random chunk */
};

static uint64_t pick(struct picker *pk)
{
	uint64_t c = pk->sequential ? pk->chunks[pk->next++] : pk->chunks[rnd() % pk->n];

	return c * pk->chunk + rnd() % (pk->chunk / IO_SIZE) * IO_SIZE;
}

static void run_writes(struct bpool *b, uint64_t vol, struct picker *pk, double secs,
		       struct iops *r)
{
	struct samples s = {0};
	uint8_t *buf = data_buf(IO_SIZE);
	double t0 = now_s(), t = t0, t_end = t0 + secs;
	uint64_t n = 0;

	while (t < t_end && !(pk->sequential && pk->next == pk->n)) {
		double ts = t;

		write_or_die(b, vol, pick(pk), IO_SIZE, buf);
		if (++n % COMMIT_EVERY == 0)
			commit(b);
		t = now_s();
		sample_add(&s, (t - ts) * 1e6);
	}
	commit(b);
	r->done = 1;
	r->writes = n;
	r->iops = n / (now_s() - t0);
	r->med_us = pct(&s, 0.5);
	r->p99_us = pct(&s, 0.99);
	sample_free(&s);
	free(buf);
}

struct iops_row {
	unsigned snaps;
	uint32_t chunk;
	double meta_per_chunk;
	struct iops first, steady;
};

/*
 * Preallocate the region, make `snaps` snapshots (with a few writes before
 * each so they differ), then
 *  - first write: each 4K write goes to a different chunk still shared
 *    with the newest snapshot, in random order, until all are done or
 *    cow_secs elapsed;
 *  - steady: random 4K writes over the chunks the first phase made
 *    exclusive (all of the region when it finished), for write_secs.
 * With no snapshot there is nothing shared: only the steady figure.
 */
static void bench_iops(uint32_t chunk, unsigned snaps, struct iops_row *row)
{
	uint64_t region = C.iops_region, nchunks = region / chunk;
	struct picker pk = {.chunk = chunk};
	struct bpool b;
	uint8_t *buf = data_buf(IO_SIZE);
	char tag[48];
	uint64_t vol;

	progress("4K random writes, chunk %u KiB, %u snapshots", chunk / 1024, snaps);
	snprintf(tag, sizeof(tag), "iops-%u-%u", chunk / 1024, snaps);
	bpool_open(&b, tag, chunk);
	vol = make_vol(&b, "v", region);
	fill(&b, vol, region);
	row->snaps = snaps;
	row->chunk = chunk;
	row->meta_per_chunk = meta_per_chunk(&b);

	for (unsigned i = 0; i < snaps; i++) {
		char name[32];
		uint64_t id;
		int rc;

		if (i)
			touch(&b, vol, region, 64, buf);
		snprintf(name, sizeof(name), "s%u", i);
		rc = vol_snapshot(b.p, vol, name, &id);
		if (rc)
			die("vol_snapshot", rc);
	}
	commit(&b);

	pk.chunks = malloc(nchunks * sizeof(*pk.chunks));
	if (!pk.chunks)
		die("chunks", -ENOMEM);
	for (uint64_t i = 0; i < nchunks; i++)
		pk.chunks[i] = i;
	pk.n = nchunks;
	if (snaps) {
		/* Fisher-Yates: every chunk once, in random order. */
		for (uint64_t i = nchunks - 1; i > 0; i--) {
			uint64_t j = rnd() % (i + 1), t = pk.chunks[i];

			pk.chunks[i] = pk.chunks[j];
			pk.chunks[j] = t;
		}
		pk.sequential = 1;
		run_writes(&b, vol, &pk, C.cow_secs, &row->first);
		/* Steady state only on chunks that are no longer shared. */
		pk.n = pk.next ? pk.next : 1;
		pk.sequential = 0;
	}
	run_writes(&b, vol, &pk, C.write_secs, &row->steady);
	free(pk.chunks);
	bpool_close(&b);
	free(buf);
}

static void fmt_iops(const struct iops *r, char *buf, size_t len)
{
	if (!r->done)
		snprintf(buf, len, "n/a | n/a | n/a");
	else
		snprintf(buf, len, "%.0f | %.1f | %.1f", r->iops, r->med_us, r->p99_us);
}

static void section_iops(const char *where)
{
	static const unsigned snaps[] = {0, 1, 10, 100};
	struct iops_row rows[4] = {0};
	char f[96], s[96];

	for (int i = 0; i < 4; i++)
		bench_iops(POOL_DEFAULT_CHUNK, snaps[i], &rows[i]);

	out("### 4 KiB random-write IOPS (%u KiB chunks, %" PRIu64 " MiB region), %s\n\n",
	    POOL_DEFAULT_CHUNK / 1024, C.iops_region / MiB, where);
	out("| Snapshots | First write into shared chunk: IOPS | median us | p99 us "
	    "| writes | Steady: IOPS | median us | p99 us |\n");
	out("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < 4; i++) {
		fmt_iops(&rows[i].first, f, sizeof(f));
		fmt_iops(&rows[i].steady, s, sizeof(s));
		out("| %u | %s | %" PRIu64 " | %s |\n", rows[i].snaps, f, rows[i].first.writes, s);
	}
	out("\n");
}

static void section_chunks(const char *dir, const char *where)
{
	static const uint32_t chunks[] = {16 * 1024, 32 * 1024, 64 * 1024, 128 * 1024};
	struct iops_row rows[4] = {0};
	const char *saved = C.dir;
	char f[96], s[96];

	C.dir = dir;
	for (int i = 0; i < 4; i++)
		bench_iops(chunks[i], 1, &rows[i]);
	C.dir = saved;

	out("### Chunk size (1 snapshot, %" PRIu64 " MiB region), %s\n\n", C.iops_region / MiB,
	    where);
	out("| Chunk | First write (CoW): IOPS | median us | p99 us | Steady: IOPS | median us "
	    "| p99 us | Meta B/chunk |\n");
	out("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < 4; i++) {
		fmt_iops(&rows[i].first, f, sizeof(f));
		fmt_iops(&rows[i].steady, s, sizeof(s));
		out("| %u KiB | %s | %s | %.1f |\n", rows[i].chunk / 1024, f, s,
		    rows[i].meta_per_chunk);
	}
	out("\n");
}

/* "DIR (ext4)": the file system decides what a flush costs. */
static const char *where(const char *dir, char *buf, size_t len)
{
	static const struct {
		long magic;
		const char *name;
	} fs[] = {{0xef53, "ext4"},	 {0x01021994, "tmpfs"}, {0x58465342, "xfs"},
		  {0x9123683e, "btrfs"}, {0x2fc12fc1, "zfs"},	{0x794c7630, "overlayfs"}};
	struct statfs sf;
	const char *name = "unknown fs";

	if (!statfs(dir, &sf)) {
		for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
			if ((long)sf.f_type == fs[i].magic)
				name = fs[i].name;
	}
	snprintf(buf, len, "%s (%s)", dir, name);
	return buf;
}

/* ---- device flush --------------------------------------------------------- */

/*
 * What one flush of the pool file costs by itself: a commit is two flushes
 * (data and metadata, then the superblock), so on a real file system
 * snapshot latency is bounded below by about twice this.
 */
static void flush_cost(const char *dir, const char *where)
{
	struct samples fresh = {0}, over = {0};
	uint8_t *buf = data_buf(IO_SIZE);
	struct bdev *bd;
	char path[512];
	int rc;

	snprintf(path, sizeof(path), "%s/flush.tmp", dir);
	rc = bdev_file_open(path, POOL_FILE_SIZE, 1, &bd);
	if (rc)
		die(path, rc);
	for (unsigned i = 0; i < C.snap_samples; i++) {
		double t0 = now_s();

		/* A never-written block of the sparse file: the file system
		 * allocates, so fdatasync also commits its journal. */
		rc = bdev_pwrite(bd, buf, IO_SIZE, (uint64_t)(i + 1) * GiB);
		if (!rc)
			rc = bdev_flush(bd);
		sample_add(&fresh, (now_s() - t0) * 1e3);
		t0 = now_s();
		/* The same block again: data only. */
		if (!rc)
			rc = bdev_pwrite(bd, buf, IO_SIZE, (uint64_t)(i + 1) * GiB);
		if (!rc)
			rc = bdev_flush(bd);
		sample_add(&over, (now_s() - t0) * 1e3);
		if (rc)
			die("flush", rc);
	}
	bdev_destroy(bd);
	unlink(path);
	out("| %s | %.3f / %.3f | %.3f / %.3f |\n", where, pct(&fresh, 0.5), pct(&fresh, 0.99),
	    pct(&over, 0.5), pct(&over, 0.99));
	sample_free(&fresh);
	sample_free(&over);
	free(buf);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: bench_engine [--quick] [--out FILE] [--dir DIR] [--fast-dir DIR] "
			"[--keep]\n");
	exit(2);
}

static void write_report(void)
{
	fwrite(report, 1, report_len, stdout);
	fflush(stdout);
	if (C.out) {
		FILE *f = fopen(C.out, "w");

		if (!f || fwrite(report, 1, report_len, f) != report_len || fclose(f)) {
			fprintf(stderr, "bench_engine: %s: %s\n", C.out, strerror(errno));
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	unsigned long rss0, hwm0, rss1, hwm1, rss2, hwm2, rss3, hwm3;
	double t0 = now_s();
	char w1[600], w2[600];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			C.quick = 1;
		else if (!strcmp(argv[i], "--keep"))
			C.keep = 1;
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			C.out = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			C.dir = argv[++i];
		else if (!strcmp(argv[i], "--fast-dir") && i + 1 < argc)
			C.fast_dir = argv[++i];
		else
			usage();
	}
	if (C.quick) {
		C.snap_samples = 10;
		C.group_samples = 5;
		C.write_secs = 0.5;
		C.cow_secs = 1.0;
		C.iops_region = 256 * MiB;
		C.scatter_bytes = 16 * MiB;
		C.setup_budget = 30.0;
		C.group_budget = 15.0;
	}
	if (mkdir(C.dir, 0755) && errno != EEXIST)
		die(C.dir, -errno);
	if (C.fast_dir && mkdir(C.fast_dir, 0755) && errno != EEXIST)
		die(C.fast_dir, -errno);

	mem_kib(&rss0, &hwm0);
	progress("device flush cost");
	out("### Device flush (4 KiB pwrite + fdatasync on the pool file's file system)\n\n");
	out("Median / p99 in ms over %u.\n\n", C.snap_samples);
	out("| Pool directory | New block (fs allocates) | Overwrite |\n|---|---:|---:|\n");
	flush_cost(C.dir, where(C.dir, w1, sizeof(w1)));
	if (C.fast_dir)
		flush_cost(C.fast_dir, where(C.fast_dir, w2, sizeof(w2)));
	out("\n");
	section_snapshots(C.dir, w1);
	if (C.fast_dir)
		section_snapshots(C.fast_dir, w2);
	mem_kib(&rss1, &hwm1);
	section_iops(w1);
	mem_kib(&rss2, &hwm2);
	section_chunks(C.dir, w1);
	/* On tmpfs the flush is free: what is left is the engine's CPU and
	 * memory-copy cost per chunk size. */
	if (C.fast_dir)
		section_chunks(C.fast_dir, w2);
	mem_kib(&rss3, &hwm3);

	out("### RAM (this process, /proc/self/status)\n\n");
	out("| Point | VmRSS MiB | VmHWM MiB |\n|---|---:|---:|\n");
	out("| start | %.1f | %.1f |\n", rss0 / 1024.0, hwm0 / 1024.0);
	out("| after snapshot latency | %.1f | %.1f |\n", rss1 / 1024.0, hwm1 / 1024.0);
	out("| after IOPS | %.1f | %.1f |\n", rss2 / 1024.0, hwm2 / 1024.0);
	out("| after chunk sizes | %.1f | %.1f |\n", rss3 / 1024.0, hwm3 / 1024.0);
	out("\nLargest engine metadata cache (pool_stat.cache_bytes, default limit) seen at "
	    "close: %.1f MiB.\n\n",
	    max_cache_bytes / (double)MiB);

	out("### Method\n\n");
	out("- Mode: %s. Every pool is a %" PRIu64 " GiB sparse file in `%s` "
	    "(bdev_file, flush = fdatasync), opened with no commit timer%s.\n",
	    C.quick ? "--quick" : "full", POOL_FILE_SIZE / GiB, C.dir,
	    C.fast_dir ? "; the snapshot table is repeated with the pools in --fast-dir, "
			 "where a flush costs next to nothing, to show the engine's own cost, and "
			 "so is the chunk-size table"
		       : "");
	out("- Snapshot latency: the volume gets %" PRIu64 " MiB written as one chunk-sized "
	    "extent at a random chunk in each of %" PRIu64 " equal strides of its virtual "
	    "range; each group volume gets its share the same way. The history is built by "
	    "taking snapshots with a few 4 KiB writes before each, so they differ (one member "
	    "per group snapshot for the group). Each "
	    "sample is one vol_snapshot() (vol_snapshot_group() for the group) on a "
	    "committed pool, its commit included; the snapshot is then deleted untimed so the "
	    "existing count stays at the column's figure. p99 is nearest-rank: with fewer "
	    "than 100 samples it is the largest one. A cell is not reached when building its "
	    "history takes over %.0f s (%.0f s for the group); it then says how many "
	    "snapshots the history had.\n",
	    C.scatter_bytes / MiB, C.scatter_bytes / POOL_DEFAULT_CHUNK, C.setup_budget,
	    C.group_budget);
	out("- Meta B/chunk = (meta_blocks - free_meta_blocks) * 4096 / allocated chunks "
	    "from pool_stat after the data was written and committed (snapshot table: "
	    "scattered data; IOPS/chunk tables: the region written in full).\n");
	out("- IOPS: one thread, queue depth 1, in-process vol_write() of 4 KiB at 4 KiB "
	    "aligned offsets. The region is first written in full (so every chunk is "
	    "allocated), then the snapshots are taken (64 random 4 KiB writes before each one "
	    "after the first). First write: each write hits a different chunk still shared "
	    "with the newest snapshot, in random order, until all chunks are done or %.1f s. "
	    "Steady: random writes over those now-exclusive chunks for %.1f s. pool_commit() "
	    "after every %d writes, timed as part of the run.\n",
	    C.cow_secs, C.write_secs, COMMIT_EVERY);
	out("- Total run time %.0f s.\n\n", now_s() - t0);
	write_report();
	return 0;
}

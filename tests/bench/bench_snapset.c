/*
 * bench_snapset: the control-plane benchmark.  Target: "a snapshot-set
 * commit of 64 LUNs, measured end to end over the protocol while writes
 * run, completes in under 50 ms p99."
 *
 * The daemon has no data path yet, so this runs the real pieces in one
 * process: a pool on a sparse file, the array object model and the
 * control server (ctl_server_start on 127.0.0.1, port 0), writer threads
 * calling vol_write() on the 64 LUNs' volumes through the engine API, and
 * a client on the main thread that does SNAPSET_PREPARE + SNAPSET_COMMIT
 * over TCP with the client library (authenticated, sealed frames).  The
 * time measured is the commit's client_call(): frame out, server
 * dispatch, the engine's group snapshot (one commit, waiting for writes
 * in flight) and the reply.  The set is deleted again (SNAP_DELETE by
 * SNAPSET_ID) between rounds so every round starts from 64 LUNs and no
 * snapshots; --keep-sets keeps them instead.  A baseline phase (up to 30
 * rounds with no writers) runs first, to show what the writes cost.
 *
 *   bench_snapset [--rounds N (100)] [--luns N] [--writers N] [--dir DIR]
 *                 [--out FILE] [--keep-sets] [--flush-at-prepare] [--quick]
 *
 * --flush-at-prepare is an experiment: pool_commit() right after PREPARE
 * (untimed), to see what COMMIT costs when it does not also have to write
 * back the metadata of every write since the last periodic commit.
 *
 * Output: a markdown table on stdout (and FILE); progress on stderr.
 * Exit status 1 if p99 misses the 50 ms target.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "auth.h"
#include "bdev.h"
#include "client.h"
#include "log.h"
#include "pool.h"
#include "server.h"
#include "testutil.h"

#define TARGET_MS  50.0
#define WRITE_SIZE 4096u
#define WRITE_SPAN (256ull << 20) /* bytes of each LUN the writers touch */
#define LUN_SIZE   (1ull << 30)
#define POOL_BYTES (16ull << 30)
#define WARMUP	   3

struct opts {
	unsigned rounds, luns, writers;
	const char *dir, *out;
	int keep_sets;
	int flush; /* pool_commit() between PREPARE and COMMIT */
};

struct writer {
	pthread_t t;
	struct pool *pool;
	const uint64_t *vols;
	unsigned nvols;
	uint64_t seed;
	uint64_t writes, errors;
	volatile int *stop;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct tu_rng rng;
	uint8_t buf[WRITE_SIZE];

	tu_rng_seed(&rng, w->seed);
	tu_rng_fill(&rng, buf, sizeof(buf));
	while (!*w->stop) {
		uint64_t vol = w->vols[tu_rng_below(&rng, w->nvols)];
		uint64_t off = tu_rng_below(&rng, WRITE_SPAN / WRITE_SIZE) * WRITE_SIZE;

		buf[0]++; /* new content, so overwrites are real writes */
		if (vol_write(w->pool, vol, off, WRITE_SIZE, buf, 0))
			w->errors++;
		else
			w->writes++;
	}
	return NULL;
}

static double ms_since(double t0)
{
	return (tu_now() - t0) * 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static double pct(const double *v, unsigned n, double p)
{
	unsigned k = (unsigned)(p / 100.0 * n + 0.999999);

	if (k < 1)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

static int call_ok(struct client *c, uint16_t type, const struct proto_buf *req, const char *what)
{
	struct client_reply rep;
	int r = client_call(c, type, client_new_reqid(c), req, &rep);

	if (r || rep.status != PROTO_OK) {
		fprintf(stderr, "bench_snapset: %s: %s %s\n", what,
			proto_strerror(r ? r : (int)rep.status), r ? "" : rep.msg);
		client_reply_free(&rep);
		return -1;
	}
	client_reply_free(&rep);
	return 0;
}

/* Times of one phase, ms, warm-up rounds excluded. */
struct phase {
	double *commit, *prepare, *del;
	unsigned n;
};

/* WARMUP + n rounds of PREPARE, COMMIT (and SNAP_DELETE of the set). */
static int run_rounds(struct client *c, const char *const *names, unsigned luns, unsigned n,
		      int keep, struct pool *flush, unsigned *serial, struct phase *ph)
{
	unsigned total = n + WARMUP;
	char name[96];
	double t0;
	int r = 0;

	ph->commit = calloc(total, sizeof(double));
	ph->prepare = calloc(total, sizeof(double));
	ph->del = calloc(total, sizeof(double));
	ph->n = n;
	if (!ph->commit || !ph->prepare || !ph->del)
		return -1;
	for (unsigned round = 0; round < total && !r; round++) {
		unsigned k = round < WARMUP ? n + round : round - WARMUP; /* warm-up last */
		struct proto_buf req;
		uint8_t set[16];

		if (plat_random(set, sizeof(set))) /* a random set id, as VSS makes */
			return -1;
		proto_buf_init(&req);
		proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set);
		for (unsigned i = 0; i < luns; i++)
			proto_put_str(&req, PROTO_TAG_LUN_NAME, names[i]);
		for (unsigned i = 0; i < luns; i++) {
			snprintf(name, sizeof(name), "s%u-%s", *serial, names[i]);
			proto_put_str(&req, PROTO_TAG_SNAP_NAME, name);
		}
		(*serial)++;
		t0 = tu_now();
		r = call_ok(c, PROTO_MSG_SNAPSET_PREPARE, &req, "prepare");
		ph->prepare[k] = ms_since(t0);
		proto_buf_reset(&req);
		proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set);
		/* --flush-at-prepare: what COMMIT would cost if PREPARE flushed
		 * the writes so far (an experiment; the array does not do it) */
		if (!r && flush)
			r = pool_commit(flush) ? -1 : 0;
		if (!r) {
			t0 = tu_now();
			r = call_ok(c, PROTO_MSG_SNAPSET_COMMIT, &req, "commit");
			ph->commit[k] = ms_since(t0);
		}
		if (!r && !keep) {
			t0 = tu_now();
			r = call_ok(c, PROTO_MSG_SNAP_DELETE, &req, "delete set");
			ph->del[k] = ms_since(t0);
		}
		proto_buf_free(&req);
	}
	qsort(ph->commit, n, sizeof(double), cmp_double);
	qsort(ph->prepare, n, sizeof(double), cmp_double);
	qsort(ph->del, n, sizeof(double), cmp_double);
	return r;
}

static void row(FILE *f, const char *what, const double *v, unsigned n, int target)
{
	fprintf(f, "| %s | %.2f | %.2f | %.2f | %.2f |", what, pct(v, n, 50), pct(v, n, 90),
		pct(v, n, 99), v[n - 1]);
	if (target)
		fprintf(f, " p99 < %.0f ms: **%s** |\n", TARGET_MS,
			pct(v, n, 99) < TARGET_MS ? "met" : "MISSED");
	else
		fprintf(f, " - |\n");
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_snapset [--rounds N] [--luns N] [--writers N] [--dir DIR]\n"
		"                     [--out FILE] [--keep-sets] [--flush-at-prepare] [--quick]\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		uint64_t v = 0;
		const char *a = argv[i];
		int has = i + 1 < argc;

		if (!strcmp(a, "--keep-sets")) {
			o->keep_sets = 1;
		} else if (!strcmp(a, "--flush-at-prepare")) {
			o->flush = 1;
		} else if (!strcmp(a, "--quick")) {
			o->rounds = 20;
		} else if (!strcmp(a, "--dir") && has) {
			o->dir = argv[++i];
		} else if (!strcmp(a, "--out") && has) {
			o->out = argv[++i];
		} else if ((!strcmp(a, "--rounds") || !strcmp(a, "--luns") ||
			    !strcmp(a, "--writers")) &&
			   has && !tu_parse_u64(argv[i + 1], &v) && v <= 100000 &&
			   (v || !strcmp(a, "--writers"))) { /* 0 writers: a baseline */
			i++;
			if (a[2] == 'r')
				o->rounds = (unsigned)v;
			else if (a[2] == 'l')
				o->luns = (unsigned)v > ARRAY_SNAPSET_MAX ? ARRAY_SNAPSET_MAX
									  : (unsigned)v;
			else
				o->writers = (unsigned)v;
		} else {
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.rounds = 100, .luns = 64, .writers = 4, .dir = "build/bench-tmp"};
	struct ctl_server_cfg sc = {.addr = "127.0.0.1"};
	struct client_cfg cc = {.host = "127.0.0.1", .client_name = "bench_snapset"};
	struct pool_open_opts po = {.commit_interval_ms = 1000};
	char dir[512], path[600], name[64];
	const char **names;
	struct phase base = {0}, load = {0};
	unsigned serial = 0, started = 0, base_rounds;
	double wall = 0, p99;
	char what[128];
	uint64_t *vols, writes = 0, werr = 0;
	struct writer *w;
	struct ctl_server *srv = NULL;
	struct client *c = NULL;
	struct array *arr = NULL;
	struct pool *pool = NULL;
	struct bdev *dev = NULL;
	volatile int stop = 0;
	FILE *out;
	int r;

	if (parse(argc, argv, &o))
		return usage();
	log_setup(0, LOG_LVL_ERR);
	base_rounds = o.rounds < 30 ? o.rounds : 30;
	vols = calloc(o.luns, sizeof(*vols));
	names = calloc(o.luns, sizeof(*names));
	w = calloc(o.writers, sizeof(*w));
	if (!vols || !names || !w)
		return 1;
	if (mkdir(o.dir, 0755) && errno != EEXIST) {
		perror(o.dir);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/snapset.XXXXXX", o.dir);
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pool.img", dir);

	r = bdev_file_open(path, POOL_BYTES, 1, &dev);
	if (!r)
		r = pool_create(dev, NULL);
	if (!r)
		r = pool_open(dev, &po, &pool);
	if (!r)
		r = array_open(pool, &arr);
	if (r) {
		fprintf(stderr, "bench_snapset: pool setup: %s\n", strerror(-r));
		return 1;
	}
	fprintf(stderr, "bench_snapset: %u LUNs of 1 GiB in %s\n", o.luns, path);
	for (unsigned i = 0; i < o.luns; i++) {
		struct lun_info li;

		snprintf(name, sizeof(name), "bench%02u", i);
		r = array_lun_create(arr, name, LUN_SIZE, 512, &li);
		if (r) {
			fprintf(stderr, "bench_snapset: lun create: %s\n", strerror(-r));
			return 1;
		}
		vols[i] = li.id;
		names[i] = strdup(name);
	}
	/* A random key: the server and this client share it in memory. */
	if (auth_key_generate(sc.key))
		return 1;
	memcpy(cc.key, sc.key, sizeof(cc.key));
	sc.array = arr;
	r = ctl_server_start(&sc, &srv);
	if (r) {
		fprintf(stderr, "bench_snapset: server: %s\n", strerror(-r));
		return 1;
	}
	cc.port = ctl_server_port(srv);
	r = client_open(&cc, &c);
	if (r) {
		fprintf(stderr, "bench_snapset: connect: %s\n", proto_strerror(r));
		return 1;
	}

	/* Phase 1, the baseline: the same rounds with no writes running. */
	fprintf(stderr, "bench_snapset: %u rounds without writes\n", base_rounds);
	r = run_rounds(c, names, o.luns, base_rounds, o.keep_sets, NULL, &serial, &base);
	for (unsigned i = 0; !r && i < o.writers; i++) {
		w[i] = (struct writer){
		    .pool = pool, .vols = vols, .nvols = o.luns, .seed = 0x5eed + i, .stop = &stop};
		pthread_create(&w[i].t, NULL, writer_main, &w[i]);
		started++;
	}
	/* Phase 2, the target: while the writers run. */
	if (!r) {
		fprintf(stderr, "bench_snapset: %u rounds with %u writers\n", o.rounds, o.writers);
		usleep(200000); /* writers in full swing before the first set */
		wall = tu_now();
		r = run_rounds(c, names, o.luns, o.rounds, o.keep_sets, o.flush ? pool : NULL,
			       &serial, &load);
		wall = tu_now() - wall;
	}
	stop = 1;
	for (unsigned i = 0; i < started; i++) {
		pthread_join(w[i].t, NULL);
		writes += w[i].writes;
		werr += w[i].errors;
	}
	client_close(c);
	ctl_server_stop(srv);
	array_close(arr);
	pool_close(pool);
	bdev_destroy(dev);
	unlink(path);
	rmdir(dir);
	if (r) {
		fprintf(stderr, "bench_snapset: a round failed\n");
		return 1;
	}
	p99 = pct(load.commit, load.n, 99);
	out = o.out ? fopen(o.out, "w") : NULL;
	for (int pass = 0; pass < (out ? 2 : 1); pass++) {
		FILE *f = pass ? out : stdout;

		fprintf(
		    f,
		    "Snapshot-set commit of %u LUNs (1 GiB each) over the control protocol "
		    "(127.0.0.1, authenticated sealed frames), end to end as the client sees it, "
		    "while %u writer threads do random 4 KiB vol_write()s to the same LUNs "
		    "(%.0f writes/s, %" PRIu64 " errors): %u rounds, after %d warm-up rounds.  "
		    "Baseline: %u rounds with no writes.  Each set is %s between rounds.  "
		    "Times in ms.\n\n",
		    o.luns, o.writers, wall > 0 ? (double)writes / wall : 0, werr, o.rounds, WARMUP,
		    base_rounds,
		    o.keep_sets ? "kept (snapshots accumulate)"
				: "deleted again (SNAP_DELETE of the set)");
		fprintf(f, "| Step | median | p90 | p99 | max | target |\n");
		fprintf(f, "|------|-------:|----:|----:|----:|--------|\n");
		snprintf(what, sizeof(what), "SNAPSET_COMMIT, %u LUNs, writes running", o.luns);
		row(f, what, load.commit, load.n, 1);
		row(f, "SNAPSET_PREPARE, writes running", load.prepare, load.n, 0);
		if (!o.keep_sets)
			row(f, "SNAP_DELETE of the set, writes running", load.del, load.n, 0);
		snprintf(what, sizeof(what), "SNAPSET_COMMIT, %u LUNs, no writes (baseline)",
			 o.luns);
		row(f, what, base.commit, base.n, 0);
		row(f, "SNAPSET_PREPARE, no writes", base.prepare, base.n, 0);
	}
	if (out)
		fclose(out);
	return p99 < TARGET_MS ? 0 : 1;
}

/*
 * arraysim-pool: a small command-line front end to the pool engine.
 *
 * It exists so that the engine can be driven from shell scripts (make demo)
 * before the daemon does.  Each invocation opens the pool, does one thing,
 * commits and closes, so every command is durable when it exits.
 *
 *   arraysim-pool create POOL --size 4G [--chunk 64K]
 *   arraysim-pool vol-create POOL NAME --size 1G [--bs 512|4096]
 *   arraysim-pool write POOL VOL --offset N (--file F | --pattern SEED --length N)
 *   arraysim-pool read POOL VOL --offset N --length N [--out F]
 *   arraysim-pool snapshot POOL NAME VOL [VOL...]
 *   arraysim-pool clone POOL SNAP NAME
 *   arraysim-pool revert POOL VOL SNAP
 *   arraysim-pool delete POOL NAME
 *   arraysim-pool list POOL
 *   arraysim-pool diff POOL A B
 *   arraysim-pool stat POOL
 *
 * Sizes and offsets take binary suffixes: 512, 64K, 10G, 1T.
 * Errors are one line on stderr and exit status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bdev.h"
#include "pool.h"

#define IO_BUF (1u << 20) /* bytes moved per engine call */

static const char *cmd_name = "arraysim-pool";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "arraysim-pool: %s: ", cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *errstr(int rc)
{
	/* The engine's -ENOSPC means the pool is out of data chunks. */
	if (rc == -ENOSPC)
		return "pool full (no free data chunk)";
	if (rc == -EDQUOT)
		return "metadata space exhausted";
	if (rc == -EILSEQ)
		return "metadata block failed its checksum, magic or location check";
	return strerror(rc < 0 ? -rc : rc);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* "64K" -> 65536.  Binary suffixes K M G T P, optional "iB" or "B". */
static int parse_size(const char *s, uint64_t *out)
{
	/* Lower and upper case of each unit, in order of size. */
	static const char suffixes[] = "kKmMgGtTpP";
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end && strchr(suffixes, *end)) {
		shift = 10 * (unsigned)((strchr(suffixes, *end) - suffixes) / 2 + 1);
		end++;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	else if (!shift && !strcmp(end, "B"))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static uint64_t size_arg(const char *opt, const char *s)
{
	uint64_t v;

	if (parse_size(s, &v))
		die("bad size for %s: '%s'", opt, s);
	return v;
}

/* 1536 -> "1.5K"; exact multiples print without a fraction. */
static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64, v);
	else if (d == (uint64_t)d)
		snprintf(buf, len, "%.0f%c", d, units[u]);
	else
		snprintf(buf, len, "%.1f%c", d, units[u]);
	return buf;
}

/* ---- pool open/close ------------------------------------------------- */

struct handle {
	struct bdev *bd;
	struct pool *p;
};

static void hopen(struct handle *h, const char *path, int read_only)
{
	/* No timer: each command commits explicitly and exits. */
	struct pool_open_opts oo = {.read_only = read_only};
	int rc;

	rc = bdev_file_open(path, 0, 0, &h->bd);
	if (rc)
		die("%s: %s", path, errstr(rc));
	rc = pool_open(h->bd, &oo, &h->p);
	if (rc) {
		bdev_destroy(h->bd);
		die("%s: cannot open pool: %s", path, errstr(rc));
	}
}

static void hclose(struct handle *h)
{
	int rc = pool_close(h->p);

	bdev_destroy(h->bd);
	if (rc)
		die("commit on close failed: %s", errstr(rc));
}

static uint64_t lookup(struct handle *h, const char *name)
{
	uint64_t id;
	int rc = vol_lookup(h->p, name, &id);

	if (rc == -ENOENT)
		die("no volume or snapshot named '%s'", name);
	if (rc)
		die("'%s': %s", name, errstr(rc));
	return id;
}

static void info(struct handle *h, uint64_t id, struct vol_info *vi)
{
	int rc = vol_info(h->p, id, vi);

	if (rc)
		die("volume %" PRIu64 ": %s", id, errstr(rc));
}

/* ---- option parsing: positional args plus --key value ------------------ */

enum { OPT_SIZE = 1, OPT_CHUNK, OPT_BS, OPT_OFFSET, OPT_LENGTH, OPT_FILE, OPT_PATTERN, OPT_OUT };

struct args {
	int npos;
	char **pos;
	const char *val[OPT_OUT + 1];
};

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
	    {"size", required_argument, NULL, OPT_SIZE},
	    {"chunk", required_argument, NULL, OPT_CHUNK},
	    {"bs", required_argument, NULL, OPT_BS},
	    {"offset", required_argument, NULL, OPT_OFFSET},
	    {"length", required_argument, NULL, OPT_LENGTH},
	    {"file", required_argument, NULL, OPT_FILE},
	    {"pattern", required_argument, NULL, OPT_PATTERN},
	    {"out", required_argument, NULL, OPT_OUT},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	optind = 1;
	/* argv[0] is the subcommand; GNU getopt moves positionals to the end. */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == '?' || c == ':')
			die("unknown option or missing value: %s", argv[optind - 1]);
		a->val[c] = optarg;
	}
	a->npos = argc - optind;
	a->pos = argv + optind;
}

static void need_pos(const struct args *a, int min, int max, const char *usage)
{
	if (a->npos < min || (max >= 0 && a->npos > max))
		die("usage: arraysim-pool %s %s", cmd_name, usage);
}

/* ---- data pattern ------------------------------------------------------ */

/*
 * Pattern data depends only on the seed and the absolute byte offset, so a
 * region can be written in any number of pieces and re-generated to compare
 * (splitmix64 of seed and 8-byte word index).
 */
static void fill_pattern(uint8_t *buf, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t z = seed * 0x9e3779b97f4a7c15ull + (off + i) / 8 + 1;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(buf + i, &z, len - i < 8 ? len - i : 8);
	}
}

static void print_digest(EVP_MD_CTX *md, const char *what)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;

	if (EVP_DigestFinal_ex(md, d, &dlen) != 1)
		die("sha256 failed");
	for (unsigned i = 0; i < dlen; i++)
		printf("%02x", d[i]);
	printf("  %s\n", what);
}

static EVP_MD_CTX *digest_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		die("sha256 init failed");
	return md;
}

/* ---- commands ------------------------------------------------------------ */

static int cmd_create(int argc, char **argv)
{
	struct pool_create_opts co = {0};
	struct bdev *bd;
	struct args a;
	uint64_t size;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 1, 1, "POOL --size N [--chunk N]");
	if (!a.val[OPT_SIZE])
		die("--size is required");
	size = size_arg("--size", a.val[OPT_SIZE]);
	if (a.val[OPT_CHUNK])
		co.chunk_size = (uint32_t)size_arg("--chunk", a.val[OPT_CHUNK]);
	/* A regular file is created sparse at size; a device keeps its size. */
	rc = bdev_file_open(a.pos[0], size, 1, &bd);
	if (rc)
		die("%s: %s", a.pos[0], errstr(rc));
	rc = pool_create(bd, &co);
	if (!rc)
		rc = bdev_flush(bd);
	bdev_destroy(bd);
	if (rc)
		die("%s: %s", a.pos[0], errstr(rc));
	return 0;
}

static int cmd_vol_create(int argc, char **argv)
{
	struct handle h;
	struct args a;
	uint64_t size, bs = 512, id;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 2, 2, "POOL NAME --size N [--bs 512|4096]");
	if (!a.val[OPT_SIZE])
		die("--size is required");
	size = size_arg("--size", a.val[OPT_SIZE]);
	if (a.val[OPT_BS])
		bs = size_arg("--bs", a.val[OPT_BS]);
	if (bs != 512 && bs != 4096)
		die("--bs must be 512 or 4096");
	hopen(&h, a.pos[0], 0);
	rc = vol_create(h.p, a.pos[1], size, (uint32_t)bs, &id);
	if (rc)
		die("'%s': %s", a.pos[1], errstr(rc));
	hclose(&h);
	printf("volume %s id %" PRIu64 "\n", a.pos[1], id);
	return 0;
}

static int cmd_write(int argc, char **argv)
{
	struct vol_info vi;
	struct handle h;
	struct args a;
	uint64_t off, len = 0, seed = 0, done = 0, id;
	EVP_MD_CTX *md;
	FILE *f = NULL;
	char what[128];
	uint8_t *buf;
	double t0;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 2, 2, "POOL VOL --offset N (--file F | --pattern SEED --length N)");
	if (!a.val[OPT_OFFSET] || !a.val[OPT_FILE] == !a.val[OPT_PATTERN])
		die("need --offset and exactly one of --file or --pattern");
	off = size_arg("--offset", a.val[OPT_OFFSET]);
	if (a.val[OPT_PATTERN]) {
		if (!a.val[OPT_LENGTH])
			die("--pattern needs --length");
		seed = size_arg("--pattern", a.val[OPT_PATTERN]);
		len = size_arg("--length", a.val[OPT_LENGTH]);
	} else {
		f = fopen(a.val[OPT_FILE], "rb");
		if (!f)
			die("%s: %s", a.val[OPT_FILE], strerror(errno));
	}

	buf = malloc(IO_BUF);
	if (!buf)
		die("out of memory");
	md = digest_new();
	hopen(&h, a.pos[0], 0);
	id = lookup(&h, a.pos[1]);
	info(&h, id, &vi);
	if (off % vi.block_size || len % vi.block_size)
		die("--offset and --length must be multiples of the block size %u", vi.block_size);

	t0 = now_ms();
	for (;;) {
		size_t n, io;

		if (f) {
			n = fread(buf, 1, IO_BUF, f);
			if (ferror(f))
				die("%s: read error", a.val[OPT_FILE]);
			if (!n)
				break;
		} else {
			if (done == len)
				break;
			n = len - done < IO_BUF ? len - done : IO_BUF;
			fill_pattern(buf, n, seed, off + done);
		}
		EVP_DigestUpdate(md, buf, n);
		/* A file's tail is padded with zeros to a whole block; the
		 * checksum covers only the bytes given. */
		io = (n + vi.block_size - 1) / vi.block_size * vi.block_size;
		if (io > n)
			memset(buf + n, 0, io - n);
		rc = vol_write(h.p, id, off + done, io, buf, 0);
		if (rc)
			die("write at %" PRIu64 ": %s", off + done, errstr(rc));
		done += n;
		if (n % vi.block_size)
			break;
	}
	rc = pool_commit(h.p);
	if (rc)
		die("commit: %s", errstr(rc));
	hclose(&h);
	if (f)
		fclose(f);
	snprintf(what, sizeof(what), "%s@%" PRIu64 "+%" PRIu64 " written (%.1f ms)", a.pos[1], off,
		 done, now_ms() - t0);
	print_digest(md, what);
	EVP_MD_CTX_free(md);
	free(buf);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	struct vol_info vi;
	struct handle h;
	struct args a;
	uint64_t off, len, done = 0, id;
	EVP_MD_CTX *md;
	FILE *out = NULL;
	char what[128];
	uint8_t *buf;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 2, 2, "POOL VOL --offset N --length N [--out F]");
	if (!a.val[OPT_OFFSET] || !a.val[OPT_LENGTH])
		die("need --offset and --length");
	off = size_arg("--offset", a.val[OPT_OFFSET]);
	len = size_arg("--length", a.val[OPT_LENGTH]);
	if (a.val[OPT_OUT]) {
		out = fopen(a.val[OPT_OUT], "wb");
		if (!out)
			die("%s: %s", a.val[OPT_OUT], strerror(errno));
	}
	buf = malloc(IO_BUF);
	if (!buf)
		die("out of memory");
	md = digest_new();
	hopen(&h, a.pos[0], 1);
	id = lookup(&h, a.pos[1]);
	info(&h, id, &vi);
	if (off % vi.block_size || len % vi.block_size)
		die("--offset and --length must be multiples of the block size %u", vi.block_size);
	while (done < len) {
		size_t n = len - done < IO_BUF ? len - done : IO_BUF;

		rc = vol_read(h.p, id, off + done, n, buf);
		if (rc)
			die("read at %" PRIu64 ": %s", off + done, errstr(rc));
		EVP_DigestUpdate(md, buf, n);
		if (out && fwrite(buf, 1, n, out) != n)
			die("%s: write error", a.val[OPT_OUT]);
		done += n;
	}
	hclose(&h);
	if (out && fclose(out))
		die("%s: %s", a.val[OPT_OUT], strerror(errno));
	snprintf(what, sizeof(what), "%s@%" PRIu64 "+%" PRIu64, a.pos[1], off, len);
	print_digest(md, what);
	EVP_MD_CTX_free(md);
	free(buf);
	return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
	struct handle h;
	struct args a;
	uint64_t *vols, *snaps;
	char **names;
	unsigned n;
	double t0, t;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 3, -1, "POOL NAME VOL [VOL...]");
	n = (unsigned)a.npos - 2;
	vols = calloc(n, sizeof(*vols));
	snaps = calloc(n, sizeof(*snaps));
	names = calloc(n, sizeof(*names));
	if (!vols || !snaps || !names)
		die("out of memory");
	hopen(&h, a.pos[0], 0);
	for (unsigned i = 0; i < n; i++) {
		vols[i] = lookup(&h, a.pos[2 + i]);
		/* One volume: the snapshot gets NAME; a group: NAME-VOL each. */
		if (n == 1)
			names[i] = strdup(a.pos[1]);
		else if (asprintf(&names[i], "%s-%s", a.pos[1], a.pos[2 + i]) < 0)
			names[i] = NULL;
		if (!names[i])
			die("out of memory");
		if (strlen(names[i]) > POOL_NAME_MAX)
			die("snapshot name '%s' longer than %d bytes", names[i], POOL_NAME_MAX);
	}
	t0 = now_ms();
	if (n == 1)
		rc = vol_snapshot(h.p, vols[0], names[0], &snaps[0]);
	else
		rc = vol_snapshot_group(h.p, n, vols, (const char *const *)names, snaps);
	t = now_ms() - t0;
	if (rc)
		die("%s: %s", a.pos[1], errstr(rc));
	hclose(&h);
	for (unsigned i = 0; i < n; i++) {
		printf("snapshot %s of %s id %" PRIu64 "\n", names[i], a.pos[2 + i], snaps[i]);
		free(names[i]);
	}
	printf("%s of %u volume%s took %.3f ms (commit included)\n",
	       n == 1 ? "snapshot" : "group snapshot", n, n == 1 ? "" : "s", t);
	free(names);
	free(vols);
	free(snaps);
	return 0;
}

static int cmd_clone(int argc, char **argv)
{
	struct handle h;
	struct args a;
	uint64_t src, id;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 3, 3, "POOL SNAP NAME");
	hopen(&h, a.pos[0], 0);
	src = lookup(&h, a.pos[1]);
	rc = vol_clone(h.p, src, a.pos[2], &id);
	if (rc)
		die("%s: %s", a.pos[2], errstr(rc));
	hclose(&h);
	printf("clone %s of %s id %" PRIu64 "\n", a.pos[2], a.pos[1], id);
	return 0;
}

static int cmd_revert(int argc, char **argv)
{
	struct handle h;
	struct args a;
	uint64_t vol, snap;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 3, 3, "POOL VOL SNAP");
	hopen(&h, a.pos[0], 0);
	vol = lookup(&h, a.pos[1]);
	snap = lookup(&h, a.pos[2]);
	rc = vol_revert(h.p, vol, snap);
	if (rc)
		die("%s to %s: %s", a.pos[1], a.pos[2], errstr(rc));
	hclose(&h);
	printf("reverted %s to %s\n", a.pos[1], a.pos[2]);
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	struct handle h;
	struct args a;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 2, 2, "POOL NAME");
	hopen(&h, a.pos[0], 0);
	rc = vol_delete(h.p, lookup(&h, a.pos[1]));
	if (rc)
		die("%s: %s", a.pos[1], errstr(rc));
	hclose(&h);
	printf("deleted %s\n", a.pos[1]);
	return 0;
}

struct vol_list {
	struct vol_info *v;
	size_t n, cap;
};

static int collect(const struct vol_info *vi, void *arg)
{
	struct vol_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct vol_info *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *vi;
	return 0;
}

static const char *name_of(const struct vol_list *l, uint64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return l->v[i].name;
	return id ? "(deleted)" : "-";
}

static int cmd_list(int argc, char **argv)
{
	struct vol_list l = {0};
	struct handle h;
	struct args a;
	char b1[32], b2[32], b3[32], when[32];
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 1, 1, "POOL");
	hopen(&h, a.pos[0], 1);
	rc = vol_iterate(h.p, collect, &l);
	if (rc)
		die("%s", errstr(rc));
	printf("%-4s %-24s %-8s %4s %8s %9s %9s %-20s %s\n", "ID", "NAME", "KIND", "BS", "SIZE",
	       "ALLOC", "EXCL", "PARENT", "CREATED");
	for (size_t i = 0; i < l.n; i++) {
		struct vol_info *v = &l.v[i];
		time_t secs;
		struct tm tm;

		/* vol_iterate leaves exclusive at 0; vol_info computes it. */
		info(&h, v->id, v);
		secs = (time_t)(v->created_ns / 1000000000ull);
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%-4" PRIu64 " %-24s %-8s %4u %8s %9s %9s %-20s %s\n", v->id, v->name,
		       v->kind == VOL_SNAPSHOT ? "snapshot"
		       : v->parent	       ? "clone"
					       : "volume",
		       v->block_size, human(v->size, b1, sizeof(b1)),
		       human(v->allocated, b2, sizeof(b2)), human(v->exclusive, b3, sizeof(b3)),
		       name_of(&l, v->parent), when);
	}
	hclose(&h);
	free(l.v);
	return 0;
}

struct diff_ctx {
	uint64_t ranges, bytes;
};

static int diff_range(uint64_t off, uint64_t len, void *arg)
{
	struct diff_ctx *d = arg;
	char b1[32], b2[32];

	printf("  %14" PRIu64 " +%-12" PRIu64 " (%s at %s)\n", off, len, human(len, b1, sizeof(b1)),
	       human(off, b2, sizeof(b2)));
	d->ranges++;
	d->bytes += len;
	return 0;
}

static int cmd_diff(int argc, char **argv)
{
	struct diff_ctx d = {0};
	struct handle h;
	struct args a;
	char b[32];
	double t0;
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 3, 3, "POOL A B");
	hopen(&h, a.pos[0], 1);
	printf("ranges that differ between %s and %s (offset +length):\n", a.pos[1], a.pos[2]);
	t0 = now_ms();
	rc = vol_diff(h.p, lookup(&h, a.pos[1]), lookup(&h, a.pos[2]), diff_range, &d);
	if (rc)
		die("%s", errstr(rc));
	printf("%" PRIu64 " range%s, %s differ (%.2f ms)\n", d.ranges, d.ranges == 1 ? "" : "s",
	       human(d.bytes, b, sizeof(b)), now_ms() - t0);
	hclose(&h);
	return 0;
}

static int cmd_stat(int argc, char **argv)
{
	struct pool_stat st;
	struct handle h;
	struct args a;
	char b1[32], b2[32];
	int rc;

	parse_args(argc, argv, &a);
	need_pos(&a, 1, 1, "POOL");
	hopen(&h, a.pos[0], 1);
	rc = pool_stat(h.p, &st);
	if (rc)
		die("%s", errstr(rc));
	printf("chunk size      %s\n", human(st.chunk_size, b1, sizeof(b1)));
	printf("data chunks     %" PRIu64 " (%s), free %" PRIu64 " (%s)\n", st.data_chunks,
	       human(st.data_chunks * st.chunk_size, b1, sizeof(b1)), st.free_chunks,
	       human(st.free_chunks * st.chunk_size, b2, sizeof(b2)));
	printf("meta blocks     %" PRIu64 ", free %" PRIu64 ", reserve %" PRIu64 "\n",
	       st.meta_blocks, st.free_meta_blocks, st.meta_reserve);
	printf("volumes         %u (including snapshots and clones)\n", st.nr_volumes);
	printf("transaction     %" PRIu64 "\n", st.txn);
	hclose(&h);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
    {"create", cmd_create},	{"vol-create", cmd_vol_create},
    {"write", cmd_write},	{"read", cmd_read},
    {"snapshot", cmd_snapshot}, {"clone", cmd_clone},
    {"revert", cmd_revert},	{"delete", cmd_delete},
    {"list", cmd_list},		{"diff", cmd_diff},
    {"stat", cmd_stat},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: arraysim-pool COMMAND POOL [ARGS]; commands:");
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			fprintf(stderr, " %s", cmds[i].name);
		fputc('\n', stderr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			cmd_name = cmds[i].name;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "arraysim-pool: unknown command '%s'\n", argv[1]);
	return 1;
}

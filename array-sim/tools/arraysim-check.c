/*
 * arraysim-check: offline consistency checker for a pool file or device.
 *
 *   arraysim-check [-q] POOL
 *
 * Opens POOL read-only and runs pool_check() over the committed state.
 * Every fault is printed on its own line; a one-line summary follows.
 * Exit status: 0 clean, 1 faults found, 2 cannot open or not a pool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bdev.h"
#include "pool.h"

struct check_ctx {
	unsigned long faults;
	int quiet;
};

static void report(const char *msg, void *arg)
{
	struct check_ctx *c = arg;

	c->faults++;
	/* Faults always go out, even with -q: -q only drops the summary. */
	printf("fault: %s\n", msg);
}

/* The engine's -EILSEQ is a metadata block failing its own checks; the
 * C library's wording ("multibyte character") would mislead. */
static const char *errstr(int rc)
{
	if (rc == -EILSEQ)
		return "metadata block failed its checksum, magic or location check";
	return strerror(-rc);
}

static void usage(void)
{
	fprintf(stderr, "usage: arraysim-check [-q] POOL\n");
}

struct count_ctx {
	unsigned volumes;
	unsigned snapshots;
};

static int count_vol(const struct vol_info *vi, void *arg)
{
	struct count_ctx *c = arg;

	if (vi->kind == VOL_SNAPSHOT)
		c->snapshots++;
	else
		c->volumes++;
	return 0;
}

/*
 * The summary needs the pool opened, which pool_check() does not expose.
 * Open it read-only a second time; when that fails (a damaged pool) the
 * summary says so rather than hiding the fault count.
 */
static void print_summary(struct bdev *bd, const char *path, int faults)
{
	struct pool_open_opts oo = {.read_only = 1};
	struct count_ctx cc = {0};
	struct pool_stat st;
	struct pool *p;
	int rc;

	rc = pool_open(bd, &oo, &p);
	if (rc) {
		printf("%s: cannot open for summary (%s), faults %d\n", path, errstr(rc), faults);
		return;
	}
	rc = pool_stat(p, &st);
	if (!rc)
		rc = vol_iterate(p, count_vol, &cc);
	if (rc) {
		printf("%s: stat failed (%s), faults %d\n", path, errstr(rc), faults);
	} else {
		printf("%s: txn %llu, volumes %u (%u snapshots), chunks %llu used / %llu free "
		       "of %llu (%u KiB), meta blocks %llu / %llu used, faults %d\n",
		       path, (unsigned long long)st.txn, cc.volumes + cc.snapshots, cc.snapshots,
		       (unsigned long long)(st.data_chunks - st.free_chunks),
		       (unsigned long long)st.free_chunks, (unsigned long long)st.data_chunks,
		       st.chunk_size / 1024,
		       (unsigned long long)(st.meta_blocks - st.free_meta_blocks),
		       (unsigned long long)st.meta_blocks, faults);
	}
	pool_close(p);
}

int main(int argc, char **argv)
{
	struct check_ctx ctx = {0};
	struct bdev *bd;
	const char *path;
	int opt, rc;

	while ((opt = getopt(argc, argv, "qh")) != -1) {
		switch (opt) {
		case 'q':
			ctx.quiet = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	path = argv[optind];

	rc = bdev_file_open(path, 0, 0, &bd);
	if (rc) {
		fprintf(stderr, "arraysim-check: %s: %s\n", path, strerror(-rc));
		return 2;
	}

	rc = pool_check(bd, report, &ctx);
	if (rc < 0) {
		fprintf(stderr, "arraysim-check: %s: not a usable pool: %s\n", path, errstr(rc));
		bdev_destroy(bd);
		return 2;
	}
	/* Trust the engine's count, but never report clean if we saw faults. */
	if ((unsigned long)rc < ctx.faults)
		rc = (int)ctx.faults;
	if (!ctx.quiet)
		print_summary(bd, path, rc);
	bdev_destroy(bd);
	return rc ? 1 : 0;
}

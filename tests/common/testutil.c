/*
 * testutil: small helpers shared by the unit, engine and bench tests.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t tu_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void tu_rng_seed(struct tu_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t tu_rng_next(struct tu_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return tu_mix64(r->s);
}

uint64_t tu_rng_below(struct tu_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	/* The modulo bias is irrelevant for tests with small n. */
	return tu_rng_next(r) % n;
}

uint64_t tu_rng_between(struct tu_rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + tu_rng_below(r, hi - lo + 1);
}

int tu_rng_chance(struct tu_rng *r, unsigned num, unsigned den)
{
	return tu_rng_below(r, den) < num;
}

void tu_rng_fill(struct tu_rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len >= 8) {
		uint64_t v = tu_rng_next(r);

		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = tu_rng_next(r);

		memcpy(p, &v, len);
	}
}

double tu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t tu_time_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* Keep seeds short enough to type back in. */
	return tu_mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
			((uint64_t)getpid() << 40)) %
	       1000000000ull;
}

int tu_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	return 0;
}

int tu_mkdtemp(const char *prefix, char *path, size_t pathlen)
{
	const char *base = getenv("TMPDIR");
	struct stat st;

	if (!base || !*base) {
		base = "/tmp";
		if (stat("build", &st) == 0 && S_ISDIR(st.st_mode)) {
			mkdir("build/tmp", 0755);
			if (stat("build/tmp", &st) == 0 && S_ISDIR(st.st_mode))
				base = "build/tmp";
		}
	}
	if ((size_t)snprintf(path, pathlen, "%s/%s.XXXXXX", base, prefix) >= pathlen)
		return -ENAMETOOLONG;
	if (!mkdtemp(path))
		return -errno;
	return 0;
}

void tu_rmtree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char buf[4096];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(buf, sizeof(buf), "%s/%s", path, de->d_name);
		unlink(buf);
	}
	closedir(d);
	rmdir(path);
}

void tu_report(const char *msg, void *ctx)
{
	const char *prefix = ctx;

	fprintf(stderr, "%s%s%s\n", prefix ? prefix : "", prefix ? ": " : "", msg);
}

size_t tu_first_diff(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;
	size_t i = 0;

	/* Fast path: compare in blocks, then find the byte. */
	while (i + 4096 <= len && !memcmp(x + i, y + i, 4096))
		i += 4096;
	for (; i < len; i++)
		if (x[i] != y[i])
			return i;
	return len;
}

int tu_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len == 0)
		return 1;
	if (p[0])
		return 0;
	return !memcmp(p, p + 1, len - 1);
}

/* Is [lo, hi) of a and b (zeros past either end) the same? */
static int same_range(const uint8_t *a, uint64_t asize, const uint8_t *b, uint64_t bsize,
		      uint64_t lo, uint64_t hi)
{
	uint64_t common = asize < bsize ? asize : bsize;
	const uint8_t *big = asize > bsize ? a : b;
	uint64_t bigsize = asize > bsize ? asize : bsize;

	if (lo < common && memcmp(a + lo, b + lo, (hi < common ? hi : common) - lo))
		return 0;
	if (lo < common)
		lo = common;
	if (hi > bigsize)
		hi = bigsize;
	/* past the smaller one's end: the bigger one must hold zeros */
	return lo >= hi || tu_is_zero(big + lo, hi - lo);
}

int tu_check_diff(const uint64_t *off, const uint64_t *len, unsigned n, uint32_t chunk,
		  const uint8_t *a, uint64_t asize, const uint8_t *b, uint64_t bsize, char *err,
		  size_t errlen)
{
	uint64_t end = asize > bsize ? asize : bsize, prev = 0;
	uint64_t lim = (end + chunk - 1) / chunk * chunk;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t o = off[i], e = off[i] + len[i];
		const char *why = NULL;

		if (len[i] == 0 || o % chunk || (e % chunk && e != asize && e != bsize) || e > lim)
			why = "is empty, unaligned or past the end";
		else if (i && o < prev)
			why = "overlaps the previous one or is out of order";
		else if (i && o == prev)
			why = "adjoins the previous one (ranges must be maximal)";
		if (why) {
			snprintf(err, errlen, "range %u [%llu,+%llu) %s", i, (unsigned long long)o,
				 (unsigned long long)len[i], why);
			return -1;
		}
		prev = e;
	}
	for (uint64_t c = 0; c < end; c += chunk) {
		uint64_t hi = c + chunk < end ? c + chunk : end;

		while (k < n && off[k] + len[k] <= c)
			k++;
		if (k < n && off[k] <= c)
			continue; /* reported */
		if (!same_range(a, asize, b, bsize, c, hi)) {
			snprintf(err, errlen, "contents differ in the chunk at %llu, not reported",
				 (unsigned long long)c);
			return -1;
		}
	}
	return 0;
}

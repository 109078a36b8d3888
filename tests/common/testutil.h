/*
 * testutil: small helpers shared by the unit, engine and bench tests.
 */
#ifndef ARRAYSIM_TESTUTIL_H
#define ARRAYSIM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Deterministic PRNG (splitmix64): the same seed gives the same stream. */
struct tu_rng {
	uint64_t s;
};

void tu_rng_seed(struct tu_rng *r, uint64_t seed);
uint64_t tu_rng_next(struct tu_rng *r);
/* Uniform in [0, n); n == 0 returns 0. */
uint64_t tu_rng_below(struct tu_rng *r, uint64_t n);
/* Uniform in [lo, hi] (inclusive). */
uint64_t tu_rng_between(struct tu_rng *r, uint64_t lo, uint64_t hi);
/* True with probability num/den. */
int tu_rng_chance(struct tu_rng *r, unsigned num, unsigned den);
void tu_rng_fill(struct tu_rng *r, void *buf, size_t len);

/* One-shot mixing function (splitmix64 finaliser). */
uint64_t tu_mix64(uint64_t x);

/* A seed from the clock and pid, for runs without --seed. */
uint64_t tu_time_seed(void);

/* Monotonic seconds. */
double tu_now(void);

/* Parse a decimal or 0x-hex unsigned; returns -1 on junk. */
int tu_parse_u64(const char *s, uint64_t *out);

/*
 * Make a fresh temporary directory under $TMPDIR, else build/tmp, else /tmp.
 * prefix names it (prefix.XXXXXX).  Returns 0 or -errno; path gets the name.
 */
int tu_mkdtemp(const char *prefix, char *path, size_t pathlen);
/* Remove a directory made by tu_mkdtemp and the plain files in it. */
void tu_rmtree(const char *path);

/* pool_check/pool_check_live report callback: prints to stderr with the
 * prefix in ctx (a const char *, may be NULL). */
void tu_report(const char *msg, void *ctx);

/* Index of the first byte where a and b differ, or len if equal. */
size_t tu_first_diff(const void *a, const void *b, size_t len);

/* True if buf is all zero bytes. */
int tu_is_zero(const void *buf, size_t len);

/*
 * Check the ranges vol_diff reported for two volumes holding a (asize
 * bytes) and b (bsize bytes): increasing, non-empty, not overlapping, not
 * adjoining (each is maximal), starting on a chunk boundary and ending on
 * one or at either volume's end, and covering every chunk in which the two
 * differ (bytes past a volume's end count as zeros).  Returns 0, or -1 with
 * what is wrong in err.
 */
int tu_check_diff(const uint64_t *off, const uint64_t *len, unsigned n, uint32_t chunk,
		  const uint8_t *a, uint64_t asize, const uint8_t *b, uint64_t bsize, char *err,
		  size_t errlen);

#endif

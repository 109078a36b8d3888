/*
 * pool: thin volumes, O(1) snapshots and clones over one shared
 * copy-on-write mapping tree, in one file or block device.
 *
 * Error rules, stated once for every function here:
 *  - 0 on success or a negative errno.
 *  - -ENOENT: no such volume or object.   -EEXIST: the name is taken.
 *  - -EINVAL: bad argument (unaligned I/O, size 0, bad block size...).
 *  - -EROFS: write to a read-only volume (a snapshot).
 *  - -ERANGE: I/O beyond the end of the volume.
 *  - -ENOSPC: the pool has no free data chunk (POOL FULL).  The SCSI layer
 *    maps this, and only this, to SPACE ALLOCATION FAILED WRITE PROTECT.
 *  - -EDQUOT: metadata space is down to the reserve kept for commits and
 *    deletes; user writes fail, snapshot delete and commit still work.
 *  - -EIO / -EILSEQ: the device failed, or a metadata block failed its
 *    checksum, magic or location check (the SCSI layer: MEDIUM ERROR).
 *  - -EBUSY: delete of a volume that still has clones depending on it is
 *    allowed (sharing is refcounted); -EBUSY is only returned for
 *    operations on a pool that is closing.
 *
 * Threads: every function may be called from any thread.  Reads and
 * in-place overwrites run in parallel under a shared lock; operations that
 * change the mapping take the lock exclusively for the metadata update only.
 *
 * Durability (the contract of a disk with a volatile write cache):
 *  - vol_write() returns once the data is in the device's cache;
 *  - pool_commit() (SYNCHRONIZE CACHE) makes every write that returned
 *    before it was called durable, together with all metadata;
 *  - vol_write(..., POOL_FUA) is durable when it returns;
 *  - every snapshot/clone/revert/delete/create is durable when it returns;
 *  - a timer commits every commit_interval_ms when neither comes.
 * After a crash the pool opens at its last commit and is always consistent.
 */
#ifndef ARRAYSIM_POOL_H
#define ARRAYSIM_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "bdev.h"

struct pool;

#define POOL_NAME_MAX	   63	/* volume names: 1..63 bytes, no NUL */
#define POOL_OBJ_MAX	   1000 /* largest object value, bytes */
#define POOL_DEFAULT_CHUNK (64u * 1024)
#define POOL_MIN_CHUNK	   (4u * 1024)
#define POOL_MAX_CHUNK	   (1024u * 1024)
#define POOL_MAX_VOL_SIZE  (1ull << 50) /* 1 PiB virtual */

struct pool_create_opts {
	uint32_t chunk_size; /* bytes, power of two, 4 KiB..1 MiB; 0 = default */
	uint64_t meta_size;  /* bytes of metadata area; 0 = automatic */
};

struct pool_open_opts {
	unsigned commit_interval_ms; /* 0 = no timer thread */
	size_t cache_bytes;	     /* metadata cache; 0 = default (256 MiB) */
	int read_only;		     /* open without ever writing (checker) */
};

/* Format dev as an empty pool.  O(metadata area / 4K) only for a block
 * device that does not read zeros; O(1) for a new sparse file. */
int pool_create(struct bdev *dev, const struct pool_create_opts *opts);

/* Open the pool at its newest valid superblock.  The pool takes no
 * ownership of dev. opts may be NULL. */
int pool_open(struct bdev *dev, const struct pool_open_opts *opts, struct pool **out);

/* Commit, stop the timer and free everything.  Returns the commit's status;
 * the pool is freed either way. */
int pool_close(struct pool *p);

/* SYNCHRONIZE CACHE: one transaction commit (no-op if nothing changed). */
int pool_commit(struct pool *p);

struct pool_stat {
	uint32_t chunk_size;
	uint64_t data_chunks;	   /* total data chunks */
	uint64_t free_chunks;	   /* allocatable now (excludes pending frees) */
	uint64_t meta_blocks;	   /* total 4K metadata blocks */
	uint64_t free_meta_blocks; /* free metadata blocks */
	uint64_t meta_reserve;	   /* blocks kept back for commit/delete */
	uint64_t txn;		   /* id of the last committed transaction */
	uint32_t nr_volumes;	   /* volumes + snapshots + clones */
	uint64_t cache_bytes;	   /* metadata cache in use */
};
int pool_stat(struct pool *p, struct pool_stat *st);

/* ---- volumes, snapshots, clones -------------------------------------- */

enum vol_kind { VOL_VOLUME = 0, VOL_SNAPSHOT = 1 };

#define VOL_F_READONLY 1u

struct vol_info {
	uint64_t id; /* never reused within a pool */
	char name[POOL_NAME_MAX + 1];
	uint8_t uuid[16];    /* random, unique, stable: SCSI ids derive from it */
	enum vol_kind kind;  /* a clone is a VOL_VOLUME with parent != 0 */
	uint32_t flags;	     /* VOL_F_* */
	uint32_t block_size; /* 512 or 4096 */
	uint64_t size;	     /* virtual bytes */
	uint64_t parent;     /* snapshot: its origin volume; clone: its snapshot */
	uint64_t created_ns; /* CLOCK_REALTIME */
	uint64_t group;	     /* consistency-group id of a snapshot, else 0 */
	uint8_t tag[16];     /* caller's tag given at snapshot time, else 0s */
	uint64_t allocated;  /* bytes mapped (chunks * chunk size) */
	uint64_t exclusive;  /* bytes only this volume maps (vol_info only) */
};

int vol_create(struct pool *p, const char *name, uint64_t size, uint32_t block_size, uint64_t *id);

/* Read-only snapshot of vol.  O(1): shares the root; one commit. */
int vol_snapshot(struct pool *p, uint64_t vol, const char *name, uint64_t *snap_id);

/* Consistency group: snapshots n volumes in one commit.  Every write
 * acknowledged before the call is in all of them, none issued after it is
 * in any.  names[i] names the snapshot of vols[i]. On error nothing is made. */
int vol_snapshot_group(struct pool *p, unsigned n, const uint64_t *vols, const char *const *names,
		       uint64_t *snap_ids);
/* The same, storing tag (16 bytes, may be NULL) in every snapshot's record
 * in the same commit: the daemon keeps the snapshot-set GUID there. */
int vol_snapshot_group_tag(struct pool *p, unsigned n, const uint64_t *vols,
			   const char *const *names, const uint8_t *tag, uint64_t *snap_ids);

/* Writable clone of a snapshot (or of a volume's current state). O(1). */
int vol_clone(struct pool *p, uint64_t src, const char *name, uint64_t *id);

/* Make vol's content equal to snap's (root swap, O(changed metadata)).
 * The volume keeps its id, name, uuid; its size becomes the snapshot's. */
int vol_revert(struct pool *p, uint64_t vol, uint64_t snap);

/* Delete a volume or snapshot.  Clones of a deleted snapshot keep working
 * (their blocks are refcounted).  Space is freed at the next commit. */
int vol_delete(struct pool *p, uint64_t id);

/* Grow or shrink. Shrinking unmaps the tail. */
int vol_resize(struct pool *p, uint64_t id, uint64_t size);

int vol_rename(struct pool *p, uint64_t id, const char *name);
int vol_set_flags(struct pool *p, uint64_t id, uint32_t flags);

int vol_lookup(struct pool *p, const char *name, uint64_t *id);
/* Fills info; computing exclusive walks the volume's unshared metadata. */
int vol_info(struct pool *p, uint64_t id, struct vol_info *info);
/* vol_info without the exclusive walk: O(1), for the data path. */
int vol_stat(struct pool *p, uint64_t id, struct vol_info *info);
/* vol_stat of n volumes under one lock acquisition (a snapshot set's
 * members right after its commit, while writers queue for the lock).
 * A missing id leaves info[i].id == 0. */
int vol_stat_many(struct pool *p, unsigned n, const uint64_t *ids, struct vol_info *infos);
/* Calls fn for every volume in id order; stops on non-zero and returns it.
 * info->exclusive is not computed (0). */
int vol_iterate(struct pool *p, int (*fn)(const struct vol_info *info, void *ctx), void *ctx);

/* ---- data path ------------------------------------------------------- */

#define POOL_FUA 1u

/* off and len are multiples of the volume's block size. Unmapped ranges
 * read as zeros. */
int vol_read(struct pool *p, uint64_t vol, uint64_t off, uint64_t len, void *buf);
int vol_write(struct pool *p, uint64_t vol, uint64_t off, uint64_t len, const void *buf,
	      unsigned flags);
/* Unmap (SCSI UNMAP / WRITE SAME with UNMAP): the range reads back as zeros
 * and whole chunks are released once no snapshot maps them. */
int vol_unmap(struct pool *p, uint64_t vol, uint64_t off, uint64_t len);

/* Is the range mapped? Sets *mapped and the length of the run from off
 * that has the same state (GET LBA STATUS). */
int vol_map_status(struct pool *p, uint64_t vol, uint64_t off, int *mapped, uint64_t *run_len);

/* Changed-block diff between two volumes/snapshots: calls fn for each
 * maximal byte range whose mapping differs, in increasing order.
 * O(changed metadata): subtrees the two share are skipped. */
int vol_diff(struct pool *p, uint64_t a, uint64_t b,
	     int (*fn)(uint64_t off, uint64_t len, void *ctx), void *ctx);

/* ---- objects: the daemon's small records, committed with the data ---- */

/* key: caller's namespace (e.g. type << 56 | id). len <= POOL_OBJ_MAX. */
int pool_obj_put(struct pool *p, uint64_t key, const void *val, size_t len);
/* *len in: buffer size; out: value size. -ENOENT if absent, -ENOBUFS if
 * the buffer is too small (then *len is the size needed). */
int pool_obj_get(struct pool *p, uint64_t key, void *val, size_t *len);
int pool_obj_del(struct pool *p, uint64_t key);
/* Calls fn for keys in [lo, hi] in order; stops on non-zero and returns it. */
int pool_obj_iterate(struct pool *p, uint64_t lo, uint64_t hi,
		     int (*fn)(uint64_t key, const void *val, size_t len, void *ctx), void *ctx);

/* ---- checking -------------------------------------------------------- */

/*
 * Verify every invariant of the committed state on dev (reachability,
 * refcounts, free space, checksums, counters).  Prints each fault to the
 * report function (may be NULL) and returns the number of faults (0 = good)
 * or a negative errno if the pool cannot be opened at all.
 */
int pool_check(struct bdev *dev, void (*report)(const char *msg, void *ctx), void *ctx);

/* Live self-check: recomputes refcounts from the trees and compares them
 * with the in-memory space maps, including pending frees.  For tests. */
int pool_check_live(struct pool *p, void (*report)(const char *msg, void *ctx), void *ctx);

#endif

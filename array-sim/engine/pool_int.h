/*
 * Internals shared by pool.c (superblock, commit, volumes), pool_io.c (data
 * path), pool_diff.c and pool_check.c.  Not part of the engine's API.
 */
#ifndef ARRAYSIM_POOL_INT_H
#define ARRAYSIM_POOL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bm.h"
#include "btree.h"
#include "pool.h"
#include "sm.h"
#include "tm.h"

/* ---- on-disk layout (see docs/pool-format.md) ---------------------------- */

#define SB_MAGIC   0x42535341u /* "ASSB" */
#define SB_VERSION 1u
#define SB_SLOTS   8u	/* superblock ring: blocks 0..7 */
#define SB_BYTES   512u /* one sector: written atomically or detectably torn */
#define META_START SB_SLOTS

#define TREE_MAP 1u /* (volume) chunk index -> le64 data chunk */
#define TREE_VOL 2u /* volume id -> volume record */
#define TREE_OBJ 3u /* object key -> le32 length + bytes */

#define VREC_SIZE 200u
#define OREC_SIZE (4u + POOL_OBJ_MAX)

/* Superblock fields (byte offsets within the 512-byte record). */
enum {
	SB_CSUM = 0,	     /* le32 CRC32C of [4, 512), salted with SB_MAGIC */
	SB_MAGIC_OFF = 4,    /* le32 */
	SB_VERSION_OFF = 8,  /* le32 */
	SB_TXN = 16,	     /* le64 transaction id; the ring slot is txn % 8 */
	SB_UUID = 24,	     /* 16 bytes, pool identity */
	SB_BLOCK = 40,	     /* le32 metadata block size, 4096 */
	SB_CHUNK = 44,	     /* le32 data chunk size in bytes */
	SB_META_START = 48,  /* le64 first metadata block (4 KiB units) */
	SB_META_BLOCKS = 56, /* le64 number of metadata blocks */
	SB_DATA_START = 64,  /* le64 byte offset of data chunk 0 */
	SB_DATA_CHUNKS = 72, /* le64 number of data chunks */
	SB_VOL_ROOT = 80,    /* le64 volume tree root block, 0 = empty */
	SB_OBJ_ROOT = 88,    /* le64 object tree root block */
	SB_NEXT_VOL = 96,    /* le64 next volume id */
	SB_NEXT_GROUP = 104, /* le64 next consistency-group id */
	SB_USED_DATA = 112,  /* le64 data chunks in use (checker cross-check) */
	SB_USED_META = 120,  /* le64 metadata blocks in use */
	SB_NR_VOLS = 128,    /* le32 volumes + snapshots */
	SB_TIME = 136,	     /* le64 commit time, ns since the epoch */
	SB_DEV_SIZE = 144,   /* le64 device size at creation, bytes */
};

/* Volume record fields (value of TREE_VOL). */
enum {
	VR_ID = 0,	  /* le64 */
	VR_UUID = 8,	  /* 16 bytes */
	VR_NAME = 24,	  /* 64 bytes, NUL padded */
	VR_KIND = 88,	  /* le32 enum vol_kind */
	VR_FLAGS = 92,	  /* le32 VOL_F_* */
	VR_BS = 96,	  /* le32 logical block size */
	VR_SIZE = 104,	  /* le64 bytes */
	VR_PARENT = 112,  /* le64 */
	VR_CREATED = 120, /* le64 ns */
	VR_GROUP = 128,	  /* le64 */
	VR_ROOT = 136,	  /* le64 mapping tree root */
	VR_MAPPED = 144,  /* le64 mapped chunks */
	VR_TAG = 152,	  /* 16 bytes, caller's tag (snapshot-set id) */
};

/* ---- in-memory state --------------------------------------------------- */

struct vol {
	struct vol_info info; /* allocated/exclusive not kept here */
	uint64_t root;	      /* mapping tree root */
	uint64_t mapped;      /* chunks mapped */
	int dirty;	      /* record must be written at commit */
	struct vol *hnext;    /* id hash chain */
	struct vol *nnext;    /* name hash chain */
};

#define VOL_BUCKETS 1024u

struct pool {
	struct bdev *dev;
	pthread_rwlock_t lock; /* shared: I/O; exclusive: mapping changes */
	struct bm *bm;
	struct sm *msm, *dsm;
	struct tmgr tm;
	struct btree_info map_info, vol_info, obj_info;
	int read_only;

	/* geometry */
	uint8_t uuid[16];
	uint32_t chunk_size;
	unsigned chunk_shift;
	uint64_t meta_start, meta_blocks;
	uint64_t data_start, data_chunks;
	uint64_t dev_size;

	/* committed and open transaction */
	uint64_t txn;
	uint64_t vol_root, obj_root;
	uint64_t next_vol, next_group;
	int meta_dirty;		       /* anything to commit beyond data */
	atomic_uint_fast64_t data_gen; /* bumped by each in-place data write */
	uint64_t flushed_gen;
	int failed; /* a commit failed: refuse changes */

	struct vol *vols[VOL_BUCKETS];	/* by id */
	struct vol *names[VOL_BUCKETS]; /* by name */
	uint32_t nr_vols;

	/* timer */
	unsigned interval_ms;
	pthread_t timer;
	int timer_running, stopping;
	pthread_mutex_t timer_lock;
	pthread_cond_t timer_cond;
};

struct vol *vol_find(struct pool *p, uint64_t id);
uint64_t data_offset(const struct pool *p, uint64_t chunk);
int commit_locked(struct pool *p);

/* Refcount derivation: walk every tree from the roots and count references
 * (used by open, the checker and the live self-check). */
struct derive {
	uint32_t *meta; /* per metadata block, index = nr - meta_start */
	uint32_t *data; /* per data chunk */
	uint64_t vols;
	uint64_t faults;
	void (*report)(const char *msg, void *ctx);
	void *ctx;
	int strict; /* checker: verify structure and key bounds too */
};
int derive_refcounts(struct pool *p, struct derive *d);
void pool_fault(struct derive *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Volume record codec. */
void vrec_encode(const struct vol *v, uint8_t *rec);
void vrec_decode(const uint8_t *rec, struct vol *v);

/* Exclusive chunks of a volume (walks its unshared part). */
int vol_exclusive_chunks(struct pool *p, const struct vol *v, uint64_t *out);

/* Open helpers shared with the checker. */
int pool_open_internal(struct bdev *dev, const struct pool_open_opts *opts, int derive,
		       struct pool **out);
void pool_free(struct pool *p);

#endif

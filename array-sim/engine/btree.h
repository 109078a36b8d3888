/*
 * btree: copy-on-write B+trees with shared, reference-counted nodes
 * (Rodeh, "B-trees, shadowing, and clones"; dm-btree).
 *
 * Keys are uint64; values have a fixed size per tree (info->value_size).
 * A root of 0 is the empty tree.  Functions that change a tree take the
 * root by pointer and may replace it: every node on the path is shadowed
 * (tm_shadow), so a tree shared with a snapshot is never changed under it.
 * When a shared leaf is copied, each value in it gains a reference through
 * info->value_inc (the mapping tree uses this for data chunk refcounts).
 *
 * Error rules: lookups return -ENODATA when the key is absent; every
 * function may return -EILSEQ/-EIO for a bad block, -ENOMEM, and changing
 * functions -EDQUOT when metadata space is down to the reserve.  A failed
 * change leaves the tree valid (it may hold shadowed copies, which the
 * transaction frees or keeps like any other change).
 *
 * Cost: lookup, insert and remove are O(height) = O(log n) block reads;
 * btree_dec on a tree whose nodes are shared is O(1): it walks only into
 * nodes whose count reaches zero.
 * Locks: lookups and iteration need the pool's shared lock, changes its
 * exclusive lock.
 */
#ifndef ARRAYSIM_BTREE_H
#define ARRAYSIM_BTREE_H

#include <stdint.h>

#include "tm.h"

#define BTREE_MAGIC	 0x4e425341u /* "ASBN" */
#define BTREE_MAX_VALUE	 1008u
#define BTREE_MAX_HEIGHT 16

/* Node layout (4096 bytes, little-endian):
 *   0 le32 csum | 4 le32 magic | 8 le64 blocknr      (block manager header)
 *  16 le16 level (0 = leaf) | 18 le16 nr entries | 20 le16 max entries
 *  22 le16 value_size | 24 le32 tree type | 28 le32 reserved (0)
 *  32 le64 keys[max] | then values[max], value_size bytes each
 *     (internal nodes: value = le64 child block number)
 * Internal key i is a lower bound of every key in child i. */
#define BTREE_HDR 32u

struct btree_info {
	struct tmgr *tm;
	uint32_t type;	     /* tree type stored in each node, checked on read */
	uint16_t value_size; /* leaf value bytes */
	void (*value_inc)(void *ctx, const uint8_t *value);
	void (*value_dec)(void *ctx, const uint8_t *value);
	void *ctx;
};

int btree_lookup(const struct btree_info *info, uint64_t root, uint64_t key, void *value);

/* Like btree_lookup, and sets *exclusive when every node on the path has a
 * reference count of one (no snapshot or clone shares it). */
int btree_lookup_excl(const struct btree_info *info, uint64_t root, uint64_t key, void *value,
		      int *exclusive);

/* Smallest key >= key: sets *found and value. */
int btree_lookup_ge(const struct btree_info *info, uint64_t root, uint64_t key, uint64_t *found,
		    void *value);

/* Insert or overwrite.  If the key existed, its old value is copied to
 * old (if non-NULL) and *existed is set; the caller drops the old value's
 * references itself. */
int btree_insert(const struct btree_info *info, uint64_t *root, uint64_t key, const void *value,
		 void *old, int *existed);

/* Remove key; its value is copied to old (caller drops its references). */
int btree_remove(const struct btree_info *info, uint64_t *root, uint64_t key, void *old);

/* Calls fn for each key in [lo, hi] in order; stops on non-zero. */
int btree_iterate(const struct btree_info *info, uint64_t root, uint64_t lo, uint64_t hi,
		  int (*fn)(uint64_t key, const uint8_t *value, void *ctx), void *ctx);

/* Take or drop one reference on a whole tree (a snapshot or clone made, a
 * volume deleted).  Dropping frees every node, and every value's
 * reference, that nobody else holds. */
void btree_inc(const struct btree_info *info, uint64_t root);
int btree_dec(const struct btree_info *info, uint64_t root);

/* Read a node for the checker and diff: pinned block, header fields. */
struct btree_node {
	struct blk *b;
	unsigned level, nr, max, value_size;
	uint32_t type;
};
int btree_node_get(const struct btree_info *info, uint64_t nr, struct btree_node *n);
void btree_node_put(const struct btree_info *info, struct btree_node *n);
uint64_t btree_node_key(const struct btree_node *n, unsigned i);
const uint8_t *btree_node_value(const struct btree_node *n, unsigned i);
uint64_t btree_node_child(const struct btree_node *n, unsigned i);

#endif

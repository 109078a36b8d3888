/*
 * array: the array's object model on top of the pool engine, as arrays
 * like ONTAP model it with igroups.
 *
 *  - LUN: an engine volume, or a snapshot (an engine snapshot; read-only
 *    unless made briefly writable).  Identified by name, by unit serial
 *    (VPD 0x80) or by NAA-6 designator (VPD 0x83), all derived from the
 *    volume's 128-bit uuid, so they are stable and never shared between a
 *    LUN and its snapshots or clones.
 *  - Host: a name, initiator IQNs, optional CHAP and mutual CHAP.
 *  - Map: (LUN, host) -> LUN number.  An initiator sees only what is mapped
 *    to the host its IQN belongs to.
 *  - Snapshot set: a consistency group made in two phases, keyed by a
 *    client-chosen GUID (VSS's snapshot-set id).  prepare validates and
 *    reserves (may be slow); commit is one engine commit (fast; it runs in
 *    VSS's flush-and-hold window); abort undoes either.
 *
 * Hosts, IQNs and maps are records in the pool's object tree, committed in
 * the pool's transactions; the snapshot-set id lives in each snapshot's
 * volume record (the engine's tag), written by the same commit that makes
 * the snapshots.  Prepared (uncommitted) sets live in memory only: a
 * restart between prepare and commit aborts them, as VSS expects.
 *
 * Errors: 0 or -errno as in pool.h, plus -EBUSY (deleting a mapped LUN or
 * host, or a LUN in a prepared set), -ENXIO (LUN offline), -EALREADY
 * (snapshot set already committed), -ENOTCONN never.
 * Threads: every function takes the array's mutex; callbacks run under it
 * and must not call back into the array.
 */
#ifndef ARRAYSIM_ARRAY_H
#define ARRAYSIM_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#define ARRAY_NAME_MAX	      63
#define ARRAY_IQN_MAX	      223   /* RFC 3720 3.2.6.1: at most 223 bytes */
#define ARRAY_CHAP_USER_MAX   223   /* CHAP_N: usually an IQN */
#define ARRAY_CHAP_SECRET_MAX 128   /* bytes; at least 12 (RFC 7143 12.1.3) */
#define ARRAY_MAX_LUN_NUMBER  16383 /* flat space addressing */
#define ARRAY_SNAPSET_MAX     256   /* LUNs per snapshot set */

/* VPD 0x83 NAA-6 company id: a locally administered CID (not an IEEE OUI
 * assigned to anyone), so it cannot collide with a real vendor's ids. */
#define ARRAY_NAA_CID 0x0A5153u

struct array;

struct lun_info {
	uint64_t id; /* engine volume id */
	char name[ARRAY_NAME_MAX + 1];
	uint8_t uuid[16];
	char serial[33]; /* VPD 0x80 unit serial: uuid in hex */
	uint8_t naa[16]; /* VPD 0x83 NAA-6 (registered extended) */
	uint64_t size;
	uint32_t block_size;
	int snapshot; /* a snapshot LUN */
	int readonly;
	int online;
	uint64_t parent; /* snapshot: origin LUN id; clone: source snapshot id */
	char parent_name[ARRAY_NAME_MAX + 1];
	uint64_t created_ns;
	uint8_t snapset[16];	       /* snapshot: its set id, else zeros */
	uint64_t allocated, exclusive; /* bytes */
};

struct host_info {
	uint64_t id;
	char name[ARRAY_NAME_MAX + 1];
	unsigned nr_iqns;
	char iqns[8][ARRAY_IQN_MAX + 1];
	char chap_user[ARRAY_CHAP_USER_MAX + 1], chap_secret[ARRAY_CHAP_SECRET_MAX + 1];
	char mchap_user[ARRAY_CHAP_USER_MAX + 1], mchap_secret[ARRAY_CHAP_SECRET_MAX + 1];
};
#define ARRAY_HOST_IQNS 8

struct map_info {
	uint64_t lun_id, host_id;
	uint32_t lun_number;
	char lun_name[ARRAY_NAME_MAX + 1];
	char host_name[ARRAY_NAME_MAX + 1];
};

/* Events for the iSCSI layer: which sessions must hear about a change. */
enum array_event {
	ARRAY_EV_MAPPED,   /* host gained lun_number */
	ARRAY_EV_UNMAPPED, /* host lost lun_number */
	ARRAY_EV_RESIZED,  /* LUN capacity changed */
	ARRAY_EV_OFFLINE,  /* LUN taken offline / back online */
	ARRAY_EV_ONLINE,
};
typedef void (*array_hook_fn)(void *ctx, enum array_event ev, uint64_t host_id, uint64_t lun_id,
			      uint32_t lun_number);

int array_open(struct pool *p, struct array **out);
void array_close(struct array *a); /* the pool stays open */
struct pool *array_pool(struct array *a);
void array_set_hook(struct array *a, array_hook_fn fn, void *ctx);

/* ---- LUNs ------------------------------------------------------------ */

int array_lun_create(struct array *a, const char *name, uint64_t size, uint32_t block_size,
		     struct lun_info *out);
int array_lun_delete(struct array *a, const char *name);
int array_lun_resize(struct array *a, const char *name, uint64_t size);
/* key: a name, a 32-digit serial, or an NAA id as 32 hex digits (optional
 * "naa." prefix). */
int array_lun_find(struct array *a, const char *key, struct lun_info *out);
int array_lun_get(struct array *a, uint64_t id, struct lun_info *out);
/* which: 0 LUNs (volumes and clones), 1 snapshots, 2 both.  origin: only
 * snapshots of this LUN (NULL: all).  Space figures are filled in. */
int array_lun_list(struct array *a, int which, const char *origin,
		   int (*fn)(const struct lun_info *l, void *ctx), void *ctx);
int array_lun_set_readonly(struct array *a, const char *name, int ro);
int array_lun_set_online(struct array *a, const char *name, int online);
/* Fast, lock-light check for the data path: is the LUN online? */
int array_lun_online(struct array *a, uint64_t id);
/* A counter that changes (lock-free read) whenever a map, a host's IQNs or
 * a LUN's read-only/online state or size changes: the SCSI core rebuilds
 * its per-nexus LUN table when it differs from the value it cached. */
uint64_t array_generation(struct array *a);

void lun_ident(const uint8_t uuid[16], char serial[33], uint8_t naa[16]);

/* ---- hosts ----------------------------------------------------------- */

int array_host_create(struct array *a, const char *name, const char *iqn);
int array_host_delete(struct array *a, const char *name);
int array_host_add_iqn(struct array *a, const char *name, const char *iqn);
int array_host_remove_iqn(struct array *a, const char *name, const char *iqn);
/* Empty strings (or NULL) clear.  Secrets are 12..128 bytes: RFC 7143
 * 12.1.3 wants at least 96 bits; the Windows initiator takes 12..16, which
 * the array accepts but does not require.  A mutual secret needs a
 * one-way secret and must differ from it. */
int array_host_set_chap(struct array *a, const char *name, const char *user, const char *secret,
			const char *muser, const char *msecret);
int array_host_get(struct array *a, const char *name, struct host_info *out);
int array_host_by_iqn(struct array *a, const char *iqn, struct host_info *out);
int array_host_list(struct array *a, int (*fn)(const struct host_info *h, void *ctx), void *ctx);

/* ---- maps ------------------------------------------------------------ */

/* lun_number < 0: the lowest free number for that host. */
int array_map(struct array *a, const char *lun, const char *host, int lun_number,
	      uint32_t *assigned);
int array_unmap(struct array *a, const char *lun, const char *host);
int array_map_list(struct array *a, int (*fn)(const struct map_info *m, void *ctx), void *ctx);
/* Data-path lookups (no space walk): the host an IQN belongs to, and the
 * LUN a host sees as lun_number.  -ENOENT when there is none. */
int array_host_id_by_iqn(struct array *a, const char *iqn, uint64_t *host_id);
int array_lun_for_host(struct array *a, uint64_t host_id, uint32_t lun_number,
		       struct lun_info *out);
/* The LUNs an initiator may see, in LUN-number order (REPORT LUNS). */
int array_luns_for_iqn(struct array *a, const char *iqn,
		       int (*fn)(uint32_t lun_number, const struct lun_info *l, void *ctx),
		       void *ctx);

/* ---- snapshot sets, snapshots, clones -------------------------------- */

/* names: snapshot name per LUN; NULL entries get "<lun>@<set-prefix>". */
int array_snapset_prepare(struct array *a, const uint8_t set[16], unsigned n,
			  const char *const *luns, const char *const *names);
/* One engine commit.  fn (may be NULL) hears each snapshot made. */
int array_snapset_commit(struct array *a, const uint8_t set[16],
			 int (*fn)(const struct lun_info *snap, void *ctx), void *ctx);
/* Prepared: forget it.  Committed: delete the snapshots it made. */
int array_snapset_abort(struct array *a, const uint8_t set[16]);

int array_snap_delete(struct array *a, const char *name);
int array_clone(struct array *a, const char *snap, const char *name, struct lun_info *out);
/* The LUN takes the snapshot's content (and size). */
int array_revert(struct array *a, const char *lun, const char *snap);
int array_diff(struct array *a, const char *from, const char *to,
	       int (*fn)(uint64_t off, uint64_t len, void *ctx), void *ctx);

#endif

/*
 * Internals of the SCSI core, shared by its files:
 *
 *   scsi.c   contexts, nexuses, the per-nexus LUN table, dispatch, TMF
 *   optab.c  the opcode descriptors (parse function, PR class, usage bits)
 *   sense.c  sense reasons -> key/ASC/ASCQ, the fixed/descriptor builder
 *   ua.c     unit attention queues per I_T nexus
 *   spc.c    INQUIRY/VPD, MODE SENSE/SELECT, REPORT LUNS, REQUEST SENSE,
 *            REPORT SUPPORTED OPCODES, REPORT TARGET PORT GROUPS, misc
 *   sbc.c    READ/WRITE/VERIFY, WRITE SAME, UNMAP, COMPARE AND WRITE,
 *            GET LBA STATUS, READ CAPACITY, SYNCHRONIZE CACHE
 *   sbc2.c   READ DEFECT DATA, SANITIZE, WRITE ATOMIC(16)
 *   xcopy.c  EXTENDED COPY (LID1), RECEIVE COPY RESULTS
 *   pr.c     RESERVE/RELEASE and PERSISTENT RESERVE IN/OUT, APTPL
 *
 * As in LIO, a command is parsed first (CDB validated, LBA and length
 * computed, execute handler chosen) and executed second; both return a
 * sense reason, and only sense.c turns a reason into sense bytes.
 */
#ifndef ARRAYSIM_SCSI_INT_H
#define ARRAYSIM_SCSI_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "scsi.h"

#define SCSI_PORT_MAX	256 /* "iqn...,i,0x<ISID>" fits in 223 + 20 */
#define SCSI_UA_MAX	32  /* per nexus; duplicates are merged */
#define SCSI_PR_REG_MAX 64  /* registrations per LU */
#define SCSI_LUN_NONE	UINT32_MAX

/* Limits reported in VPD 0xB0 and enforced by sbc.c. */
#define SCSI_MAX_XFER_BYTES  (8u << 20)	  /* READ/WRITE transfer length */
#define SCSI_MAX_UNMAP_BYTES (1ull << 30) /* per UNMAP command */
#define SCSI_MAX_UNMAP_DESC  256
#define SCSI_MAX_WS_BYTES    (1ull << 30)
#define SCSI_MAX_CAW_BLOCKS  128 /* COMPARE AND WRITE */

/* Sense reasons: what went wrong, independent of the sense format. */
enum sense_reason {
	SR_OK = 0,
	SR_UA,			 /* unit attention: ASC/ASCQ from the task */
	SR_RESERVATION_CONFLICT, /* status only */
	SR_NO_SENSE,
	SR_INVALID_OPCODE,
	SR_INVALID_FIELD_CDB,
	SR_INVALID_FIELD_PARAM,
	SR_PARAM_LIST_LENGTH,
	SR_INVALID_FIELD_IU, /* data-out shorter than the CDB asks for */
	SR_LBA_OUT_OF_RANGE,
	SR_LUN_NOT_SUPPORTED,
	SR_SAVING_NOT_SUPPORTED,
	SR_INVALID_RELEASE,
	SR_INSUFFICIENT_REG_RESOURCES,
	SR_WRITE_PROTECTED,
	SR_SPACE_ALLOC_FAILED,
	SR_READ_ERROR,
	SR_WRITE_ERROR,
	SR_MISCOMPARE,
	SR_NOT_READY_OFFLINE,
	SR_INTERNAL,
	SR_BUSY, /* status only */
	/* EXTENDED COPY (SPC-4 6.4) */
	SR_TOO_MANY_TGT_DESC,
	SR_TOO_MANY_SEG_DESC,
	SR_UNSUPP_TGT_DESC,
	SR_UNSUPP_SEG_DESC,
	SR_COPY_TARGET_UNREACHABLE,
	SR__COUNT
};

/* Per engine volume state, shared by every nexus that maps it.  Created on
 * first use and kept until scsi_destroy (volume ids are never reused). */
struct pr_reg {
	uint64_t key;
	int all_tg_pt;
	int holder; /* holds the reservation (non all-registrants types) */
	uint16_t rel_port;
	char i_port[SCSI_PORT_MAX];
	char t_port[SCSI_PORT_MAX];
};

struct scsi_dev {
	uint64_t vol;
	struct scsi_dev *next;
	/* COMPARE AND WRITE takes it exclusively, every other write shared:
	 * SBC-3 5.2 wants the compare and the write atomic against writes to
	 * the same LBAs from any nexus. */
	pthread_rwlock_t io_lock;
	pthread_mutex_t lock; /* everything below */
	/* Reservations: fast check for the data path (0: none at all). */
	atomic_int res_active;
	struct scsi_nexus *spc2_owner; /* RESERVE(6/10) holder, cleared at close */
	/* PERSISTENT RESERVE */
	struct pr_reg *regs;
	unsigned nr_regs;
	uint32_t pr_gen;
	uint8_t pr_type;  /* 0: no reservation */
	int aptpl;	  /* persist through power loss (APTPL) */
	int aptpl_stored; /* an object exists in the pool */
	/* Mode parameters (SPC-4 7.5): shared by all I_T nexuses (TST=000b). */
	atomic_int wce;
	atomic_int d_sense;
	atomic_int swp; /* SPC-4 7.5.8 control page SWP: software write protect */
};

struct lun_ent {
	uint32_t number;
	uint32_t block_size;
	uint64_t vol;
	uint64_t nblocks;
	int readonly;
	int snapshot;
	int online;
	struct scsi_dev *dev;
};

struct ua_ent {
	uint32_t lun;
	uint8_t asc, ascq;
};

struct scsi_ctx {
	struct array *array;
	struct pool *pool;
	uint32_t chunk_size;
	pthread_mutex_t lock; /* nexus list */
	struct scsi_nexus *nexuses;
	pthread_mutex_t dev_lock; /* dev list */
	struct scsi_dev *devs;
	void (*fault_fn)(void *ctx, uint32_t op, uint32_t *delay_ms, uint32_t *err);
	void *fault_ctx;
};

struct scsi_nexus {
	struct scsi_ctx *s;
	struct scsi_nexus *next;
	char iqn[ARRAY_IQN_MAX + 1];
	char i_port[SCSI_PORT_MAX];
	char t_port[SCSI_PORT_MAX];
	uint16_t rel_port;

	/* LUN table: rebuilt when the array's generation moves, read under
	 * tlock by every command (binary search, copy out). */
	pthread_rwlock_t tlock;
	struct lun_ent *luns;
	size_t nr_luns;
	_Atomic uint64_t gen;
	atomic_int stale;	  /* force a rebuild (scsi_notify) */
	_Atomic uint64_t host_id; /* 0: the IQN belongs to no host */

	/* Unit attentions */
	pthread_mutex_t ua_lock;
	struct ua_ent ua[SCSI_UA_MAX];
	unsigned nr_ua;
	atomic_uint ua_count;	 /* nr_ua + luns_changed, for the lock-free check */
	int luns_changed;	 /* 3F/0E to queue on every LUN at the next rebuild */
	unsigned lun_change_gen; /* map changes seen (never 0 once one was) */
	uint8_t por_done[(ARRAY_MAX_LUN_NUMBER + 1) / 8];

	/* EXTENDED COPY results held for RECEIVE COPY RESULTS (LIST ID
	 * USAGE 00b), under ua_lock: the last list identifier only. */
	int xc_valid, xc_failed;
	uint8_t xc_list_id;
	uint16_t xc_segments;
	uint64_t xc_bytes;
};

struct scsi_task;
typedef enum sense_reason (*scsi_exec_fn)(struct scsi_task *t);

/* Descriptor of one opcode (or opcode + service action). */
enum pr_class {
	PRC_ALLOW, /* allowed under any reservation (SPC-4 table 66 "Allowed") */
	PRC_READ,  /* conflicts with exclusive-access types only */
	PRC_WRITE, /* conflicts with every type */
	PRC_SPC2,  /* RESERVE/RELEASE: pr.c decides */
	PRC_PR,	   /* PERSISTENT RESERVE IN/OUT: pr.c decides */
};

#define OPF_NO_LUN  1u /* runs on an unmapped LUN number (INQUIRY, ...) */
#define OPF_NO_UA   2u /* neither reports nor clears a unit attention */
#define OPF_ONLINE  4u /* runs while the LU is offline */
#define OPF_SPC2_OK 8u /* allowed under another nexus's RESERVE(6/10) */

struct scsi_opdesc {
	uint8_t opcode;
	uint8_t has_sa;
	uint16_t sa;
	uint8_t cdb_len;
	uint8_t pr_class;
	uint8_t flags;
	enum sense_reason (*parse)(struct scsi_task *t);
	const uint8_t *usage; /* cdb_len bytes: CDB usage data (SPC-4 6.35.3) */
	const char *name;
};

struct scsi_task {
	struct scsi_nexus *n;
	struct scsi_cmd *cmd;
	const uint8_t *cdb;
	const struct scsi_opdesc *op;
	struct lun_ent lun; /* valid if has_lun */
	int has_lun;
	scsi_exec_fn execute;
	/* parse results for the data commands */
	uint64_t lba;
	uint64_t nblocks;
	unsigned pool_flags; /* POOL_FUA */
	unsigned bytchk;
	/* sense details */
	uint8_t ua_asc, ua_ascq;
	int info_valid;
	uint64_t info;
	int sks_valid;
	uint8_t sks_cd; /* 1: field in the CDB, 0: in the parameter list */
	int8_t sks_bit; /* -1: no bit pointer */
	uint16_t sks_field;
};

/* ---- helpers for all files --------------------------------------------- */

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}
static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* Invalid field in the CDB at byte/bit (bit -1: whole byte). */
static inline enum sense_reason bad_cdb(struct scsi_task *t, unsigned byte, int bit)
{
	t->sks_valid = 1;
	t->sks_cd = 1;
	t->sks_field = (uint16_t)byte;
	t->sks_bit = (int8_t)bit;
	return SR_INVALID_FIELD_CDB;
}

static inline enum sense_reason bad_param(struct scsi_task *t, unsigned byte, int bit)
{
	t->sks_valid = 1;
	t->sks_cd = 0;
	t->sks_field = (uint16_t)byte;
	t->sks_bit = (int8_t)bit;
	return SR_INVALID_FIELD_PARAM;
}

/* Copy a response built in buf to data-in, honouring the allocation length
 * and the fabric's buffer (SPC-4 4.2.5.6: truncation is not an error). */
void scsi_task_data_in(struct scsi_task *t, const void *buf, uint32_t len, uint32_t alloc_len);
/* Map an engine errno to a sense reason. */
enum sense_reason scsi_errno_reason(int err, int writing);
/* Call the fault hook for op (PROTO_FOP_*): sleeps, may fail the command. */
enum sense_reason scsi_fault(struct scsi_task *t, uint32_t op);
/* The LU's current write-cache setting gives FUA to every write if off. */
unsigned scsi_write_flags(struct scsi_task *t, int fua);

/* sense.c */
void scsi_build_sense(struct scsi_task *t, enum sense_reason r, int desc);
uint32_t scsi_sense_len(const uint8_t *sense);

/* optab.c */
const struct scsi_opdesc *scsi_op_find(const uint8_t *cdb, unsigned cdb_len, int *sa_unknown);
const struct scsi_opdesc *scsi_op_at(unsigned i); /* NULL past the end */

/* ua.c */
void ua_queue(struct scsi_nexus *n, uint32_t lun, uint8_t asc, uint8_t ascq);
/* The same with ua_lock held. */
void ua_queue_locked(struct scsi_nexus *n, uint32_t lun, uint8_t asc, uint8_t ascq);
/* Take the pending UA for lun, if any (1).  Oldest first. */
int ua_take(struct scsi_nexus *n, uint32_t lun, uint8_t *asc, uint8_t *ascq);
void ua_clear(struct scsi_nexus *n, uint8_t asc, uint8_t ascq);
/* Queue asc/ascq on every LUN of every nexus that maps dev, except skip. */
void ua_dev(struct scsi_ctx *s, struct scsi_dev *dev, struct scsi_nexus *skip, uint8_t asc,
	    uint8_t ascq);
/* Queue on the LUNs mapping dev of the nexuses whose port names match
 * (t_port NULL: any target port). */
void ua_port(struct scsi_ctx *s, struct scsi_dev *dev, const char *i_port, const char *t_port,
	     uint8_t asc, uint8_t ascq);
/* LUN numbers of n that map dev (up to max); returns how many. */
unsigned nexus_luns_of(struct scsi_nexus *n, uint64_t vol, uint32_t *out, unsigned max);

/* scsi.c: refresh the LUN table if the array changed (REPORT LUNS too). */
void nexus_refresh(struct scsi_nexus *n);

/* parse functions (optab.c refers to them) */
enum sense_reason spc_parse_inquiry(struct scsi_task *t);
enum sense_reason spc_parse_tur(struct scsi_task *t);
enum sense_reason spc_parse_request_sense(struct scsi_task *t);
enum sense_reason spc_parse_report_luns(struct scsi_task *t);
enum sense_reason spc_parse_mode_sense(struct scsi_task *t);
enum sense_reason spc_parse_mode_select(struct scsi_task *t);
enum sense_reason spc_parse_rsoc(struct scsi_task *t);
enum sense_reason spc_parse_rtpg(struct scsi_task *t);
enum sense_reason spc_parse_start_stop(struct scsi_task *t);
enum sense_reason spc_parse_prevent_allow(struct scsi_task *t);
enum sense_reason spc_parse_log_sense(struct scsi_task *t);
enum sense_reason sbc_parse_rw(struct scsi_task *t);
enum sense_reason sbc_parse_verify(struct scsi_task *t);
enum sense_reason sbc_parse_write_verify(struct scsi_task *t);
enum sense_reason sbc_parse_prefetch(struct scsi_task *t);
enum sense_reason sbc_parse_sync(struct scsi_task *t);
enum sense_reason sbc_parse_read_capacity10(struct scsi_task *t);
enum sense_reason sbc_parse_read_capacity16(struct scsi_task *t);
enum sense_reason sbc_parse_get_lba_status(struct scsi_task *t);
enum sense_reason sbc_parse_write_same(struct scsi_task *t);
enum sense_reason sbc_parse_unmap(struct scsi_task *t);
enum sense_reason sbc_parse_caw(struct scsi_task *t);
enum sense_reason sbc_parse_orwrite(struct scsi_task *t);
enum sense_reason sbc_parse_read_defect(struct scsi_task *t);
enum sense_reason sbc_parse_sanitize(struct scsi_task *t);
enum sense_reason sbc_parse_write_atomic(struct scsi_task *t);
enum sense_reason spc_parse_xcopy(struct scsi_task *t);
enum sense_reason spc_parse_rcr(struct scsi_task *t);
enum sense_reason pr_parse_reserve(struct scsi_task *t);
enum sense_reason pr_parse_release(struct scsi_task *t);
enum sense_reason pr_parse_in(struct scsi_task *t);
enum sense_reason pr_parse_out(struct scsi_task *t);

/* pr.c */
/* Reservation check before execution (SPC-4 5.12.1, table 66). */
enum sense_reason pr_check(struct scsi_task *t);
/* Load APTPL state for a freshly made dev (called once, unlocked dev). */
void pr_load(struct scsi_ctx *s, struct scsi_dev *dev);
/* I_T nexus loss / resets drop RESERVE(6/10) reservations. */
void pr_nexus_gone(struct scsi_ctx *s, struct scsi_nexus *n);
void pr_spc2_reset(struct scsi_dev *dev);

/* sbc.c: the block limits VPD needs the same numbers sbc.c enforces. */
uint32_t sbc_max_xfer_blocks(uint32_t block_size);
uint32_t sbc_max_unmap_blocks(uint32_t block_size);
uint32_t sbc_max_ws_blocks(uint32_t block_size);
/* sbc2.c: MAXIMUM ATOMIC TRANSFER LENGTH (VPD B0h) */
uint32_t sbc_max_atomic_blocks(uint32_t block_size);

#endif

/*
 * scsi: the SCSI block device emulation (SPC-4 / SBC-3), knowing nothing of
 * iSCSI.  This is the contract between a fabric (array-sim/iscsi/) and the
 * SCSI core (array-sim/scsi/), after LIO's split of fabric, core and
 * backend.  The backend is the pool engine, reached through the array's
 * object model (LUN numbers per host, LUN identity, online state).
 *
 * Life cycle:
 *   scsi_create(array)          once, at daemon start
 *   scsi_nexus_open(...)        per I_T nexus (iSCSI: per session, at login)
 *   scsi_execute(nexus, cmd)    per command, on the fabric's thread
 *   scsi_tmf(nexus, ...)        task management
 *   scsi_nexus_close(nexus)     at logout / session end
 *
 * Threads: scsi_execute may run on several threads at once, for the same
 * or different nexuses.  It blocks for the I/O (page-cache reads and
 * writes, and a commit for SYNCHRONIZE CACHE / FUA); it never waits for
 * the network.  There is no thread hop inside: the fabric's thread does
 * the engine call.
 */
#ifndef ARRAYSIM_SCSI_H
#define ARRAYSIM_SCSI_H

#include <stddef.h>
#include <stdint.h>

#include "array.h"

/* SAM-5 status codes */
#define SAM_STAT_GOOD		      0x00
#define SAM_STAT_CHECK_CONDITION      0x02
#define SAM_STAT_CONDITION_MET	      0x04
#define SAM_STAT_BUSY		      0x08
#define SAM_STAT_RESERVATION_CONFLICT 0x18
#define SAM_STAT_TASK_SET_FULL	      0x28
#define SAM_STAT_TASK_ABORTED	      0x40

#define SCSI_SENSE_MAX 252
#define SCSI_MAX_CDB   32

/* Vendor and product, fixed to the project (INQUIRY, and what the VSS
 * provider matches in AreLunsSupported). */
#define SCSI_VENDOR   "ARRAYSIM"      /* 8 bytes, space padded */
#define SCSI_PRODUCT  "VIRTUAL-ARRAY" /* 16 bytes, space padded */
#define SCSI_REVISION "0001"	      /* 4 bytes */

struct scsi_ctx;
struct scsi_nexus;

enum scsi_data_dir { SCSI_DIR_NONE = 0, SCSI_DIR_READ = 1, SCSI_DIR_WRITE = 2 };

struct scsi_cmd {
	/* ---- in: filled by the fabric ---- */
	uint8_t cdb[SCSI_MAX_CDB];
	unsigned cdb_len;
	uint64_t lun;	       /* LUN number as addressed (SAM flat/peripheral decoded) */
	uint64_t tag;	       /* task tag (iSCSI ITT), for ABORT TASK */
	unsigned task_attr;    /* SAM task attribute: 0 simple, 1 ordered, 2 HoQ, 4 ACA */
	uint32_t exp_xfer_len; /* Expected Data Transfer Length from the fabric */
	/* WRITE direction: the fabric gathered min(exp_xfer_len, what arrived)
	 * bytes before calling scsi_execute (immediate, unsolicited and R2T'd
	 * data).  data_out_len is what is valid in data_out. */
	const uint8_t *data_out;
	uint32_t data_out_len;
	/* READ direction: a buffer of exp_xfer_len bytes the fabric owns; the
	 * core writes at most that much into it. */
	uint8_t *data_in;

	/* ---- out: filled by the core ---- */
	uint8_t status;	      /* SAM_STAT_* */
	uint32_t data_in_len; /* bytes of data_in that are valid (<= exp_xfer_len) */
	/* Bytes the command wanted to move (from the CDB / allocation length)
	 * so the fabric can report residual over/underflow (RFC 7143 11.4.5). */
	uint32_t xfer_len;
	uint8_t sense[SCSI_SENSE_MAX];
	uint32_t sense_len; /* 0 unless CHECK CONDITION */
};

/* How many bytes of data-out a CDB needs (0 for no data-out); the fabric
 * uses it to bound what it solicits with R2T.  -1 for an unknown opcode or
 * a CDB too short to tell (scsi_execute then fails it properly). */
int64_t scsi_cdb_data_out_len(const uint8_t *cdb, unsigned cdb_len, uint32_t block_size);

/* The block size of the LUN the nexus addresses as lun (0 if none). */
uint32_t scsi_lun_block_size(struct scsi_nexus *n, uint64_t lun);

int scsi_create(struct array *a, struct scsi_ctx **out);
void scsi_destroy(struct scsi_ctx *s);

/*
 * An I_T nexus.  initiator_iqn selects the host and so the LUNs this nexus
 * sees (masking).  initiator_port is the SCSI initiator port name
 * ("iqn...,i,0x<ISID>") and target_port the target port name
 * ("iqn...,t,0x<TPGT>"): persistent reservations are kept per (I_T nexus)
 * by these names.  rel_port is the relative target port identifier (VPD
 * 0x83, REPORT TARGET PORT GROUPS).
 */
int scsi_nexus_open(struct scsi_ctx *s, const char *initiator_iqn, const char *initiator_port,
		    const char *target_port, uint16_t rel_port, struct scsi_nexus **out);
void scsi_nexus_close(struct scsi_nexus *n);

/* Execute cmd to completion (synchronously). */
void scsi_execute(struct scsi_nexus *n, struct scsi_cmd *cmd);

/* SAM-5 task management functions. */
enum scsi_tmf {
	SCSI_TMF_ABORT_TASK = 1,
	SCSI_TMF_ABORT_TASK_SET = 2,
	SCSI_TMF_CLEAR_ACA = 3,
	SCSI_TMF_CLEAR_TASK_SET = 4,
	SCSI_TMF_LUN_RESET = 5,
	SCSI_TMF_TARGET_WARM_RESET = 6,
	SCSI_TMF_TARGET_COLD_RESET = 7,
};
/* Returns 0 (function complete) or -ENOENT (no such LUN) / -ENOTSUP.
 * Commands execute synchronously, so by the time a TMF arrives there is
 * nothing in the core to abort; the fabric aborts what it still holds. The
 * core raises the unit attentions the TMF implies (SAM-5 6.3: LUN RESET
 * -> BUS DEVICE RESET FUNCTION OCCURRED, target reset -> POWER ON, RESET,
 * OR BUS DEVICE RESET OCCURRED, on every nexus including the issuer's)
 * and drops RESERVE(6/10) reservations as SPC-2 requires. */
int scsi_tmf(struct scsi_nexus *n, enum scsi_tmf fn, uint64_t lun);

/*
 * Unit attentions raised by array changes (map/unmap: REPORTED LUNS DATA
 * HAS CHANGED; resize: CAPACITY DATA HAS CHANGED).  The daemon wires the
 * array's hook to this; the core queues the UA on every nexus of the
 * affected host.  Returns the number of nexuses that got it.
 */
int scsi_notify(struct scsi_ctx *s, enum array_event ev, uint64_t host_id, uint64_t lun_id,
		uint32_t lun_number);

/* Does the nexus have a pending unit attention (the fabric may send an
 * iSCSI Async Message to prompt the initiator to issue a command)? */
int scsi_nexus_has_ua(struct scsi_nexus *n);
/* Is REPORTED LUNS DATA HAS CHANGED (3Fh/0Eh) pending on the nexus, from a
 * map change not yet reported?  0 if not; else the number of the latest map
 * change (never 0, it grows with every scsi_notify MAPPED/UNMAPPED), so that
 * a fabric prompts the initiator once per change, and only for this UA (an
 * iSCSI Async Message names it; POWER ON or CAPACITY DATA HAS CHANGED must
 * not be passed off as a LUN change). */
unsigned scsi_nexus_luns_changed(struct scsi_nexus *n);

/* Control-plane fault hook for data commands: the daemon sets it to
 * ctl_fault_take.  op is PROTO_FOP_READ/WRITE/FLUSH. */
void scsi_set_fault_hook(struct scsi_ctx *s,
			 void (*fn)(void *ctx, uint32_t op, uint32_t *delay_ms, uint32_t *err),
			 void *ctx);

#endif

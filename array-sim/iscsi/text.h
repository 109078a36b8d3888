/*
 * text: iSCSI text keys (RFC 7143 6.1, 6.2 and 13): parsing a data
 * segment of key=value pairs, building replies, and negotiating the
 * operational keys against the target's offer.  Pure computation; fuzzed
 * with the login code (tests/fuzz/fuzz_login.c).
 */
#ifndef ARRAYSIM_ISCSI_TEXT_H
#define ARRAYSIM_ISCSI_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define ISCSI_KEY_MAX	63    /* RFC 7143 6.1: key names up to 63 bytes */
#define ISCSI_VALUE_MAX 8192  /* 6.1: binary values (CHAP) up to 8192 */
#define ISCSI_TEXT_MAX	65536 /* most text one request may accumulate */
#define ISCSI_KV_MAX	128   /* pairs per request */

/* Digest choice */
enum { ISCSI_DIGEST_NONE = 0, ISCSI_DIGEST_CRC32C = 1 };

/* Operational parameters of a session and its connection (RFC 7143 13). */
struct iscsi_params {
	uint32_t max_recv_dsl;	/* ours: what we accept per PDU (declared) */
	uint32_t max_xmit_dsl;	/* the initiator's MaxRecvDataSegmentLength */
	uint32_t max_burst;	/* MaxBurstLength */
	uint32_t first_burst;	/* FirstBurstLength */
	uint32_t max_r2t;	/* MaxOutstandingR2T */
	uint32_t max_conns;	/* MaxConnections */
	uint32_t t2w, t2r;	/* DefaultTime2Wait / Retain, seconds */
	uint32_t erl;		/* ErrorRecoveryLevel */
	uint32_t proto_level;	/* iSCSIProtocolLevel (RFC 7144) */
	uint8_t initial_r2t;	/* InitialR2T */
	uint8_t immediate_data; /* ImmediateData */
	uint8_t pdu_inorder;	/* DataPDUInOrder */
	uint8_t seq_inorder;	/* DataSequenceInOrder */
	uint8_t header_digest, data_digest;
};

/* RFC 7143 13 defaults (what holds when a key is never negotiated). */
void iscsi_params_default(struct iscsi_params *p);
/* What this target offers / accepts at most: 256 KiB PDUs, 16 MiB bursts,
 * InitialR2T=No, ImmediateData=Yes, 16 outstanding R2Ts, ERL 0, one
 * connection. */
void iscsi_params_target_offer(struct iscsi_params *p);

/* ---- parsing ------------------------------------------------------------ */

struct iscsi_kv {
	const char *key, *val;
};

/* Split a text data segment (NUL-separated key=value pairs; the caller
 * guarantees buf[len] is a readable NUL) in place.  RFC 7143 6.1: every
 * pair has '=', keys are 1..63 of [A-Za-z0-9.-+@_], values at most 8192
 * bytes.  Empty strings between NULs (padding) are skipped.  Returns the
 * number of pairs, or -1 on a malformed segment (the caller fails the
 * login / rejects the text request). */
int iscsi_text_split(char *buf, size_t len, struct iscsi_kv *kv, unsigned max);

/* Numbers (RFC 7143 6.1 numerical-value): decimal or 0x hex, no sign, no
 * junk, fitting in 64 bits.  0 or -1. */
int iscsi_text_number(const char *s, uint64_t *out);
/* "Yes"/"No" (case-sensitive, 6.2.2).  1, 0, or -1. */
int iscsi_text_bool(const char *s);

/* ---- building ----------------------------------------------------------- */

struct iscsi_textbuf {
	char *buf;
	size_t len, cap;
	int overflow; /* something did not fit */
};

void iscsi_textbuf_init(struct iscsi_textbuf *t, char *buf, size_t cap);
/* Append key=val\0 (dropped, and overflow set, when it does not fit). */
void iscsi_text_add(struct iscsi_textbuf *t, const char *key, const char *val);
void iscsi_text_add_num(struct iscsi_textbuf *t, const char *key, uint64_t v);

/* ---- negotiation -------------------------------------------------------- */

/* Context: when a key arrives (login stage or full feature phase) and in
 * which kind of session. */
struct iscsi_nego {
	struct iscsi_params p;	   /* the result so far */
	struct iscsi_params offer; /* what the target accepts at most */
	int discovery;		   /* SessionType=Discovery */
	int ffp;		   /* a Text Request in full feature phase */
	uint32_t seen;		   /* bit per table entry: already answered */
	int mrdsl_declared;	   /* our MaxRecvDataSegmentLength went out */
};

void iscsi_nego_init(struct iscsi_nego *n, const struct iscsi_params *offer, int discovery);

/* Negotiate one operational key and append the reply to out.  Returns 1
 * when the key is handled here (including NotUnderstood/Reject/Irrelevant
 * replies), 0 when it is not an operational key (the login code handles
 * session and security keys and, failing that, answers NotUnderstood). */
int iscsi_nego_key(struct iscsi_nego *n, const char *key, const char *val,
		   struct iscsi_textbuf *out);
/* After all keys of a login: enforce FirstBurstLength <= MaxBurstLength
 * (RFC 7143 13.14) and declare our MaxRecvDataSegmentLength once. */
void iscsi_nego_finish(struct iscsi_nego *n, struct iscsi_textbuf *out);

#endif

/*
 * text: key=value parsing and operational key negotiation (RFC 7143 6
 * and 13).  The table below is the whole policy: one row per key with its
 * result function (13: "the result function"), range and scope.
 */
#include "text.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

void iscsi_params_default(struct iscsi_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_recv_dsl = 8192; /* 13.12 */
	p->max_xmit_dsl = 8192; /* the initiator's, until it declares */
	p->max_burst = 262144;	/* 13.13 */
	p->first_burst = 65536; /* 13.14 */
	p->max_r2t = 1;		/* 13.17 */
	p->max_conns = 1;	/* 13.2 */
	p->t2w = 2;		/* 13.15 */
	p->t2r = 20;		/* 13.16 */
	p->erl = 0;		/* 13.20 */
	p->proto_level = 0;	/* RFC 7144 */
	p->initial_r2t = 1;	/* 13.10 */
	p->immediate_data = 1;	/* 13.11 */
	p->pdu_inorder = 1;	/* 13.18 */
	p->seq_inorder = 1;	/* 13.19 */
	p->header_digest = ISCSI_DIGEST_NONE;
	p->data_digest = ISCSI_DIGEST_NONE;
}

void iscsi_params_target_offer(struct iscsi_params *p)
{
	iscsi_params_default(p);
	p->max_recv_dsl = 262144;
	p->max_xmit_dsl = 262144; /* unused in an offer */
	p->max_burst = 16u << 20;
	p->first_burst = 16u << 20;
	p->max_r2t = 16;
	p->max_conns = 1; /* no MC/S: docs/iscsi.md */
	p->t2w = 2;
	p->t2r = 20;
	p->erl = 0; /* only ERL 0: docs/iscsi.md */
	p->proto_level = 1;
	p->initial_r2t = 0; /* we take unsolicited data */
	p->immediate_data = 1;
	p->pdu_inorder = 1; /* we only do in-order data */
	p->seq_inorder = 1;
}

/* ---- parsing -------------------------------------------------------------- */

static int key_char_ok(char c)
{
	/* RFC 7143 6.1: key-name characters */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == '@' || c == '_';
}

int iscsi_text_split(char *buf, size_t len, struct iscsi_kv *kv, unsigned max)
{
	size_t off = 0;
	int n = 0;

	while (off < len) {
		char *pair = buf + off, *eq;
		size_t plen = strnlen(pair, len - off);

		off += plen + 1;
		if (plen == 0)
			continue; /* padding, or a stray NUL */
		eq = memchr(pair, '=', plen);
		if (!eq || eq == pair || (size_t)(eq - pair) > ISCSI_KEY_MAX)
			return -1;
		if (plen - (size_t)(eq - pair) - 1 > ISCSI_VALUE_MAX)
			return -1;
		for (char *c = pair; c < eq; c++)
			if (!key_char_ok(*c))
				return -1;
		if ((unsigned)n >= max)
			return -1;
		/* The last pair may lack its NUL (a sloppy initiator); the
		 * caller's guaranteed buf[len] NUL terminates it. */
		pair[plen] = '\0';
		*eq = '\0';
		kv[n].key = pair;
		kv[n].val = eq + 1;
		n++;
	}
	return n;
}

int iscsi_text_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int hex = 0;

	if ((s[0] == '0') && (s[1] == 'x' || s[1] == 'X')) {
		hex = 1;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (hex && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (hex && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / (hex ? 16 : 10))
			return -1;
		v = v * (hex ? 16 : 10) + d;
	}
	*out = v;
	return 0;
}

int iscsi_text_bool(const char *s)
{
	if (!strcmp(s, "Yes"))
		return 1;
	if (!strcmp(s, "No"))
		return 0;
	return -1;
}

/* ---- building ------------------------------------------------------------- */

void iscsi_textbuf_init(struct iscsi_textbuf *t, char *buf, size_t cap)
{
	t->buf = buf;
	t->len = 0;
	t->cap = cap;
	t->overflow = 0;
}

void iscsi_text_add(struct iscsi_textbuf *t, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val);

	if (t->len + kl + vl + 2 > t->cap) {
		t->overflow = 1;
		return;
	}
	memcpy(t->buf + t->len, key, kl);
	t->buf[t->len + kl] = '=';
	memcpy(t->buf + t->len + kl + 1, val, vl);
	t->buf[t->len + kl + 1 + vl] = '\0';
	t->len += kl + vl + 2;
}

void iscsi_text_add_num(struct iscsi_textbuf *t, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	iscsi_text_add(t, key, num);
}

/* ---- negotiation ---------------------------------------------------------- */

enum key_type {
	KT_MIN,	   /* numerical, result = min (13: "Minimum") */
	KT_MAX,	   /* numerical, result = max (DefaultTime2Wait) */
	KT_DECL,   /* declarative (MaxRecvDataSegmentLength) */
	KT_OR,	   /* boolean, result = OR */
	KT_AND,	   /* boolean, result = AND */
	KT_DIGEST, /* list of None / CRC32C */
	KT_NO,	   /* obsolete markers: AND with our "No" */
	KT_REJECT, /* obsolete marker intervals: Reject */
	KT_TASKREP /* RFC 7144 TaskReporting: we do RFC3720 */
};

#define K_LO	0x1 /* leading-only / login-only: Reject in a Text Request */
#define K_NODIS 0x2 /* Irrelevant in a Discovery session (RFC 7143 13) */

struct keydef {
	const char *name;
	enum key_type type;
	uint32_t min, max;
	int off;  /* offsetof(struct iscsi_params, field), -1 none */
	int wide; /* uint32_t field, else uint8_t */
	unsigned flags;
};

#define P32(f) (int)offsetof(struct iscsi_params, f), 1
#define P8(f)  (int)offsetof(struct iscsi_params, f), 0

static const struct keydef keys[] = {
    {"HeaderDigest", KT_DIGEST, 0, 0, P8(header_digest), K_LO},			   /* 13.1 */
    {"DataDigest", KT_DIGEST, 0, 0, P8(data_digest), K_LO},			   /* 13.1 */
    {"MaxConnections", KT_MIN, 1, 65535, P32(max_conns), K_LO | K_NODIS},	   /* 13.2 */
    {"InitialR2T", KT_OR, 0, 1, P8(initial_r2t), K_LO | K_NODIS},		   /* 13.10 */
    {"ImmediateData", KT_AND, 0, 1, P8(immediate_data), K_LO | K_NODIS},	   /* 13.11 */
    {"MaxRecvDataSegmentLength", KT_DECL, 512, 16777215, P32(max_xmit_dsl), 0},	   /* 13.12 */
    {"MaxBurstLength", KT_MIN, 512, 16777215, P32(max_burst), K_LO | K_NODIS},	   /* 13.13 */
    {"FirstBurstLength", KT_MIN, 512, 16777215, P32(first_burst), K_LO | K_NODIS}, /* 13.14 */
    {"DefaultTime2Wait", KT_MAX, 0, 3600, P32(t2w), K_LO},			   /* 13.15 */
    {"DefaultTime2Retain", KT_MIN, 0, 3600, P32(t2r), K_LO},			   /* 13.16 */
    {"MaxOutstandingR2T", KT_MIN, 1, 65535, P32(max_r2t), K_LO | K_NODIS},	   /* 13.17 */
    {"DataPDUInOrder", KT_OR, 0, 1, P8(pdu_inorder), K_LO | K_NODIS},		   /* 13.18 */
    {"DataSequenceInOrder", KT_OR, 0, 1, P8(seq_inorder), K_LO | K_NODIS},	   /* 13.19 */
    {"ErrorRecoveryLevel", KT_MIN, 0, 2, P32(erl), K_LO},			   /* 13.20 */
    {"iSCSIProtocolLevel", KT_MIN, 0, 31, P32(proto_level), K_LO},		   /* 7144 */
    /* RFC 7143 13.26 / appendix: markers are obsolete; "No" is what
     * LIO, tgt and ctld answer and what every initiator accepts. */
    {"IFMarker", KT_NO, 0, 1, -1, 0, K_LO},
    {"OFMarker", KT_NO, 0, 1, -1, 0, K_LO},
    {"IFMarkInt", KT_REJECT, 0, 0, -1, 0, K_LO},
    {"OFMarkInt", KT_REJECT, 0, 0, -1, 0, K_LO},
    {"TaskReporting", KT_TASKREP, 0, 0, -1, 0, K_LO},
};

void iscsi_nego_init(struct iscsi_nego *n, const struct iscsi_params *offer, int discovery)
{
	memset(n, 0, sizeof(*n));
	iscsi_params_default(&n->p);
	n->p.max_recv_dsl = offer->max_recv_dsl;
	n->offer = *offer;
	n->discovery = discovery;
}

static uint32_t get_field(const struct iscsi_params *p, const struct keydef *k)
{
	const char *base = (const char *)p + k->off;
	uint32_t v32;

	if (!k->wide)
		return *(const uint8_t *)base;
	memcpy(&v32, base, sizeof(v32));
	return v32;
}

static void set_field(struct iscsi_params *p, const struct keydef *k, uint32_t v)
{
	char *base = (char *)p + k->off;

	if (!k->wide)
		*(uint8_t *)base = (uint8_t)v;
	else
		memcpy(base, &v, sizeof(v));
}

/* RFC 7143 6.2.1 list negotiation: the first value the initiator lists
 * that we support. */
static int pick_digest(const char *val)
{
	const char *s = val;

	while (*s) {
		size_t l = strcspn(s, ",");

		if (l == 4 && !strncmp(s, "None", 4))
			return ISCSI_DIGEST_NONE;
		if (l == 6 && !strncmp(s, "CRC32C", 6))
			return ISCSI_DIGEST_CRC32C;
		s += l;
		if (*s == ',')
			s++;
	}
	return -1;
}

int iscsi_nego_key(struct iscsi_nego *n, const char *key, const char *val,
		   struct iscsi_textbuf *out)
{
	const struct keydef *k = NULL;
	uint64_t num;
	int b;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, key)) {
			k = &keys[i];
			break;
		}
	if (!k)
		return 0;
	/* 13: leading-only keys are negotiated in the login; in full
	 * feature phase they are refused. */
	if (n->ffp && (k->flags & K_LO)) {
		iscsi_text_add(out, key, "Reject");
		return 1;
	}
	/* 13.x "Irrelevant when: SessionType=Discovery" */
	if (n->discovery && (k->flags & K_NODIS)) {
		iscsi_text_add(out, key, "Irrelevant");
		return 1;
	}
	switch (k->type) {
	case KT_MIN:
	case KT_MAX:
	case KT_DECL:
		if (iscsi_text_number(val, &num) || num < k->min || num > k->max) {
			/* 6.2: an out-of-range or malformed value */
			iscsi_text_add(out, key, "Reject");
			return 1;
		}
		if (k->type == KT_DECL) {
			/* 13.12: the initiator's receive limit becomes our
			 * send limit; ours is declared separately. */
			set_field(&n->p, k, (uint32_t)num);
			if (n->ffp) {
				iscsi_text_add_num(out, key, n->p.max_recv_dsl);
				n->mrdsl_declared = 1;
			}
			return 1;
		}
		{
			uint32_t ours = get_field(&n->offer, k);
			uint32_t r = (uint32_t)num;

			if (k->type == KT_MIN && ours < r)
				r = ours;
			if (k->type == KT_MAX && ours > r)
				r = ours;
			set_field(&n->p, k, r);
			iscsi_text_add_num(out, key, r);
		}
		return 1;
	case KT_OR:
	case KT_AND:
		b = iscsi_text_bool(val);
		if (b < 0) {
			iscsi_text_add(out, key, "Reject");
			return 1;
		}
		if (k->type == KT_OR)
			b = b || get_field(&n->offer, k);
		else
			b = b && get_field(&n->offer, k);
		set_field(&n->p, k, (uint32_t)b);
		iscsi_text_add(out, key, b ? "Yes" : "No");
		return 1;
	case KT_NO:
		if (iscsi_text_bool(val) < 0)
			iscsi_text_add(out, key, "Reject");
		else
			iscsi_text_add(out, key, "No");
		return 1;
	case KT_REJECT:
		iscsi_text_add(out, key, "Reject");
		return 1;
	case KT_TASKREP:
		/* RFC 7144 4.2.2: a list; RFC3720 is the baseline */
		iscsi_text_add(out, key, strstr(val, "RFC3720") ? "RFC3720" : "Reject");
		return 1;
	case KT_DIGEST:
		b = pick_digest(val);
		if (b < 0) {
			iscsi_text_add(out, key, "Reject");
			return 1;
		}
		set_field(&n->p, k, (uint32_t)b);
		iscsi_text_add(out, key, b == ISCSI_DIGEST_CRC32C ? "CRC32C" : "None");
		return 1;
	}
	return 0;
}

void iscsi_nego_finish(struct iscsi_nego *n, struct iscsi_textbuf *out)
{
	/* 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength; the keys
	 * come in any order, so this is only checked at the end.  We clamp
	 * (both sides then hold the smaller value as the burst limit). */
	if (n->p.first_burst > n->p.max_burst)
		n->p.first_burst = n->p.max_burst;
	if (!n->mrdsl_declared) {
		/* 13.12: declarative, per direction; libiscsi assumes 8192
		 * if we stay silent, so always say it. */
		iscsi_text_add_num(out, "MaxRecvDataSegmentLength", n->p.max_recv_dsl);
		n->mrdsl_declared = 1;
	}
}

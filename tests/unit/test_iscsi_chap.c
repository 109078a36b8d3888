/*
 * test_iscsi_chap: CHAP (array-sim/iscsi/chap.[ch]) and the login state
 * machine (login.[ch]) driven through whole logins: no authentication,
 * CHAP, mutual CHAP, hex and base64 values, bad lengths, reflected
 * challenges, identity checks and stage rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../array-sim/iscsi/chap.h"
#include "../../array-sim/iscsi/login.h"
#include "../../array-sim/iscsi/pdu.h"

#define TGT	 "iqn.2026-11.org.arraysim:target"
#define I_PLAIN	 "iqn.1994-05.com.example:plain"
#define I_CHAP	 "iqn.1994-05.com.example:chap"
#define I_MUTUAL "iqn.1994-05.com.example:mutual"
#define SECRET	 "secretsecret12"
#define MSECRET	 "tsecrettsecret"

/* ---- codec and vectors ------------------------------------------------------- */

static void test_md5_vectors(void **state)
{
	uint8_t out[16], chal[16];
	static const uint8_t abc[16] = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
					0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72};
	static const uint8_t v1[16] = {0x98, 0x60, 0xbd, 0x91, 0x69, 0x5f, 0xa1, 0x9d,
				       0x45, 0x38, 0xa1, 0x0a, 0xde, 0x82, 0x96, 0x98};

	(void)state;
	/* RFC 1321 A.5: MD5("abc"), as id 'a' + secret "bc" + empty */
	assert_int_equal(chap_md5('a', "bc", 2, NULL, 0, out), 0);
	assert_memory_equal(out, abc, 16);
	/* RFC 1994 4.1: MD5(id || secret || challenge) */
	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)i;
	assert_int_equal(chap_md5(0x2a, SECRET, strlen(SECRET), chal, 16, out), 0);
	assert_memory_equal(out, v1, 16);
	assert_true(chap_digest_equal(out, v1));
	out[15] ^= 1;
	assert_false(chap_digest_equal(out, v1));
}

static void test_binary_values(void **state)
{
	uint8_t b[32];
	char hex[64];

	(void)state;
	/* hex: 0x and 0X, odd digit count has an implied leading 0 */
	assert_int_equal(chap_decode("0x0102ff", b, sizeof(b)), 3);
	assert_int_equal(b[2], 0xff);
	assert_int_equal(chap_decode("0XABC", b, sizeof(b)), 2);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0xbc);
	assert_int_equal(chap_decode("0x", b, sizeof(b)), -1);
	assert_int_equal(chap_decode("0x0g", b, sizeof(b)), -1);
	assert_int_equal(chap_decode("1234", b, sizeof(b)), -1);
	assert_int_equal(chap_decode("0x01020304", b, 3), -1); /* too long */
	/* base64: 0b and 0B, padding only at the end */
	assert_int_equal(chap_decode("0bmGC9kWlfoZ1FOKEK3oKWmA==", b, sizeof(b)), 16);
	assert_int_equal(b[0], 0x98);
	assert_int_equal(b[15], 0x98);
	assert_int_equal(chap_decode("0BAAECAwQFBgcICQoLDA0ODwE=", b, sizeof(b)), 17);
	assert_int_equal(chap_decode("0bAAECAwQFBgcICQoLDA0ODwE=", b, 16), -1);
	assert_int_equal(chap_decode("0bAA=A", b, sizeof(b)), -1);
	assert_int_equal(chap_decode("0bA", b, sizeof(b)), -1);
	assert_int_equal(chap_decode("0b", b, sizeof(b)), -1);
	assert_int_equal(chap_decode("0b!!!!", b, sizeof(b)), -1);
	/* encode */
	b[0] = 0x00;
	b[1] = 0xab;
	assert_int_equal(chap_encode_hex(b, 2, hex, sizeof(hex)), 0);
	assert_string_equal(hex, "0x00ab");
	assert_int_equal(chap_encode_hex(b, 2, hex, 6), -1);
	/* CHAP_A lists */
	assert_true(chap_a_has_md5("5"));
	assert_true(chap_a_has_md5("7,6,5"));
	assert_false(chap_a_has_md5("56"));
	assert_false(chap_a_has_md5(""));
	assert_false(chap_a_has_md5("6,7"));
}

/* ---- login harness ------------------------------------------------------------- */

static int lookup(void *ctx, const char *iqn, struct host_info *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	if (!strcmp(iqn, I_PLAIN))
		return 0;
	if (!strcmp(iqn, I_CHAP) || !strcmp(iqn, I_MUTUAL)) {
		strcpy(out->chap_user, "user1");
		strcpy(out->chap_secret, SECRET);
		if (!strcmp(iqn, I_MUTUAL)) {
			strcpy(out->mchap_user, "tuser");
			strcpy(out->mchap_secret, MSECRET);
		}
		return 0;
	}
	return -1;
}

struct lt {
	struct iscsi_login_env env;
	struct iscsi_login l;
	uint8_t rsp[ISCSI_BHS_LEN];
	char out[8192];
	struct iscsi_textbuf tb;
};

static struct lt *lt_new(int require_chap)
{
	struct lt *t = calloc(1, sizeof(*t));

	t->env.target_iqn = TGT;
	t->env.tpgt = 1;
	t->env.require_chap = require_chap;
	iscsi_params_target_offer(&t->env.offer);
	t->env.host_lookup = lookup;
	iscsi_login_init(&t->l, &t->env);
	return t;
}

static void lt_free(struct lt *t)
{
	iscsi_login_free(&t->l);
	free(t);
}

/* Send one Login Request with keys given as "k=v" strings (NULL ends). */
static int lt_send(struct lt *t, int transit, unsigned csg, unsigned nsg, ...)
{
	uint8_t req[ISCSI_BHS_LEN] = {0};
	char data[4096];
	size_t len = 0;
	va_list ap;
	const char *kv;

	req[0] = 0x43;
	req[1] = (uint8_t)((transit ? 0x80 : 0) | csg << 2 | (transit ? nsg : 0));
	login_set_isid(req, 0x00023d000001ull);
	be32_put(req + 16, 0x1000);
	be32_put(req + 24, 5); /* CmdSN */
	va_start(ap, nsg);
	while ((kv = va_arg(ap, const char *))) {
		strcpy(data + len, kv);
		len += strlen(kv) + 1;
	}
	va_end(ap);
	data[len] = '\0';
	be24_put(req + 5, (uint32_t)len);
	iscsi_textbuf_init(&t->tb, t->out, sizeof(t->out));
	return iscsi_login_pdu(&t->l, req, data, (uint32_t)len, t->rsp, &t->tb);
}

/* Value of key in the last response, or NULL. */
static const char *lt_get(struct lt *t, const char *key)
{
	size_t off = 0, kl = strlen(key);

	while (off < t->tb.len) {
		const char *p = t->out + off;

		if (!strncmp(p, key, kl) && p[kl] == '=')
			return p + kl + 1;
		off += strlen(p) + 1;
	}
	return NULL;
}

static unsigned lt_status(struct lt *t)
{
	return (unsigned)t->rsp[36] << 8 | t->rsp[37];
}

/* Answer the target's CHAP challenge: CHAP_R for secret, hex or base64. */
static void chap_answer(struct lt *t, const char *secret, int base64, char *out, size_t outsz)
{
	uint8_t chal[CHAP_CHALLENGE_MAX], d[16];
	int clen = chap_decode(lt_get(t, "CHAP_C"), chal, sizeof(chal));
	unsigned id = (unsigned)atoi(lt_get(t, "CHAP_I"));

	assert_int_equal(clen, CHAP_CHALLENGE_LEN);
	chap_md5((uint8_t)id, secret, strlen(secret), chal, (size_t)clen, d);
	if (!base64) {
		strcpy(out, "CHAP_R=");
		chap_encode_hex(d, 16, out + 7, outsz - 7);
	} else {
		static const char b64[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		char *o = out + sprintf(out, "CHAP_R=0b");

		for (int i = 0; i < 16; i += 3) {
			uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < 16 ? d[i + 1] << 8 : 0) |
				     (i + 2 < 16 ? d[i + 2] : 0);

			*o++ = b64[v >> 18 & 63];
			*o++ = b64[v >> 12 & 63];
			*o++ = i + 1 < 16 ? b64[v >> 6 & 63] : '=';
			*o++ = i + 2 < 16 ? b64[v & 63] : '=';
		}
		*o = '\0';
	}
}

/* ---- login flows ---------------------------------------------------------------- */

static void test_login_plain_one_pdu(void **state)
{
	struct lt *t = lt_new(0);

	(void)state;
	/* libiscsi without CHAP: everything in one PDU, CSG 1 -> FFP */
	assert_int_equal(
	    lt_send(t, 1, 1, 3, "InitiatorName=" I_PLAIN, "TargetName=" TGT, "SessionType=Normal",
		    "HeaderDigest=None,CRC32C", "DataDigest=None", "InitialR2T=No",
		    "ImmediateData=Yes", "MaxBurstLength=262144", "FirstBurstLength=262144",
		    "MaxRecvDataSegmentLength=262144", "MaxConnections=1", "ErrorRecoveryLevel=0",
		    "IFMarker=No", "X-com.example.Vendor=1", NULL),
	    LOGIN_DONE);
	assert_int_equal(lt_status(t), 0);
	assert_int_equal(t->rsp[0], ISCSI_OP_LOGIN_RSP);
	assert_int_equal(t->rsp[1], 0x87); /* T, CSG 1, NSG 3 */
	assert_string_equal(lt_get(t, "TargetPortalGroupTag"), "1");
	assert_string_equal(lt_get(t, "HeaderDigest"), "None");
	assert_string_equal(lt_get(t, "InitialR2T"), "No");
	assert_string_equal(lt_get(t, "MaxRecvDataSegmentLength"), "262144");
	assert_string_equal(lt_get(t, "X-com.example.Vendor"), "NotUnderstood");
	assert_string_equal(lt_get(t, "IFMarker"), "No");
	assert_null(lt_get(t, "SessionType"));
	assert_int_equal(t->l.nego.p.max_xmit_dsl, 262144);
	assert_int_equal(t->l.nego.p.first_burst, 262144);
	assert_int_equal(t->l.nego.p.initial_r2t, 0);
	assert_int_equal(t->l.cmdsn, 5);
	lt_free(t);
}

static void test_login_plain_two_stages(void **state)
{
	struct lt *t = lt_new(0);

	(void)state;
	/* Windows style: security stage with AuthMethod=None, then op */
	assert_int_equal(lt_send(t, 1, 0, 1, "InitiatorName=" I_PLAIN, "TargetName=" TGT,
				 "AuthMethod=None", NULL),
			 LOGIN_CONTINUE);
	assert_string_equal(lt_get(t, "AuthMethod"), "None");
	assert_int_equal(t->rsp[1], 0x81);
	assert_int_equal(lt_send(t, 1, 1, 3, "ErrorRecoveryLevel=2", "DefaultTime2Wait=0",
				 "MaxRecvDataSegmentLength=65536", NULL),
			 LOGIN_DONE);
	assert_string_equal(lt_get(t, "ErrorRecoveryLevel"), "0");
	assert_string_equal(lt_get(t, "DefaultTime2Wait"), "2");
	assert_null(lt_get(t, "TargetPortalGroupTag")); /* only the first time */
	assert_int_equal(t->l.nego.p.max_xmit_dsl, 65536);
	lt_free(t);
}

static void test_login_identity(void **state)
{
	struct lt *t;

	(void)state;
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 3, "TargetName=" TGT, NULL), LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_MISSING_PARAM);
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 3, "InitiatorName=" I_PLAIN, NULL), LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_MISSING_PARAM);
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(
	    lt_send(t, 1, 1, 3, "InitiatorName=" I_PLAIN, "TargetName=iqn.other", NULL),
	    LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_NOT_FOUND);
	lt_free(t);
	/* unknown initiator: Normal refused, Discovery fine */
	t = lt_new(0);
	assert_int_equal(
	    lt_send(t, 1, 1, 3, "InitiatorName=iqn.x:unknown", "TargetName=" TGT, NULL),
	    LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_AUTHZ_FAIL);
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 3, "InitiatorName=iqn.x:unknown", "SessionType=Discovery",
				 "MaxBurstLength=4096", NULL),
			 LOGIN_DONE);
	assert_string_equal(lt_get(t, "MaxBurstLength"), "Irrelevant");
	assert_true(t->l.discovery);
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 3, "InitiatorName=" I_PLAIN, "SessionType=Other", NULL),
			 LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_NO_SESSION_TYPE);
	lt_free(t);
	/* target names compare case-insensitively */
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 3, "InitiatorName=" I_PLAIN,
				 "TargetName=IQN.2026-11.ORG.ARRAYSIM:TARGET", NULL),
			 LOGIN_DONE);
	lt_free(t);
}

static void test_login_stage_rules(void **state)
{
	struct lt *t;
	uint8_t req[ISCSI_BHS_LEN] = {0};
	char data[64] = "InitiatorName=" I_PLAIN;

	(void)state;
	/* T and C together */
	t = lt_new(0);
	req[0] = 0x43;
	req[1] = 0x80 | 0x40 | 1 << 2 | 3;
	be24_put(req + 5, (uint32_t)strlen(data));
	iscsi_textbuf_init(&t->tb, t->out, sizeof(t->out));
	assert_int_equal(iscsi_login_pdu(&t->l, req, data, (uint32_t)strlen(data), t->rsp, &t->tb),
			 LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_INITIATOR_ERR);
	lt_free(t);
	/* NSG 2, and a transit backwards */
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 2, "InitiatorName=" I_PLAIN, NULL), LOGIN_FAIL);
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 0, "InitiatorName=" I_PLAIN, NULL), LOGIN_FAIL);
	lt_free(t);
	/* unsupported version */
	t = lt_new(0);
	req[1] = 0x87;
	req[3] = 1;
	iscsi_textbuf_init(&t->tb, t->out, sizeof(t->out));
	assert_int_equal(iscsi_login_pdu(&t->l, req, data, (uint32_t)strlen(data), t->rsp, &t->tb),
			 LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_UNSUPPORTED_VERSION);
	lt_free(t);
	/* non-zero TSIH: no session to join */
	t = lt_new(0);
	req[3] = 0;
	login_set_tsih(req, 7);
	iscsi_textbuf_init(&t->tb, t->out, sizeof(t->out));
	assert_int_equal(iscsi_login_pdu(&t->l, req, data, (uint32_t)strlen(data), t->rsp, &t->tb),
			 LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_NO_SESSION);
	lt_free(t);
	/* malformed text */
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 3, "InitiatorName=" I_PLAIN, "garbage", NULL),
			 LOGIN_FAIL);
	lt_free(t);
}

static void test_login_continuation(void **state)
{
	struct lt *t = lt_new(0);
	uint8_t req[ISCSI_BHS_LEN] = {0};
	char part1[] = "InitiatorName=" I_PLAIN;
	char part2[] = "\0TargetName=" TGT;

	(void)state;
	/* a text split over two PDUs with the C bit (6.1) */
	req[0] = 0x43;
	req[1] = 0x40 | 1 << 2;
	iscsi_textbuf_init(&t->tb, t->out, sizeof(t->out));
	assert_int_equal(
	    iscsi_login_pdu(&t->l, req, part1, (uint32_t)strlen(part1), t->rsp, &t->tb),
	    LOGIN_CONTINUE);
	assert_int_equal(t->tb.len, 0);
	req[1] = 0x80 | 1 << 2 | 3;
	iscsi_textbuf_init(&t->tb, t->out, sizeof(t->out));
	assert_int_equal(
	    iscsi_login_pdu(&t->l, req, part2, (uint32_t)(sizeof(part2) - 1), t->rsp, &t->tb),
	    LOGIN_DONE);
	lt_free(t);
}

static void chap_until_challenge(struct lt *t, const char *init, const char *alist)
{
	char a[64];

	assert_int_equal(lt_send(t, 1, 0, 1, init, "TargetName=" TGT, "AuthMethod=CHAP,None", NULL),
			 LOGIN_CONTINUE);
	assert_string_equal(lt_get(t, "AuthMethod"), "CHAP");
	assert_int_equal(t->rsp[1] & 0x80, 0); /* no transit before auth */
	snprintf(a, sizeof(a), "CHAP_A=%s", alist);
	assert_int_equal(lt_send(t, 0, 0, 0, a, NULL), LOGIN_CONTINUE);
	assert_string_equal(lt_get(t, "CHAP_A"), "5");
	assert_non_null(lt_get(t, "CHAP_I"));
	assert_non_null(lt_get(t, "CHAP_C"));
}

static void test_chap_ok(void **state)
{
	char r[64];

	(void)state;
	for (int b64 = 0; b64 < 2; b64++) {
		struct lt *t = lt_new(0);

		chap_until_challenge(t, "InitiatorName=" I_CHAP, "7,6,5");
		chap_answer(t, SECRET, b64, r, sizeof(r));
		assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", r, NULL), LOGIN_CONTINUE);
		assert_int_equal(lt_status(t), 0);
		assert_int_equal(t->rsp[1], 0x81);
		assert_int_equal(t->l.auth, AUTH_OK);
		assert_int_equal(lt_send(t, 1, 1, 3, "MaxBurstLength=65536", NULL), LOGIN_DONE);
		lt_free(t);
	}
}

static void test_chap_failures(void **state)
{
	struct lt *t;
	char r[64];

	(void)state;
	/* wrong secret */
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_CHAP, "5");
	chap_answer(t, "wrongsecret12", 0, r, sizeof(r));
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", r, NULL), LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_AUTH_FAIL);
	lt_free(t);
	/* wrong name; a 0x-looking name is just a string */
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_CHAP, "5");
	chap_answer(t, SECRET, 0, r, sizeof(r));
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=0x7573657231", r, NULL), LOGIN_FAIL);
	lt_free(t);
	/* response too long (base64 oversize) and too short */
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_CHAP, "5");
	assert_int_equal(
	    lt_send(t, 1, 0, 1, "CHAP_N=user1", "CHAP_R=0bAAECAwQFBgcICQoLDA0ODwE=", NULL),
	    LOGIN_FAIL);
	lt_free(t);
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_CHAP, "5");
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", "CHAP_R=0x0102", NULL), LOGIN_FAIL);
	lt_free(t);
	/* CHAP_A without MD5, and empty */
	t = lt_new(0);
	assert_int_equal(lt_send(t, 0, 0, 0, "InitiatorName=" I_CHAP, "TargetName=" TGT,
				 "AuthMethod=CHAP", NULL),
			 LOGIN_CONTINUE);
	assert_int_equal(lt_send(t, 0, 0, 0, "CHAP_A=56", NULL), LOGIN_FAIL);
	assert_string_equal(lt_get(t, "CHAP_A"), "Reject");
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(lt_send(t, 0, 0, 0, "InitiatorName=" I_CHAP, "TargetName=" TGT,
				 "AuthMethod=CHAP", NULL),
			 LOGIN_CONTINUE);
	assert_int_equal(lt_send(t, 0, 0, 0, "CHAP_A=", NULL), LOGIN_FAIL);
	lt_free(t);
	/* a host with CHAP cannot skip it: None only, or straight to op */
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 0, 1, "InitiatorName=" I_CHAP, "TargetName=" TGT,
				 "AuthMethod=None", NULL),
			 LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_AUTH_FAIL);
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 1, 3, "InitiatorName=" I_CHAP, "TargetName=" TGT, NULL),
			 LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_AUTH_FAIL);
	lt_free(t);
	/* Discovery: CHAP offered first is used, None is accepted too */
	t = lt_new(1);
	assert_int_equal(lt_send(t, 1, 0, 1, "InitiatorName=" I_CHAP, "SessionType=Discovery",
				 "AuthMethod=None", NULL),
			 LOGIN_CONTINUE);
	assert_string_equal(lt_get(t, "AuthMethod"), "None");
	lt_free(t);
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 0, 1, "InitiatorName=" I_CHAP, "SessionType=Discovery",
				 "AuthMethod=CHAP,None", NULL),
			 LOGIN_CONTINUE);
	assert_string_equal(lt_get(t, "AuthMethod"), "CHAP");
	lt_free(t);
	/* require_chap: a host without credentials cannot log in */
	t = lt_new(1);
	assert_int_equal(lt_send(t, 1, 1, 3, "InitiatorName=" I_PLAIN, "TargetName=" TGT, NULL),
			 LOGIN_FAIL);
	assert_int_equal(lt_status(t), ISCSI_LOGIN_AUTH_FAIL);
	lt_free(t);
	/* CHAP keys out of order */
	t = lt_new(0);
	assert_int_equal(lt_send(t, 0, 0, 0, "InitiatorName=" I_CHAP, "TargetName=" TGT,
				 "CHAP_N=user1", "CHAP_R=0x00", NULL),
			 LOGIN_FAIL);
	lt_free(t);
	/* transit while CHAP is in progress is answered without T */
	t = lt_new(0);
	assert_int_equal(lt_send(t, 1, 0, 1, "InitiatorName=" I_CHAP, "TargetName=" TGT,
				 "AuthMethod=CHAP", NULL),
			 LOGIN_CONTINUE);
	assert_int_equal(t->rsp[1] & 0x80, 0);
	lt_free(t);
}

static void test_chap_mutual(void **state)
{
	struct lt *t;
	char r[64], c[64], hex[40];
	uint8_t ic[16], want[16], got[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		ic[i] = (uint8_t)(0xc0 + i);
	chap_encode_hex(ic, 16, hex, sizeof(hex));
	snprintf(c, sizeof(c), "CHAP_C=%s", hex);
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_MUTUAL, "5");
	chap_answer(t, SECRET, 0, r, sizeof(r));
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", r, "CHAP_I=77", c, NULL),
			 LOGIN_CONTINUE);
	assert_string_equal(lt_get(t, "CHAP_N"), "tuser");
	chap_md5(77, MSECRET, strlen(MSECRET), ic, 16, want);
	assert_int_equal(chap_decode(lt_get(t, "CHAP_R"), got, sizeof(got)), 16);
	assert_memory_equal(got, want, 16);
	lt_free(t);
	/* mutual asked of a host without a target secret */
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_CHAP, "5");
	chap_answer(t, SECRET, 0, r, sizeof(r));
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", r, "CHAP_I=77", c, NULL), LOGIN_FAIL);
	lt_free(t);
	/* reflected challenge: the initiator sends our own back */
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_MUTUAL, "5");
	chap_answer(t, SECRET, 0, r, sizeof(r));
	snprintf(c, sizeof(c), "CHAP_C=%s", lt_get(t, "CHAP_C"));
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", r, "CHAP_I=1", c, NULL), LOGIN_FAIL);
	lt_free(t);
	/* CHAP_I without CHAP_C, and a bad identifier */
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_MUTUAL, "5");
	chap_answer(t, SECRET, 0, r, sizeof(r));
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", r, "CHAP_I=1", NULL), LOGIN_FAIL);
	lt_free(t);
	t = lt_new(0);
	chap_until_challenge(t, "InitiatorName=" I_MUTUAL, "5");
	chap_answer(t, SECRET, 0, r, sizeof(r));
	snprintf(c, sizeof(c), "CHAP_C=%s", hex);
	assert_int_equal(lt_send(t, 1, 0, 1, "CHAP_N=user1", r, "CHAP_I=256", c, NULL), LOGIN_FAIL);
	lt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_md5_vectors),
	    cmocka_unit_test(test_binary_values),
	    cmocka_unit_test(test_login_plain_one_pdu),
	    cmocka_unit_test(test_login_plain_two_stages),
	    cmocka_unit_test(test_login_identity),
	    cmocka_unit_test(test_login_stage_rules),
	    cmocka_unit_test(test_login_continuation),
	    cmocka_unit_test(test_chap_ok),
	    cmocka_unit_test(test_chap_failures),
	    cmocka_unit_test(test_chap_mutual),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * login: Login Request processing (RFC 7143 6 and 11.12/11.13).
 *
 * A request is handled in three passes over its keys: identity keys
 * first (InitiatorName, SessionType, TargetName: RFC 7143 6.3 puts them
 * in the first request, and the rest depends on them), then security
 * keys (AuthMethod, CHAP_*), then operational keys (text.c).  The
 * response keeps the stage unless the initiator asked to transit and we
 * can follow (11.12.2: the target may answer T=0).
 */
#include "login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pdu.h"

void iscsi_login_init(struct iscsi_login *l, const struct iscsi_login_env *env)
{
	memset(l, 0, sizeof(*l));
	l->env = env;
	iscsi_nego_init(&l->nego, &env->offer, 0);
}

void iscsi_login_free(struct iscsi_login *l)
{
	free(l->acc);
	l->acc = NULL;
	/* the challenge and host secrets are no use to anyone later */
	memset(&l->host, 0, sizeof(l->host));
	memset(l->chap_c, 0, sizeof(l->chap_c));
}

static int fail(struct iscsi_login *l, unsigned status)
{
	l->status = status;
	return LOGIN_FAIL;
}

static const char *find(const struct iscsi_kv *kv, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return kv[i].val;
	return NULL;
}

/* Identity checks, once the first request's keys are known. */
static int identify(struct iscsi_login *l, const struct iscsi_kv *kv, int n,
		    struct iscsi_textbuf *out)
{
	const char *in = find(kv, n, "InitiatorName");
	const char *st = find(kv, n, "SessionType");
	const char *tn = find(kv, n, "TargetName");
	const char *al = find(kv, n, "InitiatorAlias");
	const struct iscsi_login_env *env = l->env;

	/* 13.6 / 6.3: InitiatorName MUST be in the first Login Request */
	if (!in || !*in || strlen(in) > ARRAY_IQN_MAX)
		return fail(l, ISCSI_LOGIN_MISSING_PARAM);
	snprintf(l->initiator, sizeof(l->initiator), "%s", in);
	if (al)
		snprintf(l->alias, sizeof(l->alias), "%s", al);
	/* 13.21: SessionType defaults to Normal */
	if (!st || !strcmp(st, "Normal"))
		l->discovery = 0;
	else if (!strcmp(st, "Discovery"))
		l->discovery = 1;
	else
		return fail(l, ISCSI_LOGIN_NO_SESSION_TYPE);
	if (!l->discovery) {
		/* 13.4: TargetName is required for a Normal session */
		if (!tn || !*tn)
			return fail(l, ISCSI_LOGIN_MISSING_PARAM);
		/* iSCSI names compare case-insensitively once normalised
		 * (RFC 3722 stringprep folds case) */
		if (strlen(tn) > ARRAY_IQN_MAX || strcasecmp(tn, env->target_iqn))
			return fail(l, ISCSI_LOGIN_NOT_FOUND);
		snprintf(l->target, sizeof(l->target), "%s", tn);
	}
	l->host_known = env->host_lookup && !env->host_lookup(env->ctx, l->initiator, &l->host);
	/* A Normal session needs a host: an unknown initiator is not
	 * authorised for this target (11.13.5: 0x0202). */
	if (!l->discovery && !l->host_known)
		return fail(l, ISCSI_LOGIN_AUTHZ_FAIL);
	/* Discovery reveals only target names, and only to known hosts:
	 * CHAP is used there when the initiator offers it (and the host has
	 * credentials) but not required, as LIO's default; Windows users
	 * rarely set discovery CHAP (docs/iscsi.md). */
	l->auth_required =
	    !l->discovery && ((l->host_known && l->host.chap_user[0]) || env->require_chap);
	/* 12.1.3: required CHAP with no secret to check against, or a
	 * secret shorter than 96 bits, cannot authenticate anyone */
	if (l->auth_required &&
	    (!l->host.chap_user[0] || strlen(l->host.chap_secret) < CHAP_SECRET_MIN))
		return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	/* 6.3: skipping the security stage is only for sessions that need
	 * no authentication */
	if (l->stage == ISCSI_STAGE_OP && l->auth_required)
		return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	iscsi_nego_init(&l->nego, &env->offer, l->discovery);
	/* 13.9: TargetPortalGroupTag in the first response (UEFI initiators
	 * fail without it, see docs/iscsi.md) */
	iscsi_text_add_num(out, "TargetPortalGroupTag", env->tpgt);
	l->tpgt_sent = 1;
	l->identified = 1;
	return LOGIN_CONTINUE;
}

/* AuthMethod (12.1): the first method in the initiator's list we accept. */
static int auth_method(struct iscsi_login *l, const char *val, struct iscsi_textbuf *out)
{
	const char *s = val;
	int can_chap = l->host_known && l->host.chap_user[0];

	if (l->auth != AUTH_START && l->auth != AUTH_NONE && l->auth != AUTH_WAIT_A)
		return fail(l, ISCSI_LOGIN_INITIATOR_ERR);
	while (*s) {
		size_t len = strcspn(s, ",");

		if (len == 4 && !strncmp(s, "CHAP", 4) && can_chap) {
			iscsi_text_add(out, "AuthMethod", "CHAP");
			l->auth = AUTH_WAIT_A;
			return LOGIN_CONTINUE;
		}
		if (len == 4 && !strncmp(s, "None", 4) && !l->auth_required) {
			iscsi_text_add(out, "AuthMethod", "None");
			l->auth = AUTH_NONE;
			return LOGIN_CONTINUE;
		}
		s += len;
		if (*s == ',')
			s++;
	}
	iscsi_text_add(out, "AuthMethod", "Reject");
	return fail(l, ISCSI_LOGIN_AUTH_FAIL);
}

static int chap_challenge(struct iscsi_login *l, const char *alg, struct iscsi_textbuf *out)
{
	char hex[2 * CHAP_CHALLENGE_LEN + 3];
	uint8_t id;

	/* 12.1.3: CHAP_A is a list; we do MD5 (5) only */
	if (!chap_a_has_md5(alg)) {
		iscsi_text_add(out, "CHAP_A", "Reject");
		return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	}
	if (chap_random(&id, 1) || chap_random(l->chap_c, sizeof(l->chap_c)))
		return fail(l, ISCSI_LOGIN_TARGET_ERR);
	l->chap_id = id;
	chap_encode_hex(l->chap_c, sizeof(l->chap_c), hex, sizeof(hex));
	iscsi_text_add(out, "CHAP_A", "5");
	iscsi_text_add_num(out, "CHAP_I", id);
	iscsi_text_add(out, "CHAP_C", hex);
	l->auth = AUTH_WAIT_R;
	return LOGIN_CONTINUE;
}

static int chap_verify(struct iscsi_login *l, const struct iscsi_kv *kv, int n,
		       struct iscsi_textbuf *out)
{
	const char *name = find(kv, n, "CHAP_N"), *resp = find(kv, n, "CHAP_R");
	const char *mi = find(kv, n, "CHAP_I"), *mc = find(kv, n, "CHAP_C");
	uint8_t want[CHAP_MD5_LEN], got[CHAP_MD5_LEN];
	const struct host_info *h = &l->host;
	int len;

	if (!name || !resp)
		return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	/* CHAP_N is a plain string even if it looks like 0x... (libiscsi
	 * iSCSICHAP.HexName) */
	if (strcmp(name, h->chap_user))
		return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	/* RFC 1994: the response is exactly one MD5 digest; anything longer
	 * (libiscsi Base64Oversize) or shorter is refused */
	len = chap_decode(resp, got, sizeof(got));
	if (len != CHAP_MD5_LEN)
		return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	if (chap_md5(l->chap_id, h->chap_secret, strlen(h->chap_secret), l->chap_c,
		     sizeof(l->chap_c), want) ||
	    !chap_digest_equal(want, got))
		return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	if (mi || mc) {
		/* mutual CHAP (12.1.3): the initiator challenges us */
		uint8_t chal[CHAP_CHALLENGE_MAX];
		uint64_t id;
		char hex[2 * CHAP_MD5_LEN + 3];

		if (!mi || !mc || !h->mchap_user[0] || strlen(h->mchap_secret) < CHAP_SECRET_MIN)
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		if (iscsi_text_number(mi, &id) || id > 255)
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		len = chap_decode(mc, chal, sizeof(chal));
		if (len < 1)
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		/* 12.1.3: a challenge equal to ours is a reflection attack */
		if ((size_t)len == sizeof(l->chap_c) && !memcmp(chal, l->chap_c, (size_t)len))
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		/* ... and so is the same secret both ways */
		if (!strcmp(h->mchap_secret, h->chap_secret))
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		if (chap_md5((uint8_t)id, h->mchap_secret, strlen(h->mchap_secret), chal,
			     (size_t)len, want))
			return fail(l, ISCSI_LOGIN_TARGET_ERR);
		chap_encode_hex(want, sizeof(want), hex, sizeof(hex));
		iscsi_text_add(out, "CHAP_N", h->mchap_user);
		iscsi_text_add(out, "CHAP_R", hex);
	}
	l->auth = AUTH_OK;
	return LOGIN_CONTINUE;
}

static int is_identity_key(const char *k)
{
	return !strcmp(k, "InitiatorName") || !strcmp(k, "SessionType") ||
	       !strcmp(k, "TargetName") || !strcmp(k, "InitiatorAlias");
}

static int is_security_key(const char *k)
{
	return !strcmp(k, "AuthMethod") || !strncmp(k, "CHAP_", 5);
}

/* Security keys of one request. */
static int security_keys(struct iscsi_login *l, const struct iscsi_kv *kv, int n,
			 struct iscsi_textbuf *out)
{
	const char *am = find(kv, n, "AuthMethod"), *a = find(kv, n, "CHAP_A");
	int r, chap_rsp = find(kv, n, "CHAP_N") || find(kv, n, "CHAP_R");

	if (l->stage != ISCSI_STAGE_SEC) {
		/* 6.2: security keys belong to the security stage */
		for (int i = 0; i < n; i++)
			if (is_security_key(kv[i].key))
				iscsi_text_add(out, kv[i].key, "Irrelevant");
		return LOGIN_CONTINUE;
	}
	if (am && (r = auth_method(l, am, out)) != LOGIN_CONTINUE)
		return r;
	if (a) {
		if (l->auth != AUTH_WAIT_A)
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		return chap_challenge(l, a, out);
	}
	if (chap_rsp) {
		if (l->auth != AUTH_WAIT_R)
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		return chap_verify(l, kv, n, out);
	}
	/* CHAP_I/CHAP_C alone, or a CHAP key we never asked for */
	for (int i = 0; i < n; i++)
		if (!strncmp(kv[i].key, "CHAP_", 5))
			return fail(l, ISCSI_LOGIN_AUTH_FAIL);
	return LOGIN_CONTINUE;
}

static int other_keys(struct iscsi_login *l, const struct iscsi_kv *kv, int n,
		      struct iscsi_textbuf *out)
{
	for (int i = 0; i < n; i++) {
		const char *k = kv[i].key;

		if (is_identity_key(k) || is_security_key(k))
			continue;
		if (iscsi_nego_key(&l->nego, k, kv[i].val, out))
			continue;
		if (!strcmp(k, "TargetAlias") || !strcmp(k, "TargetAddress") ||
		    !strcmp(k, "TargetPortalGroupTag") || !strcmp(k, "SendTargets"))
			/* target-declared keys, and SendTargets outside a
			 * Text Request (13.3, 13.8, 13.9, 13.7) */
			iscsi_text_add(out, k, "Reject");
		else
			/* 6.2: unknown keys, X- vendor keys included */
			iscsi_text_add(out, k, "NotUnderstood");
	}
	return LOGIN_CONTINUE;
}

static void rsp_header(struct iscsi_login *l, const uint8_t *req, uint8_t *rsp)
{
	memset(rsp, 0, ISCSI_BHS_LEN);
	bhs_set_opcode(rsp, ISCSI_OP_LOGIN_RSP);
	login_set_stages(rsp, 0, l->stage, 0);
	/* 11.13.3: Version-max and Version-active, both 0x00 */
	login_set_versions(rsp, 0, 0);
	login_set_isid(rsp, login_isid(req));
	login_set_tsih(rsp, 0);
	bhs_set_itt(rsp, bhs_itt(req));
}

static int login_step(struct iscsi_login *l, const uint8_t *req, char *data, uint32_t dlen,
		      uint8_t *rsp, struct iscsi_textbuf *out)
{
	unsigned flags = bhs_flags(req), csg = login_csg(req), nsg = login_nsg(req);
	int transit = !!(flags & ISCSI_F_LOGIN_T), cont = !!(flags & ISCSI_F_TEXT_C);
	struct iscsi_kv kv[ISCSI_KV_MAX];
	char *text = data;
	uint32_t tlen = dlen;
	int n, r;

	if (l->npdus == 0)
		l->stage = csg == ISCSI_STAGE_OP ? ISCSI_STAGE_OP : ISCSI_STAGE_SEC;
	rsp_header(l, req, rsp);
	l->cmdsn = bhs_cmdsn(req);
	l->expstatsn = bhs_expstatsn(req);
	if (l->npdus++ == 0) {
		/* 11.12.4: we speak version 0x00 only */
		if (login_vmin(req) > 0)
			return fail(l, ISCSI_LOGIN_UNSUPPORTED_VERSION);
		l->isid = login_isid(req);
		l->tsih = login_tsih(req);
		l->cid = login_cid(req);
		/* A non-zero TSIH adds a connection to an existing session
		 * (6.3.1): no MC/S here, and at ERL 0 no connection
		 * recovery, so the session to join can never exist. */
		if (l->tsih)
			return fail(l, ISCSI_LOGIN_NO_SESSION);
	} else if (login_isid(req) != l->isid || login_tsih(req) != l->tsih ||
		   login_cid(req) != l->cid) {
		/* 11.12.5..: the identity fields are fixed for the login */
		return fail(l, ISCSI_LOGIN_INITIATOR_ERR);
	}
	/* 11.12.2: C and T together, a stage we are not in, the reserved
	 * stage 2, or a transit that goes nowhere are protocol errors */
	if ((cont && transit) || csg != l->stage || (transit && (nsg == 2 || nsg <= csg)))
		return fail(l, ISCSI_LOGIN_INITIATOR_ERR);

	if (cont || l->acc) {
		/* 6.1: a text spread over several PDUs (C bit) */
		char *nacc;

		if (l->acc_len + dlen > ISCSI_TEXT_MAX)
			return fail(l, ISCSI_LOGIN_INITIATOR_ERR);
		nacc = realloc(l->acc, l->acc_len + dlen + 1);
		if (!nacc)
			return fail(l, ISCSI_LOGIN_NO_RESOURCES);
		memcpy(nacc + l->acc_len, data, dlen);
		l->acc = nacc;
		l->acc_len += dlen;
		l->acc[l->acc_len] = '\0';
		if (cont)
			return LOGIN_CONTINUE; /* empty response, same stage */
		text = l->acc;
		tlen = l->acc_len;
	}
	n = iscsi_text_split(text, tlen, kv, ISCSI_KV_MAX);
	if (n < 0)
		return fail(l, ISCSI_LOGIN_INITIATOR_ERR);

	if (!l->identified && (r = identify(l, kv, n, out)) != LOGIN_CONTINUE)
		goto out;
	if ((r = security_keys(l, kv, n, out)) != LOGIN_CONTINUE)
		goto out;
	other_keys(l, kv, n, out);

	if (transit) {
		int may = 1;

		if (l->stage == ISCSI_STAGE_SEC) {
			/* leave the security stage only authenticated, or
			 * with nothing to authenticate */
			if (l->auth == AUTH_WAIT_A || l->auth == AUTH_WAIT_R)
				may = 0;
			else if (l->auth_required && l->auth != AUTH_OK)
				return fail(l, ISCSI_LOGIN_AUTH_FAIL);
		}
		if (may) {
			if (nsg == ISCSI_STAGE_FFP) {
				iscsi_nego_finish(&l->nego, out);
				r = LOGIN_DONE;
			}
			login_set_stages(rsp, 1, l->stage, nsg);
			l->stage = nsg == ISCSI_STAGE_FFP ? l->stage : nsg;
		}
	}
	if (out->overflow)
		return fail(l, ISCSI_LOGIN_TARGET_ERR);
	r = r == LOGIN_DONE ? LOGIN_DONE : LOGIN_CONTINUE;
out:
	free(l->acc);
	l->acc = NULL;
	l->acc_len = 0;
	return r;
}

int iscsi_login_pdu(struct iscsi_login *l, const uint8_t *req, char *data, uint32_t dlen,
		    uint8_t *rsp, struct iscsi_textbuf *out)
{
	int r = login_step(l, req, data, dlen, rsp, out);

	if (r == LOGIN_FAIL) {
		/* 11.13.5: a failed response carries the status and no
		 * transit; any keys built so far are dropped except the
		 * Reject that explains an AuthMethod/CHAP_A refusal */
		login_set_stages(rsp, 0, l->stage, 0);
		login_set_status(rsp, l->status);
	}
	return r;
}

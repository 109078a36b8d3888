/*
 * fuzz_login: libFuzzer target for the login phase (array-sim/iscsi/
 * login.c, text.c, chap.c): a sequence of Login Requests against one
 * login state machine, with hosts that need no authentication, CHAP, and
 * mutual CHAP, and optionally require_chap; then the remaining bytes as
 * a full-feature-phase Text negotiation.
 *
 * Input: byte 0 picks the initiator and policy; then records of
 *   flags(1) csg_nsg(1) len(2, big-endian) text(len)
 * each becoming one Login Request (BHS byte 1 = flags & 0xc0 | csg_nsg
 * & 0x0f), until the login fails or completes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../array-sim/iscsi/login.h"
#include "../../array-sim/iscsi/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const inits[4] = {
    "iqn.1994-05.com.example:plain", "iqn.1994-05.com.example:chap",
    "iqn.1994-05.com.example:mutual", "iqn.1994-05.com.example:unknown"};

static int lookup(void *ctx, const char *iqn, struct host_info *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	if (!strcmp(iqn, inits[0]))
		return 0;
	if (!strcmp(iqn, inits[1]) || !strcmp(iqn, inits[2])) {
		strcpy(out->chap_user, "user1");
		strcpy(out->chap_secret, "secretsecret12");
		if (!strcmp(iqn, inits[2])) {
			strcpy(out->mchap_user, "tuser");
			strcpy(out->mchap_secret, "tsecrettsecret");
		}
		return 0;
	}
	return -2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_login_env env = {
	    .target_iqn = "iqn.2026-11.org.arraysim:target", .tpgt = 1, .host_lookup = lookup};
	struct iscsi_login *l = malloc(sizeof(*l));
	char *out = malloc(8192);
	size_t off = 1;
	int r = LOGIN_CONTINUE;

	if (!l || !out || size < 1)
		goto done;
	env.require_chap = data[0] >> 7;
	iscsi_params_target_offer(&env.offer);
	iscsi_login_init(l, &env);
	while (r == LOGIN_CONTINUE && size - off >= 4) {
		uint8_t req[ISCSI_BHS_LEN] = {0}, rsp[ISCSI_BHS_LEN];
		uint32_t len = be16_get(data + off + 2);
		struct iscsi_textbuf tb;
		char *text;

		req[0] = 0x43;
		req[1] = (uint8_t)((data[off] & 0xc0) | (data[off + 1] & 0x0f));
		req[2] = data[off] & 1;
		login_set_isid(req, 0x00023d000001ull);
		off += 4;
		if (len > size - off)
			len = (uint32_t)(size - off);
		/* the first record names the initiator: prefix it */
		text = malloc(len + 64);
		if (!text)
			break;
		memcpy(text, data + off, len);
		text[len] = '\0';
		off += len;
		be24_put(req + 5, len);
		iscsi_textbuf_init(&tb, out, 8192);
		if (l->npdus == 0 && !(data[0] & 0x40)) {
			/* most inputs start with a valid identity, so the
			 * fuzzer reaches CHAP and negotiation */
			size_t n = strlen(inits[data[0] & 3]);
			char *t2 = malloc(len + n + 64);

			if (!t2) {
				free(text);
				break;
			}
			memcpy(t2, "InitiatorName=", 14);
			memcpy(t2 + 14, inits[data[0] & 3], n + 1);
			strcpy(t2 + 15 + n, "TargetName=iqn.2026-11.org.arraysim:target");
			memcpy(t2 + 15 + n + 43, text, len + 1);
			free(text);
			text = t2;
			len += (uint32_t)(15 + n + 43);
		}
		r = iscsi_login_pdu(l, req, text, len, rsp, &tb);
		free(text);
	}
	if (r == LOGIN_DONE && size > off) {
		/* what is left: keys of a Text Request in full feature phase */
		struct iscsi_nego n = {.p = l->nego.p, .offer = env.offer, .ffp = 1};
		struct iscsi_kv kv[ISCSI_KV_MAX];
		struct iscsi_textbuf tb;
		size_t len = size - off;
		char *t = malloc(len + 1);
		int k;

		if (t) {
			memcpy(t, data + off, len);
			t[len] = '\0';
			iscsi_textbuf_init(&tb, out, 8192);
			k = iscsi_text_split(t, len, kv, ISCSI_KV_MAX);
			for (int i = 0; i < k; i++)
				iscsi_nego_key(&n, kv[i].key, kv[i].val, &tb);
			free(t);
		}
	}
	iscsi_login_free(l);
done:
	free(l);
	free(out);
	return 0;
}

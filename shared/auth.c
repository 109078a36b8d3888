/*
 * auth.c: ASCP handshake state machine and per-frame MAC.  The protocol
 * is described in auth.h and docs/control-protocol.md.
 */
#include "auth.h"
#include "hexdigit.h"
#include "platform.h"

#include <stdio.h>
#include <string.h>

#ifndef _WIN32
#include <sys/stat.h>
#endif

void auth_init(struct auth_ctx *a, int is_server, const uint8_t key[AUTH_KEY_LEN])
{
	memset(a, 0, sizeof(*a));
	a->is_server = is_server;
	a->state = AUTH_INIT;
	memcpy(a->key, key, AUTH_KEY_LEN);
}

void auth_wipe(struct auth_ctx *a)
{
	plat_wipe(a, sizeof(*a));
	a->state = AUTH_FAILED;
}

int auth_derive(const uint8_t key[AUTH_KEY_LEN], const char *label,
		const uint8_t nc[AUTH_NONCE_LEN], const uint8_t ns[AUTH_NONCE_LEN], uint8_t out[32])
{
	struct plat_iov iov[3] = {
	    {label, strlen(label)},
	    {nc, AUTH_NONCE_LEN},
	    {ns, AUTH_NONCE_LEN},
	};

	return plat_hmac_sha256(key, AUTH_KEY_LEN, iov, 3, out);
}

static int derive_session(struct auth_ctx *a)
{
	uint8_t c2s[32], s2c[32];
	int rc;

	rc = auth_derive(a->key, AUTH_LABEL_KEY_C2S, a->nc, a->ns, c2s);
	if (!rc)
		rc = auth_derive(a->key, AUTH_LABEL_KEY_S2C, a->nc, a->ns, s2c);
	if (rc)
		return rc;
	memcpy(a->sess.tx_key, a->is_server ? s2c : c2s, 32);
	memcpy(a->sess.rx_key, a->is_server ? c2s : s2c, 32);
	a->sess.tx_seq = 0;
	a->sess.rx_seq = 0;
	plat_wipe(c2s, sizeof(c2s));
	plat_wipe(s2c, sizeof(s2c));
	return 0;
}

/* read a fixed-size BYTES field */
static int get_blob(const uint8_t *buf, size_t len, uint16_t tag, uint8_t *out, size_t n)
{
	struct proto_field f;
	int rc = proto_find(buf, len, tag, &f);

	if (rc)
		return rc == -PROTO_ENOENT ? -PROTO_EPROTO : rc;
	if (f.type != PROTO_T_BYTES || f.len != n)
		return -PROTO_EPROTO;
	memcpy(out, f.val, n);
	return 0;
}

/*
 * Nonces that no honest peer produces: all zero (broken RNG) or equal to
 * our own (a reflected message).
 */
static int nonce_ok(const uint8_t *theirs, const uint8_t *ours)
{
	static const uint8_t zero[AUTH_NONCE_LEN];

	return memcmp(theirs, zero, AUTH_NONCE_LEN) != 0 &&
	       memcmp(theirs, ours, AUTH_NONCE_LEN) != 0;
}

/* a peer's STATUS as a negative code; any u32 may arrive, so bound it */
static int status_err(uint32_t status)
{
	return status > 0xffff ? -PROTO_EPROTO : -(int)status;
}

static int fail(struct auth_ctx *a, int rc)
{
	a->state = AUTH_FAILED;
	plat_wipe(&a->sess, sizeof(a->sess));
	return rc;
}

int auth_client_hello(struct auth_ctx *a, const char *client_name, struct proto_buf *req)
{
	int rc;

	if (a->is_server || a->state != AUTH_INIT)
		return fail(a, -PROTO_ESTATE);
	rc = plat_random(a->nc, AUTH_NONCE_LEN);
	if (rc)
		return fail(a, rc);
	proto_put_bytes(req, PROTO_TAG_NONCE, a->nc, AUTH_NONCE_LEN);
	proto_put_u32(req, PROTO_TAG_PROTO_VERSION, PROTO_VERSION);
	if (client_name)
		proto_put_str(req, PROTO_TAG_CLIENT_NAME, client_name);
	if (req->err)
		return fail(a, req->err);
	a->state = AUTH_WAIT_CHALLENGE;
	return 0;
}

int auth_client_proof(struct auth_ctx *a, const uint8_t *rep, size_t len, struct proto_buf *req)
{
	uint8_t ps[AUTH_PROOF_LEN], want[AUTH_PROOF_LEN], pc[AUTH_PROOF_LEN];
	uint32_t status;
	int rc;

	if (a->is_server || a->state != AUTH_WAIT_CHALLENGE)
		return fail(a, -PROTO_ESTATE);
	rc = proto_get_status(rep, len, &status, NULL, 0);
	if (rc)
		return fail(a, rc);
	if (status != PROTO_OK)
		return fail(a, status_err(status));
	rc = get_blob(rep, len, PROTO_TAG_NONCE, a->ns, AUTH_NONCE_LEN);
	if (!rc)
		rc = get_blob(rep, len, PROTO_TAG_PROOF, ps, AUTH_PROOF_LEN);
	if (rc)
		return fail(a, rc);
	if (!nonce_ok(a->ns, a->nc))
		return fail(a, -PROTO_EAUTH);
	rc = auth_derive(a->key, AUTH_LABEL_SERVER_PROOF, a->nc, a->ns, want);
	if (rc)
		return fail(a, rc);
	if (plat_memcmp_ct(ps, want, AUTH_PROOF_LEN) != 0)
		return fail(a, -PROTO_EAUTH);
	rc = auth_derive(a->key, AUTH_LABEL_CLIENT_PROOF, a->nc, a->ns, pc);
	if (!rc)
		rc = derive_session(a);
	if (rc)
		return fail(a, rc);
	if (proto_put_bytes(req, PROTO_TAG_PROOF, pc, AUTH_PROOF_LEN))
		return fail(a, req->err);
	a->state = AUTH_WAIT_CONFIRM;
	return 0;
}

int auth_client_confirm(struct auth_ctx *a, const uint8_t *frame, size_t len)
{
	struct proto_frame f;
	uint32_t status;
	int rc;

	if (a->is_server || a->state != AUTH_WAIT_CONFIRM)
		return fail(a, -PROTO_ESTATE);
	rc = proto_frame_decode(frame, len, &f);
	if (rc)
		return fail(a, rc);
	/* a server that rejected our proof answers unsealed with EAUTH */
	if (!(f.hdr.flags & PROTO_F_MAC)) {
		if (proto_get_status(f.payload, f.payload_len, &status, NULL, 0) == 0 &&
		    status != PROTO_OK)
			return fail(a, status_err(status));
		return fail(a, -PROTO_EAUTH);
	}
	rc = auth_open(&a->sess, frame, len);
	if (!rc)
		rc = proto_get_status(f.payload, f.payload_len, &status, NULL, 0);
	if (rc)
		return fail(a, rc);
	if (f.hdr.type != PROTO_MSG_AUTH_PROOF || !(f.hdr.flags & PROTO_F_REPLY))
		return fail(a, -PROTO_EPROTO);
	if (status != PROTO_OK)
		return fail(a, status_err(status));
	a->state = AUTH_DONE;
	return 0;
}

int auth_server_challenge(struct auth_ctx *a, const uint8_t *req, size_t len, struct proto_buf *rep)
{
	uint8_t ps[AUTH_PROOF_LEN];
	int rc;

	if (!a->is_server || a->state != AUTH_INIT)
		return fail(a, -PROTO_ESTATE);
	rc = get_blob(req, len, PROTO_TAG_NONCE, a->nc, AUTH_NONCE_LEN);
	if (!rc)
		rc = plat_random(a->ns, AUTH_NONCE_LEN);
	if (rc)
		return fail(a, rc);
	if (!nonce_ok(a->nc, a->ns))
		return fail(a, -PROTO_EAUTH);
	rc = auth_derive(a->key, AUTH_LABEL_SERVER_PROOF, a->nc, a->ns, ps);
	if (rc)
		return fail(a, rc);
	proto_put_status(rep, PROTO_OK, "");
	proto_put_bytes(rep, PROTO_TAG_NONCE, a->ns, AUTH_NONCE_LEN);
	proto_put_bytes(rep, PROTO_TAG_PROOF, ps, AUTH_PROOF_LEN);
	proto_put_u32(rep, PROTO_TAG_PROTO_VERSION, PROTO_VERSION);
	if (rep->err)
		return fail(a, rep->err);
	a->state = AUTH_WAIT_PROOF;
	return 0;
}

int auth_server_verify(struct auth_ctx *a, const uint8_t *req, size_t len)
{
	uint8_t pc[AUTH_PROOF_LEN], want[AUTH_PROOF_LEN];
	int rc;

	if (!a->is_server || a->state != AUTH_WAIT_PROOF)
		return fail(a, -PROTO_ESTATE);
	rc = get_blob(req, len, PROTO_TAG_PROOF, pc, AUTH_PROOF_LEN);
	if (!rc)
		rc = auth_derive(a->key, AUTH_LABEL_CLIENT_PROOF, a->nc, a->ns, want);
	if (rc)
		return fail(a, rc);
	if (plat_memcmp_ct(pc, want, AUTH_PROOF_LEN) != 0)
		return fail(a, -PROTO_EAUTH);
	rc = derive_session(a);
	if (rc)
		return fail(a, rc);
	a->state = AUTH_DONE;
	return 0;
}

int auth_check_frame(const struct auth_ctx *a, const struct proto_hdr *h)
{
	int sealed = (h->flags & PROTO_F_MAC) != 0;

	if (h->flags & PROTO_F_REPLY)
		return -PROTO_EPROTO; /* a server never receives replies */
	switch (a->state) {
	case AUTH_INIT:
		return !sealed && h->type == PROTO_MSG_AUTH_HELLO ? 0 : -PROTO_EAUTH;
	case AUTH_WAIT_PROOF:
		return !sealed && h->type == PROTO_MSG_AUTH_PROOF ? 0 : -PROTO_EAUTH;
	case AUTH_DONE:
		if (!sealed || h->type == PROTO_MSG_AUTH_HELLO || h->type == PROTO_MSG_AUTH_PROOF)
			return -PROTO_EAUTH;
		return 0;
	default:
		return -PROTO_EAUTH;
	}
}

static int frame_mac(const uint8_t *key, const uint8_t *frame, size_t len, uint8_t mac[32])
{
	struct plat_iov iov = {frame, len - PROTO_MAC_LEN};

	return plat_hmac_sha256(key, AUTH_KEY_LEN, &iov, 1, mac);
}

/* the frame must be exactly header + payload + MAC as its header says */
static int sealed_len_ok(const uint8_t *frame, size_t len)
{
	struct proto_hdr h;
	long total = proto_hdr_decode(frame, len, &h);

	if (total < 0)
		return (int)total;
	if (!(h.flags & PROTO_F_MAC))
		return -PROTO_EAUTH;
	if ((size_t)total != len)
		return len < (size_t)total ? -PROTO_ETRUNC : -PROTO_EPROTO;
	return 0;
}

int auth_seal(struct auth_session *s, uint8_t *frame, size_t len)
{
	int rc = sealed_len_ok(frame, len);

	if (rc)
		return rc;
	/* never wrap: a repeated sequence number would be a replay */
	if (s->tx_seq == UINT64_MAX)
		return -PROTO_ESTATE;
	proto_be64_put(frame + PROTO_OFF_SEQ, s->tx_seq + 1);
	rc = frame_mac(s->tx_key, frame, len, frame + len - PROTO_MAC_LEN);
	if (!rc)
		s->tx_seq++;
	return rc;
}

int auth_open(struct auth_session *s, const uint8_t *frame, size_t len)
{
	uint8_t mac[PROTO_MAC_LEN];
	uint64_t seq;
	int rc = sealed_len_ok(frame, len);

	if (rc)
		return rc;
	rc = frame_mac(s->rx_key, frame, len, mac);
	if (rc)
		return rc;
	if (plat_memcmp_ct(mac, frame + len - PROTO_MAC_LEN, PROTO_MAC_LEN) != 0)
		return -PROTO_EBADMAC;
	seq = proto_be64(frame + PROTO_OFF_SEQ);
	if (seq <= s->rx_seq)
		return -PROTO_EREPLAY;
	if (seq != s->rx_seq + 1)
		return -PROTO_ESEQ;
	s->rx_seq = seq;
	return 0;
}

/* ---- key files ---------------------------------------------------------- */

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int auth_key_parse_hex(const char *s, uint8_t key[AUTH_KEY_LEN])
{
	int hi, lo;

	while (is_space((unsigned char)*s))
		s++;
	for (int i = 0; i < AUTH_KEY_LEN; i++) {
		hi = hexdigit_val((unsigned char)s[2 * i]);
		lo = hi < 0 ? -1 : hexdigit_val((unsigned char)s[2 * i + 1]);
		if (lo < 0)
			return -PROTO_EINVAL;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	for (s += 2 * AUTH_KEY_LEN; *s; s++)
		if (!is_space((unsigned char)*s))
			return -PROTO_EINVAL;
	return 0;
}

int auth_key_format_hex(const uint8_t key[AUTH_KEY_LEN], char out[2 * AUTH_KEY_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < AUTH_KEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 15];
	}
	out[2 * AUTH_KEY_LEN] = '\0';
	return 0;
}

int auth_key_load(const char *path, uint8_t key[AUTH_KEY_LEN])
{
	char buf[4 * AUTH_KEY_LEN];
	size_t n;
	FILE *f;
	int rc;

#ifndef _WIN32
	struct stat st;

	/* a key others can read is not a shared secret any more */
	if (stat(path, &st) != 0)
		return -PROTO_ENOENT;
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return -PROTO_EINVAL;
#endif
	f = fopen(path, "rb");
	if (!f)
		return -PROTO_ENOENT;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rc = auth_key_parse_hex(buf, key);
	plat_wipe(buf, sizeof(buf));
	return rc;
}

int auth_key_generate(uint8_t key[AUTH_KEY_LEN])
{
	return plat_random(key, AUTH_KEY_LEN);
}

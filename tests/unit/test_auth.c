/*
 * test_auth: ASCP handshake state machine, session keys, server gate and
 * key files.  Client and server contexts talk through in-memory buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "platform.h"
#include "proto.h"

static const uint8_t key_a[AUTH_KEY_LEN] = {1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11,
					    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					    23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static uint8_t key_b[AUTH_KEY_LEN];

/* a recorded handshake: the three payloads and the final sealed frame */
struct transcript {
	struct proto_buf hello, challenge, proof, confirm;
};

static void transcript_init(struct transcript *t)
{
	proto_buf_init(&t->hello);
	proto_buf_init(&t->challenge);
	proto_buf_init(&t->proof);
	proto_buf_init(&t->confirm);
}

static void transcript_free(struct transcript *t)
{
	proto_buf_free(&t->hello);
	proto_buf_free(&t->challenge);
	proto_buf_free(&t->proof);
	proto_buf_free(&t->confirm);
}

/* the server's sealed STATUS=OK reply to AUTH_PROOF */
static void server_confirm(struct auth_ctx *s, struct proto_buf *out, int status)
{
	struct proto_buf pl;

	proto_buf_init(&pl);
	proto_put_status(&pl, status, status ? "no" : "");
	assert_int_equal(proto_frame_build(out, PROTO_MSG_AUTH_PROOF,
					   PROTO_F_REPLY | (status ? 0 : PROTO_F_MAC), 2, pl.data,
					   pl.len),
			 0);
	if (!status)
		assert_int_equal(auth_seal(&s->sess, out->data, out->len), 0);
	proto_buf_free(&pl);
}

/* run a full handshake; returns the first failing step's code */
static int handshake(struct auth_ctx *c, struct auth_ctx *s, struct transcript *t)
{
	int rc;

	rc = auth_client_hello(c, "unit", &t->hello);
	if (!rc)
		rc = auth_server_challenge(s, t->hello.data, t->hello.len, &t->challenge);
	if (!rc)
		rc = auth_client_proof(c, t->challenge.data, t->challenge.len, &t->proof);
	if (!rc)
		rc = auth_server_verify(s, t->proof.data, t->proof.len);
	if (rc)
		return rc;
	server_confirm(s, &t->confirm, 0);
	return auth_client_confirm(c, t->confirm.data, t->confirm.len);
}

static void exchange(struct auth_session *tx, struct auth_session *rx)
{
	struct proto_buf fr;

	proto_buf_init(&fr);
	assert_int_equal(proto_frame_build(&fr, PROTO_MSG_POOL_STATUS, PROTO_F_MAC, 5, NULL, 0), 0);
	assert_int_equal(auth_seal(tx, fr.data, fr.len), 0);
	assert_int_equal(auth_open(rx, fr.data, fr.len), 0);
	proto_buf_free(&fr);
}

static void test_handshake_ok(void **state)
{
	struct auth_ctx c, s;
	struct transcript t;

	(void)state;
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	auth_init(&s, 1, key_a);
	assert_int_equal(handshake(&c, &s, &t), 0);
	assert_int_equal(c.state, AUTH_DONE);
	assert_int_equal(s.state, AUTH_DONE);
	/* directional keys line up, and differ from each other */
	assert_memory_equal(c.sess.tx_key, s.sess.rx_key, AUTH_KEY_LEN);
	assert_memory_equal(c.sess.rx_key, s.sess.tx_key, AUTH_KEY_LEN);
	assert_memory_not_equal(c.sess.tx_key, c.sess.rx_key, AUTH_KEY_LEN);
	/* server sealed seq 1 for the confirm; traffic continues in order */
	assert_true(c.sess.rx_seq == 1 && s.sess.tx_seq == 1);
	for (int i = 0; i < 3; i++) {
		exchange(&c.sess, &s.sess);
		exchange(&s.sess, &c.sess);
	}
	assert_true(c.sess.tx_seq == 3 && s.sess.rx_seq == 3 && c.sess.rx_seq == 4);
	auth_wipe(&c);
	auth_wipe(&s);
	transcript_free(&t);
}

static void test_wrong_key(void **state)
{
	struct auth_ctx c, s;
	struct transcript t;
	uint8_t pc[AUTH_PROOF_LEN];
	struct proto_buf forged;

	(void)state;
	/* client side: the server cannot prove it knows our key */
	transcript_init(&t);
	auth_init(&c, 0, key_b);
	auth_init(&s, 1, key_a);
	assert_int_equal(handshake(&c, &s, &t), -PROTO_EAUTH);
	assert_int_equal(c.state, AUTH_FAILED);
	assert_int_equal(t.proof.len, 0); /* nothing sent after a failed proof */
	transcript_free(&t);

	/* server side: a client proof made with another key */
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	auth_init(&s, 1, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &t.challenge), 0);
	assert_int_equal(auth_derive(key_b, AUTH_LABEL_CLIENT_PROOF, c.nc, s.ns, pc), 0);
	proto_buf_init(&forged);
	proto_put_bytes(&forged, PROTO_TAG_PROOF, pc, sizeof(pc));
	assert_int_equal(auth_server_verify(&s, forged.data, forged.len), -PROTO_EAUTH);
	assert_int_equal(s.state, AUTH_FAILED);
	/* the failed server stays failed: a correct proof now is too late */
	assert_int_equal(auth_server_verify(&s, forged.data, forged.len), -PROTO_ESTATE);
	proto_buf_free(&forged);
	transcript_free(&t);

	/* a server that refuses the proof answers unsealed EAUTH */
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	auth_init(&s, 1, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &t.challenge), 0);
	assert_int_equal(auth_client_proof(&c, t.challenge.data, t.challenge.len, &t.proof), 0);
	server_confirm(&s, &t.confirm, PROTO_EAUTH);
	assert_int_equal(auth_client_confirm(&c, t.confirm.data, t.confirm.len), -PROTO_EAUTH);
	transcript_free(&t);
}

/* flip one byte of the field value with tag inside a payload */
static void flip_field(struct proto_buf *b, uint16_t tag)
{
	struct proto_field f;

	assert_int_equal(proto_find(b->data, b->len, tag, &f), 0);
	b->data[(size_t)(f.val - b->data) + f.len - 1] ^= 0x01;
}

static void test_tampering(void **state)
{
	struct auth_ctx c, s;
	struct transcript t;
	static const uint16_t targets[] = {PROTO_TAG_NONCE, PROTO_TAG_PROOF};

	(void)state;
	/* altered server nonce or proof in transit */
	for (int i = 0; i < 2; i++) {
		transcript_init(&t);
		auth_init(&c, 0, key_a);
		auth_init(&s, 1, key_a);
		assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
		assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &t.challenge),
				 0);
		flip_field(&t.challenge, targets[i]);
		assert_int_equal(auth_client_proof(&c, t.challenge.data, t.challenge.len, &t.proof),
				 -PROTO_EAUTH);
		transcript_free(&t);
	}
	/* altered client nonce (server proves over the wrong nonce) */
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	auth_init(&s, 1, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	flip_field(&t.hello, PROTO_TAG_NONCE);
	assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &t.challenge), 0);
	assert_int_equal(auth_client_proof(&c, t.challenge.data, t.challenge.len, &t.proof),
			 -PROTO_EAUTH);
	transcript_free(&t);
	/* altered client proof */
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	auth_init(&s, 1, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &t.challenge), 0);
	assert_int_equal(auth_client_proof(&c, t.challenge.data, t.challenge.len, &t.proof), 0);
	flip_field(&t.proof, PROTO_TAG_PROOF);
	assert_int_equal(auth_server_verify(&s, t.proof.data, t.proof.len), -PROTO_EAUTH);
	transcript_free(&t);
	/* altered confirm frame */
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	auth_init(&s, 1, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &t.challenge), 0);
	assert_int_equal(auth_client_proof(&c, t.challenge.data, t.challenge.len, &t.proof), 0);
	assert_int_equal(auth_server_verify(&s, t.proof.data, t.proof.len), 0);
	server_confirm(&s, &t.confirm, 0);
	t.confirm.data[PROTO_HDR_LEN + 10] ^= 0x04;
	assert_int_equal(auth_client_confirm(&c, t.confirm.data, t.confirm.len), -PROTO_EBADMAC);
	transcript_free(&t);
	/* missing proof field */
	transcript_init(&t);
	auth_init(&s, 1, key_a);
	auth_init(&c, 0, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &t.challenge), 0);
	assert_int_equal(auth_server_verify(&s, NULL, 0), -PROTO_EPROTO);
	transcript_free(&t);
	/* a hostile status value in the challenge (found by fuzz_frame) */
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	proto_put_u32(&t.challenge, PROTO_TAG_STATUS, 0x80000000u);
	assert_int_equal(auth_client_proof(&c, t.challenge.data, t.challenge.len, &t.proof),
			 -PROTO_EPROTO);
	transcript_free(&t);
	/* a server refusing the HELLO: its code comes back */
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	assert_int_equal(auth_client_hello(&c, NULL, &t.hello), 0);
	proto_put_status(&t.challenge, PROTO_EVERSION, "too old");
	assert_int_equal(auth_client_proof(&c, t.challenge.data, t.challenge.len, &t.proof),
			 -PROTO_EVERSION);
	transcript_free(&t);
}

static void test_replay_and_nonce_reuse(void **state)
{
	struct auth_ctx c, s, c2, s2;
	struct transcript t, t2;
	struct proto_buf rep, p2;
	uint8_t ps[AUTH_PROOF_LEN];

	(void)state;
	transcript_init(&t);
	auth_init(&c, 0, key_a);
	auth_init(&s, 1, key_a);
	assert_int_equal(handshake(&c, &s, &t), 0);

	/* recorded client HELLO + PROOF replayed to a new server: fresh Ns defeats it */
	auth_init(&s2, 1, key_a);
	proto_buf_init(&rep);
	assert_int_equal(auth_server_challenge(&s2, t.hello.data, t.hello.len, &rep), 0);
	assert_memory_not_equal(s2.ns, s.ns, AUTH_NONCE_LEN);
	assert_int_equal(auth_server_verify(&s2, t.proof.data, t.proof.len), -PROTO_EAUTH);
	proto_buf_free(&rep);

	/* recorded server challenge replayed to a new client: fresh Nc defeats it */
	transcript_init(&t2);
	auth_init(&c2, 0, key_a);
	assert_int_equal(auth_client_hello(&c2, NULL, &t2.hello), 0);
	assert_int_equal(auth_client_proof(&c2, t.challenge.data, t.challenge.len, &t2.proof),
			 -PROTO_EAUTH);
	transcript_free(&t2);

	/* recorded confirm replayed into a later session: wrong keys */
	transcript_init(&t2);
	auth_init(&c2, 0, key_a);
	auth_init(&s2, 1, key_a);
	assert_int_equal(auth_client_hello(&c2, NULL, &t2.hello), 0);
	assert_int_equal(auth_server_challenge(&s2, t2.hello.data, t2.hello.len, &t2.challenge), 0);
	assert_int_equal(auth_client_proof(&c2, t2.challenge.data, t2.challenge.len, &t2.proof), 0);
	assert_int_equal(auth_client_confirm(&c2, t.confirm.data, t.confirm.len), -PROTO_EBADMAC);
	transcript_free(&t2);

	/* a second HELLO on an established server connection */
	proto_buf_init(&rep);
	assert_int_equal(auth_server_challenge(&s, t.hello.data, t.hello.len, &rep), -PROTO_ESTATE);
	proto_buf_free(&rep);

	/* reflection: a "server" echoing the client's nonce as its own */
	transcript_init(&t2);
	auth_init(&c2, 0, key_a);
	assert_int_equal(auth_client_hello(&c2, NULL, &t2.hello), 0);
	assert_int_equal(auth_derive(key_a, AUTH_LABEL_SERVER_PROOF, c2.nc, c2.nc, ps), 0);
	proto_buf_init(&rep);
	proto_put_status(&rep, 0, "");
	proto_put_bytes(&rep, PROTO_TAG_NONCE, c2.nc, AUTH_NONCE_LEN);
	proto_put_bytes(&rep, PROTO_TAG_PROOF, ps, AUTH_PROOF_LEN);
	assert_int_equal(auth_client_proof(&c2, rep.data, rep.len, &t2.proof), -PROTO_EAUTH);
	proto_buf_free(&rep);
	transcript_free(&t2);

	/* an all-zero client nonce (broken RNG) */
	auth_init(&s2, 1, key_a);
	proto_buf_init(&p2);
	proto_buf_init(&rep);
	{
		uint8_t zero[AUTH_NONCE_LEN] = {0};

		proto_put_bytes(&p2, PROTO_TAG_NONCE, zero, sizeof(zero));
	}
	assert_int_equal(auth_server_challenge(&s2, p2.data, p2.len, &rep), -PROTO_EAUTH);
	proto_buf_free(&p2);
	proto_buf_free(&rep);
	transcript_free(&t);
}

static void test_server_gate(void **state)
{
	struct auth_ctx s;
	struct proto_hdr h = {.version = PROTO_VERSION};

	(void)state;
	auth_init(&s, 1, key_a);
	/* unauthenticated: only HELLO, unsealed */
	h.type = PROTO_MSG_LUN_DELETE;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
	h.type = PROTO_MSG_AUTH_PROOF;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
	h.type = PROTO_MSG_AUTH_HELLO;
	assert_int_equal(auth_check_frame(&s, &h), 0);
	h.flags = PROTO_F_MAC;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
	h.flags = PROTO_F_REPLY;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EPROTO);
	s.state = AUTH_WAIT_PROOF;
	h.flags = 0;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
	h.type = PROTO_MSG_AUTH_PROOF;
	assert_int_equal(auth_check_frame(&s, &h), 0);
	h.type = PROTO_MSG_VERSION;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
	/* established: everything sealed, no second handshake */
	s.state = AUTH_DONE;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
	h.flags = PROTO_F_MAC;
	assert_int_equal(auth_check_frame(&s, &h), 0);
	h.type = PROTO_MSG_AUTH_HELLO;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
	s.state = AUTH_FAILED;
	h.type = PROTO_MSG_VERSION;
	assert_int_equal(auth_check_frame(&s, &h), -PROTO_EAUTH);
}

static void test_key_files(void **state)
{
	char hex[2 * AUTH_KEY_LEN + 1], path[] = "/tmp/test_auth_keyXXXXXX", buf[100];
	uint8_t k[AUTH_KEY_LEN];
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(auth_key_format_hex(key_a, hex), 0);
	assert_int_equal(auth_key_parse_hex(hex, k), 0);
	assert_memory_equal(k, key_a, AUTH_KEY_LEN);
	snprintf(buf, sizeof(buf), "  %s\r\n", hex);
	assert_int_equal(auth_key_parse_hex(buf, k), 0);
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(auth_key_parse_hex(buf, k), 0);
	assert_memory_equal(k, key_a, AUTH_KEY_LEN);
	hex[63] = '\0';
	assert_int_equal(auth_key_parse_hex(hex, k), -PROTO_EINVAL);
	hex[63] = 'g';
	assert_int_equal(auth_key_parse_hex(hex, k), -PROTO_EINVAL);
	auth_key_format_hex(key_a, hex);
	snprintf(buf, sizeof(buf), "%s00", hex);
	assert_int_equal(auth_key_parse_hex(buf, k), -PROTO_EINVAL);
	assert_int_equal(auth_key_parse_hex("", k), -PROTO_EINVAL);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "%s\n", hex);
	fclose(f);
	chmod(path, 0600);
	memset(k, 0, sizeof(k));
	assert_int_equal(auth_key_load(path, k), 0);
	assert_memory_equal(k, key_a, AUTH_KEY_LEN);
	chmod(path, 0644);
	assert_int_equal(auth_key_load(path, k), -PROTO_EINVAL);
	unlink(path);
	assert_int_equal(auth_key_load(path, k), -PROTO_ENOENT);

	assert_int_equal(auth_key_generate(k), 0);
	assert_memory_not_equal(k, key_b, AUTH_KEY_LEN);
}

/* HMAC-SHA256 known answer (RFC 4231 test case 2) through the platform layer */
static void test_hmac_kat(void **state)
{
	static const uint8_t want[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
					 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
					 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
					 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	struct plat_iov iov[2] = {{"what do ya want ", 16}, {"for nothing?", 12}};
	uint8_t out[32];

	(void)state;
	assert_int_equal(plat_hmac_sha256((const uint8_t *)"Jefe", 4, iov, 2, out), 0);
	assert_memory_equal(out, want, 32);
	assert_int_equal(plat_memcmp_ct(out, want, 32), 0);
	out[31] ^= 1;
	assert_int_not_equal(plat_memcmp_ct(out, want, 32), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_ok), cmocka_unit_test(test_wrong_key),
	    cmocka_unit_test(test_tampering),	 cmocka_unit_test(test_replay_and_nonce_reuse),
	    cmocka_unit_test(test_server_gate),	 cmocka_unit_test(test_key_files),
	    cmocka_unit_test(test_hmac_kat),
	};

	memset(key_b, 0xb5, sizeof(key_b));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

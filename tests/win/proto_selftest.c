/*
 * proto_selftest: a dependency-free self test of shared/ for Windows,
 * cross-built by `make cross-shared` (build/win/proto-selftest.exe) and
 * meant to be run on a Windows host or CI runner: it exercises the BCrypt
 * HMAC and RNG, the handshake and the per-frame MAC, which the Linux unit
 * tests cannot reach.  It also builds and runs on Linux.  Exit 0 = pass.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "platform.h"
#include "proto.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* RFC 4231 test case 2 */
static void hmac_kat(void)
{
	static const uint8_t want[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
					 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
					 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
					 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	struct plat_iov iov[2] = {{"what do ya want ", 16}, {"for nothing?", 12}};
	uint8_t out[32];

	CHECK(plat_hmac_sha256((const uint8_t *)"Jefe", 4, iov, 2, out) == 0);
	CHECK(plat_memcmp_ct(out, want, 32) == 0);
	out[0] ^= 1;
	CHECK(plat_memcmp_ct(out, want, 32) != 0);
}

static void handshake_and_frames(void)
{
	uint8_t key[AUTH_KEY_LEN], n1[32], n2[32];
	struct auth_ctx c, s;
	struct proto_buf hello, chal, proof, fr, pl;

	CHECK(plat_random(n1, sizeof(n1)) == 0 && plat_random(n2, sizeof(n2)) == 0);
	CHECK(memcmp(n1, n2, sizeof(n1)) != 0);
	CHECK(auth_key_generate(key) == 0);
	proto_buf_init(&hello);
	proto_buf_init(&chal);
	proto_buf_init(&proof);
	proto_buf_init(&fr);
	proto_buf_init(&pl);
	auth_init(&c, 0, key);
	auth_init(&s, 1, key);
	CHECK(auth_client_hello(&c, "selftest", &hello) == 0);
	CHECK(auth_server_challenge(&s, hello.data, hello.len, &chal) == 0);
	CHECK(auth_client_proof(&c, chal.data, chal.len, &proof) == 0);
	CHECK(auth_server_verify(&s, proof.data, proof.len) == 0);
	proto_put_status(&pl, PROTO_OK, "");
	CHECK(proto_frame_build(&fr, PROTO_MSG_AUTH_PROOF, PROTO_F_REPLY | PROTO_F_MAC, 1, pl.data,
				pl.len) == 0);
	CHECK(auth_seal(&s.sess, fr.data, fr.len) == 0);
	CHECK(auth_client_confirm(&c, fr.data, fr.len) == 0);
	CHECK(c.state == AUTH_DONE && s.state == AUTH_DONE);

	proto_buf_reset(&fr);
	CHECK(proto_frame_build(&fr, PROTO_MSG_VERSION, PROTO_F_MAC, 2, NULL, 0) == 0);
	CHECK(auth_seal(&c.sess, fr.data, fr.len) == 0);
	fr.data[PROTO_OFF_REQID] ^= 1;
	CHECK(auth_open(&s.sess, fr.data, fr.len) == -PROTO_EBADMAC);
	fr.data[PROTO_OFF_REQID] ^= 1;
	CHECK(auth_open(&s.sess, fr.data, fr.len) == 0);
	CHECK(auth_open(&s.sess, fr.data, fr.len) == -PROTO_EREPLAY);
	proto_buf_free(&hello);
	proto_buf_free(&chal);
	proto_buf_free(&proof);
	proto_buf_free(&fr);
	proto_buf_free(&pl);
}

static void sockets(void)
{
	plat_sock ls, cs, as;
	uint16_t port = 0;
	uint8_t buf[4];

	CHECK(plat_net_init() == 0);
	CHECK(plat_listen("127.0.0.1", 0, &ls, &port) == 0 && port != 0);
	CHECK(plat_connect("127.0.0.1", port, 2000, &cs) == 0);
	CHECK(plat_accept(ls, &as) == 0);
	CHECK(plat_send_all(cs, "ping", 4, 2000) == 0);
	CHECK(plat_recv_all(as, buf, 4, 2000) == 0 && memcmp(buf, "ping", 4) == 0);
	CHECK(plat_recv_all(as, buf, 1, 100) == -PROTO_ETIMEDOUT);
	plat_close(cs);
	CHECK(plat_recv_all(as, buf, 1, 2000) == -PROTO_ECLOSED);
	plat_close(as);
	plat_close(ls);
}

int main(void)
{
	hmac_kat();
	handshake_and_frames();
	sockets();
	printf("proto_selftest: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}

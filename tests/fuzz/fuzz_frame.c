/*
 * libFuzzer target: the ASCP frame decoder, field iteration and
 * accessors, the MAC/sequence check, and the handshake payload parsers.
 * Every input must be refused or accepted without a sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "auth.h"
#include "fuzz_frame.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* touch every field through its accessor; only called on validated input */
static void walk(const uint8_t *buf, size_t len)
{
	struct proto_iter it, sub;
	struct proto_field f;
	uint8_t u8, guid[16];
	uint32_t u32;
	uint64_t u64;
	char s[64];

	proto_iter_init(&it, buf, len);
	while (proto_iter_next(&it, &f) > 0) {
		proto_field_u8(&f, &u8);
		proto_field_u32(&f, &u32);
		proto_field_u64(&f, &u64);
		proto_field_guid(&f, guid);
		proto_field_str(&f, s, sizeof(s));
		if (proto_field_list(&f, &sub) == 0)
			walk(sub.p, sub.left); /* depth bounded by validation */
	}
}

static void handshake_parsers(const uint8_t *payload, size_t len)
{
	static const uint8_t key[AUTH_KEY_LEN] = {7};
	struct auth_ctx a;
	struct proto_buf out;

	proto_buf_init(&out);
	auth_init(&a, 1, key);
	auth_server_challenge(&a, payload, len, &out);
	auth_server_verify(&a, payload, len);
	proto_buf_reset(&out);
	auth_init(&a, 0, key);
	/* pretend HELLO went out so the challenge parser runs */
	a.state = AUTH_WAIT_CHALLENGE;
	auth_client_proof(&a, payload, len, &out);
	proto_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_frame f;
	struct proto_hdr h;
	struct auth_session s;
	uint32_t status;
	char msg[32];

	proto_hdr_decode(data, size, &h);
	if (proto_frame_decode(data, size, &f) == 0) {
		walk(f.payload, f.payload_len);
		proto_get_status(f.payload, f.payload_len, &status, msg, sizeof(msg));
		proto_msg_lookup(f.hdr.type);
		fuzz_session(&s);
		auth_open(&s, data, size);
		handshake_parsers(f.payload, f.payload_len);
	}
	/* the bare field layer, without a frame around it */
	if (proto_fields_validate(data, size) == 0)
		walk(data, size);
	return 0;
}

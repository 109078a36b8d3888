/*
 * Writes seed frames for fuzz_frame into a directory: for every message
 * type a request and a reply, sealed with the fuzz session key, plus a
 * few unsealed handshake frames.  Usage: gen_frame_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fuzz_frame.h"
#include "proto.h"

static void put_sample(struct proto_buf *b, uint16_t tag)
{
	uint8_t blob[32];
	long mark;

	memset(blob, tag & 0xff, sizeof(blob));
	switch (proto_tag_type(tag)) {
	case PROTO_T_U8:
		proto_put_u8(b, tag, 1);
		break;
	case PROTO_T_U32:
		proto_put_u32(b, tag, tag);
		break;
	case PROTO_T_U64:
		proto_put_u64(b, tag, 1ull << 40 | tag);
		break;
	case PROTO_T_STRING:
		proto_put_str(b, tag, "lun-0001");
		break;
	case PROTO_T_BYTES:
		proto_put_bytes(b, tag, blob, tag == PROTO_TAG_LUN_NAA ? 16 : 32);
		break;
	case PROTO_T_GUID:
		proto_put_guid(b, tag, blob);
		break;
	case PROTO_T_LIST:
		mark = proto_list_begin(b, tag);
		proto_put_str(b, PROTO_TAG_LUN_NAME, "lun-0001");
		proto_put_u64(b, PROTO_TAG_LUN_SIZE, 1 << 30);
		proto_put_raw(b, 61000, 99, "new", 3); /* an unknown field */
		proto_list_end(b, mark);
		break;
	}
}

static int emit(const char *dir, const char *name, const struct proto_buf *fr)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(fr->data, 1, fr->len, f) != fr->len) {
		perror(path);
		return -1;
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	const struct proto_msg_desc *t;
	struct proto_buf pl, fr;
	struct auth_session s;
	char name[64];
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	t = proto_msg_table(&n);
	proto_buf_init(&pl);
	proto_buf_init(&fr);
	for (size_t i = 0; i < n; i++) {
		for (int reply = 0; reply < 2; reply++) {
			const uint16_t *tags = reply ? t[i].rep : t[i].req;
			int hs =
			    t[i].type == PROTO_MSG_AUTH_HELLO || t[i].type == PROTO_MSG_AUTH_PROOF;
			uint8_t flags = (reply ? PROTO_F_REPLY : 0) | (hs ? 0 : PROTO_F_MAC);

			proto_buf_reset(&pl);
			proto_buf_reset(&fr);
			if (reply)
				proto_put_status(&pl, reply && i % 3 ? PROTO_OK : PROTO_EBUSY, "m");
			for (const uint16_t *p = tags; *p; p++)
				put_sample(&pl, *p);
			proto_frame_build(&fr, t[i].type, flags, 1000 + i, pl.data, pl.len);
			fuzz_session(&s);
			if (!hs && auth_seal(&s, fr.data, fr.len))
				return 1;
			if (pl.err || fr.err)
				return 1;
			snprintf(name, sizeof(name), "%s-%s", t[i].name, reply ? "rep" : "req");
			if (emit(argv[1], name, &fr))
				return 1;
		}
	}
	proto_buf_free(&pl);
	proto_buf_free(&fr);
	return 0;
}

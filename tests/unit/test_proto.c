/*
 * test_proto: ASCP frame/field codec.  Every message type round-trips;
 * every class of malformed frame is refused with its specific error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "proto.h"

/* a session pair whose keys line up: what a finished handshake yields */
static void session_pair(struct auth_session *c, struct auth_session *s)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	memset(c->tx_key, 0x11, sizeof(c->tx_key));
	memset(c->rx_key, 0x22, sizeof(c->rx_key));
	memcpy(s->tx_key, c->rx_key, sizeof(s->tx_key));
	memcpy(s->rx_key, c->tx_key, sizeof(s->rx_key));
}

/* deterministic sample value for a tag, by its declared type */
static void put_sample(struct proto_buf *b, uint16_t tag)
{
	uint8_t blob[32];
	char s[32];
	long mark;

	memset(blob, (int)(tag & 0xff), sizeof(blob));
	switch (proto_tag_type(tag)) {
	case PROTO_T_U8:
		proto_put_u8(b, tag, (uint8_t)tag);
		break;
	case PROTO_T_U32:
		proto_put_u32(b, tag, 0x01000000u + tag);
		break;
	case PROTO_T_U64:
		proto_put_u64(b, tag, 0x0100000000000000ull + tag);
		break;
	case PROTO_T_STRING:
		snprintf(s, sizeof(s), "s-%u", (unsigned)tag);
		proto_put_str(b, tag, s);
		break;
	case PROTO_T_BYTES:
		proto_put_bytes(b, tag, blob, tag == PROTO_TAG_LUN_NAA ? 16 : 32);
		break;
	case PROTO_T_GUID:
		proto_put_guid(b, tag, blob);
		break;
	case PROTO_T_LIST:
		/* two entries, each a nested record */
		for (int i = 0; i < 2; i++) {
			mark = proto_list_begin(b, tag);
			proto_put_u64(b, PROTO_TAG_OFFSET, (uint64_t)tag * 100 + (uint64_t)i);
			proto_put_str(b, PROTO_TAG_TEXT, "entry");
			proto_list_end(b, mark);
		}
		break;
	default:
		fail_msg("tag %u has no type", tag);
	}
}

static void check_sample(const struct proto_field *f, uint16_t tag)
{
	struct proto_iter sub;
	struct proto_field g;
	uint8_t u8, guid[16];
	uint32_t u32;
	uint64_t u64;
	char s[32], want[32];

	assert_int_equal(f->tag, tag);
	switch (proto_tag_type(tag)) {
	case PROTO_T_U8:
		assert_int_equal(proto_field_u8(f, &u8), 0);
		assert_int_equal(u8, (uint8_t)tag);
		break;
	case PROTO_T_U32:
		assert_int_equal(proto_field_u32(f, &u32), 0);
		assert_int_equal(u32, 0x01000000u + tag);
		break;
	case PROTO_T_U64:
		assert_int_equal(proto_field_u64(f, &u64), 0);
		assert_true(u64 == 0x0100000000000000ull + tag);
		break;
	case PROTO_T_STRING:
		snprintf(want, sizeof(want), "s-%u", (unsigned)tag);
		assert_int_equal(proto_field_str(f, s, sizeof(s)), 0);
		assert_string_equal(s, want);
		break;
	case PROTO_T_BYTES:
		assert_int_equal(f->len, tag == PROTO_TAG_LUN_NAA ? 16 : 32);
		assert_int_equal(f->val[0], tag & 0xff);
		break;
	case PROTO_T_GUID:
		assert_int_equal(proto_field_guid(f, guid), 0);
		assert_int_equal(guid[15], tag & 0xff);
		break;
	case PROTO_T_LIST:
		assert_int_equal(proto_field_list(f, &sub), 0);
		assert_int_equal(proto_iter_next(&sub, &g), 1);
		assert_int_equal(proto_field_u64(&g, &u64), 0);
		assert_true(u64 / 100 == tag);
		assert_int_equal(proto_iter_next(&sub, &g), 1);
		assert_int_equal(proto_field_str(&g, s, sizeof(s)), 0);
		assert_string_equal(s, "entry");
		assert_int_equal(proto_iter_next(&sub, &g), 0);
		break;
	}
}

/* encode, seal, open, decode and compare one message */
static void roundtrip(const struct proto_msg_desc *d, int reply, struct auth_session *tx,
		      struct auth_session *rx)
{
	const uint16_t *tags = reply ? d->rep : d->req;
	struct proto_buf pl, fr;
	struct proto_frame f;
	struct proto_iter it;
	struct proto_field fld;
	uint64_t reqid = 0x1234567800000000ull + d->type;
	uint8_t flags = PROTO_F_MAC | (reply ? PROTO_F_REPLY : 0);
	uint32_t status;
	char msg[64];
	int n = 0;

	proto_buf_init(&pl);
	proto_buf_init(&fr);
	if (reply)
		proto_put_status(&pl, PROTO_EBUSY, "busy now");
	for (const uint16_t *t = tags; *t; t++)
		put_sample(&pl, *t);
	assert_int_equal(pl.err, 0);
	assert_int_equal(proto_frame_build(&fr, d->type, flags, reqid, pl.data, pl.len), 0);
	assert_int_equal(auth_seal(tx, fr.data, fr.len), 0);

	assert_int_equal(auth_open(rx, fr.data, fr.len), 0);
	assert_int_equal(proto_frame_decode(fr.data, fr.len, &f), 0);
	assert_int_equal(f.hdr.type, d->type);
	assert_int_equal(f.hdr.flags, flags);
	assert_true(f.hdr.reqid == reqid);
	assert_true(f.hdr.seq == tx->tx_seq);
	assert_int_equal(f.payload_len, pl.len);
	proto_iter_init(&it, f.payload, f.payload_len);
	if (reply) {
		assert_int_equal(
		    proto_get_status(f.payload, f.payload_len, &status, msg, sizeof(msg)), 0);
		assert_int_equal(status, PROTO_EBUSY);
		assert_string_equal(msg, "busy now");
		assert_int_equal(proto_iter_next(&it, &fld), 1);
		assert_int_equal(proto_iter_next(&it, &fld), 1);
	}
	for (const uint16_t *t = tags; *t; t++) {
		int reps = proto_tag_type(*t) == PROTO_T_LIST ? 2 : 1;

		for (int i = 0; i < reps; i++) {
			assert_int_equal(proto_iter_next(&it, &fld), 1);
			check_sample(&fld, *t);
			n++;
		}
	}
	assert_int_equal(proto_iter_next(&it, &fld), 0);
	proto_buf_free(&pl);
	proto_buf_free(&fr);
}

static void test_roundtrip_all_messages(void **state)
{
	struct auth_session c, s;
	size_t n;
	const struct proto_msg_desc *t = proto_msg_table(&n);

	(void)state;
	session_pair(&c, &s);
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++) {
		roundtrip(&t[i], 0, &c, &s);
		roundtrip(&t[i], 1, &s, &c);
	}
	assert_true(c.tx_seq == n && s.tx_seq == n);
}

static void test_tables_consistent(void **state)
{
	size_t n;
	const struct proto_msg_desc *t = proto_msg_table(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(proto_msg_lookup(t[i].type), &t[i]);
		for (size_t j = i + 1; j < n; j++)
			assert_int_not_equal(t[i].type, t[j].type);
		for (const uint16_t *p = t[i].req; *p; p++)
			assert_int_not_equal(proto_tag_type(*p), 0);
		for (const uint16_t *p = t[i].rep; *p; p++)
			assert_int_not_equal(proto_tag_type(*p), 0);
	}
	assert_null(proto_msg_lookup(0x7777));
	for (int e = 0; e < PROTO_ERR_MAX; e++)
		assert_string_not_equal(proto_strerror(e), "unknown error");
	assert_string_equal(proto_strerror(-PROTO_EBADMAC), proto_strerror(PROTO_EBADMAC));
	assert_string_equal(proto_strerror(PROTO_ERR_MAX), "unknown error");
}

/* a valid unsealed VERSION request, for mutilation */
static void build_frame(struct proto_buf *fr, uint8_t flags)
{
	struct proto_buf pl;

	proto_buf_init(&pl);
	proto_buf_init(fr);
	proto_put_u32(&pl, PROTO_TAG_PROTO_VERSION, 1);
	proto_put_str(&pl, PROTO_TAG_CLIENT_NAME, "unit");
	assert_int_equal(proto_frame_build(fr, PROTO_MSG_VERSION, flags, 42, pl.data, pl.len), 0);
	proto_buf_free(&pl);
}

static void test_bad_header(void **state)
{
	struct proto_buf fr;
	struct proto_frame f;
	struct proto_hdr h;

	(void)state;
	build_frame(&fr, 0);
	assert_int_equal(proto_frame_decode(fr.data, fr.len, &f), 0);
	/* truncated header: every length short of 32 */
	for (size_t n = 0; n < PROTO_HDR_LEN; n++)
		assert_int_equal(proto_frame_decode(fr.data, n, &f), -PROTO_ETRUNC);
	/* truncated body and trailing garbage */
	assert_int_equal(proto_frame_decode(fr.data, fr.len - 1, &f), -PROTO_ETRUNC);
	assert_int_equal(proto_frame_decode(fr.data, PROTO_HDR_LEN, &f), -PROTO_ETRUNC);
	fr.data[0] ^= 0x80;
	assert_int_equal(proto_frame_decode(fr.data, fr.len, &f), -PROTO_EPROTO);
	fr.data[0] ^= 0x80;
	fr.data[PROTO_OFF_VERSION] = 2;
	assert_int_equal(proto_frame_decode(fr.data, fr.len, &f), -PROTO_EVERSION);
	fr.data[PROTO_OFF_VERSION] = 0;
	assert_int_equal(proto_frame_decode(fr.data, fr.len, &f), -PROTO_EVERSION);
	fr.data[PROTO_OFF_VERSION] = PROTO_VERSION;
	/* length over the maximum is refused from the header alone */
	proto_be32_put(fr.data + PROTO_OFF_LEN, PROTO_MAX_FRAME);
	assert_int_equal(proto_hdr_decode(fr.data, PROTO_HDR_LEN, &h), -PROTO_ETOOBIG);
	proto_be32_put(fr.data + PROTO_OFF_LEN, 0xffffffffu);
	assert_int_equal(proto_hdr_decode(fr.data, PROTO_HDR_LEN, &h), -PROTO_ETOOBIG);
	/* exactly the maximum is fine; one more with the MAC is not */
	proto_be32_put(fr.data + PROTO_OFF_LEN, PROTO_MAX_FRAME - PROTO_HDR_LEN);
	assert_int_equal(proto_hdr_decode(fr.data, PROTO_HDR_LEN, &h), (long)PROTO_MAX_FRAME);
	fr.data[PROTO_OFF_FLAGS] |= PROTO_F_MAC;
	assert_int_equal(proto_hdr_decode(fr.data, PROTO_HDR_LEN, &h), -PROTO_ETOOBIG);
	proto_buf_free(&fr);
	{
		uint8_t big[PROTO_HDR_LEN];
		struct proto_buf b;

		proto_buf_init(&b);
		memset(big, 0, sizeof(big));
		/* the encoder refuses to produce what the decoder would refuse */
		assert_int_equal(proto_frame_build(&b, 1, 0, 1, big, PROTO_MAX_PAYLOAD + 33),
				 -PROTO_ETOOBIG);
		proto_buf_free(&b);
	}
}

static void test_bad_fields(void **state)
{
	uint8_t p[64];
	struct proto_buf b;
	long outer;

	(void)state;
	/* truncated field header */
	memset(p, 0, sizeof(p));
	for (size_t n = 1; n < PROTO_FIELD_HDR_LEN; n++)
		assert_int_equal(proto_fields_validate(p, n), -PROTO_ETRUNC);
	/* field length overflow: one past the end, and the 32-bit maximum */
	proto_be16_put(p, PROTO_TAG_TEXT);
	p[2] = PROTO_T_STRING;
	proto_be32_put(p + 4, 5);
	memcpy(p + 8, "abcd", 4);
	assert_int_equal(proto_fields_validate(p, 12), -PROTO_EOVERFLOW);
	proto_be32_put(p + 4, 0xffffffffu);
	assert_int_equal(proto_fields_validate(p, 12), -PROTO_EOVERFLOW);
	proto_be32_put(p + 4, 4);
	assert_int_equal(proto_fields_validate(p, 12), 0);
	/* valid field followed by a partial one: truncated field */
	assert_int_equal(proto_fields_validate(p, 15), -PROTO_ETRUNC);
	/* NUL inside a string */
	p[9] = 0;
	assert_int_equal(proto_fields_validate(p, 12), -PROTO_EPROTO);
	/* fixed-size type with the wrong length */
	proto_be16_put(p, PROTO_TAG_STATUS);
	p[2] = PROTO_T_U32;
	proto_be32_put(p + 4, 3);
	assert_int_equal(proto_fields_validate(p, 11), -PROTO_EPROTO);
	/* known tag with the wrong type */
	proto_be32_put(p + 4, 8);
	p[2] = PROTO_T_U64;
	assert_int_equal(proto_fields_validate(p, 16), -PROTO_EPROTO);

	/* nested list whose inner field overflows the list, not the frame */
	proto_buf_init(&b);
	outer = proto_list_begin(&b, PROTO_TAG_LUN);
	proto_put_str(&b, PROTO_TAG_LUN_NAME, "lun0");
	proto_list_end(&b, outer);
	proto_put_u32(&b, PROTO_TAG_STATUS, 0);
	assert_int_equal(proto_fields_validate(b.data, b.len), 0);
	proto_be32_put(b.data + PROTO_FIELD_HDR_LEN + 4, 5);
	assert_int_equal(proto_fields_validate(b.data, b.len), -PROTO_EOVERFLOW);
	proto_buf_free(&b);

	/* nesting deeper than PROTO_MAX_DEPTH */
	proto_buf_init(&b);
	{
		long marks[PROTO_MAX_DEPTH + 1];

		for (int i = 0; i <= PROTO_MAX_DEPTH; i++)
			marks[i] = proto_list_begin(&b, PROTO_TAG_EXTENT);
		for (int i = PROTO_MAX_DEPTH; i >= 0; i--)
			proto_list_end(&b, marks[i]);
		assert_int_equal(proto_fields_validate(b.data, b.len), -PROTO_EPROTO);
		/* one level less is accepted */
		assert_int_equal(proto_fields_validate(b.data + PROTO_FIELD_HDR_LEN,
						       b.len - PROTO_FIELD_HDR_LEN),
				 0);
	}
	proto_buf_free(&b);
}

static void test_mac_and_sequence(void **state)
{
	struct auth_session c, s;
	struct proto_buf fr[3];

	(void)state;
	session_pair(&c, &s);
	for (int i = 0; i < 3; i++) {
		build_frame(&fr[i], PROTO_F_MAC);
		assert_int_equal(auth_seal(&c, fr[i].data, fr[i].len), 0);
	}
	/* reordered: 1, then 3 before 2 */
	assert_int_equal(auth_open(&s, fr[0].data, fr[0].len), 0);
	assert_int_equal(auth_open(&s, fr[2].data, fr[2].len), -PROTO_ESEQ);
	assert_int_equal(auth_open(&s, fr[1].data, fr[1].len), 0);
	/* replayed */
	assert_int_equal(auth_open(&s, fr[1].data, fr[1].len), -PROTO_EREPLAY);
	assert_int_equal(auth_open(&s, fr[0].data, fr[0].len), -PROTO_EREPLAY);
	/* bad MAC: the MAC bytes themselves */
	fr[2].data[fr[2].len - 1] ^= 1;
	assert_int_equal(auth_open(&s, fr[2].data, fr[2].len), -PROTO_EBADMAC);
	fr[2].data[fr[2].len - 1] ^= 1;
	/* altered byte anywhere: refused, and counters untouched */
	for (size_t i = 0; i < fr[2].len; i++) {
		int rc;

		fr[2].data[i] ^= 0x20;
		rc = auth_open(&s, fr[2].data, fr[2].len);
		assert_int_not_equal(rc, 0);
		if (i >= PROTO_OFF_REQID)
			assert_int_equal(rc, -PROTO_EBADMAC);
		fr[2].data[i] ^= 0x20;
	}
	assert_int_equal(auth_open(&s, fr[2].data, fr[2].len), 0);
	/* a reflected frame: the client's own rx key differs from its tx key */
	assert_int_equal(auth_open(&c, fr[0].data, fr[0].len), -PROTO_EBADMAC);
	/* an unsealed frame in a session */
	proto_buf_free(&fr[0]);
	build_frame(&fr[0], 0);
	assert_int_equal(auth_open(&s, fr[0].data, fr[0].len), -PROTO_EAUTH);
	/* sealed frame cut short */
	assert_int_equal(auth_open(&s, fr[1].data, fr[1].len - 1), -PROTO_ETRUNC);
	for (int i = 0; i < 3; i++)
		proto_buf_free(&fr[i]);
}

static void test_unknown_fields_skipped(void **state)
{
	struct proto_buf pl, fr;
	struct proto_frame f;
	struct proto_field fld;
	struct proto_iter it, sub;
	uint32_t v;
	char name[16];
	long mark;
	int known = 0;

	(void)state;
	proto_buf_init(&pl);
	proto_buf_init(&fr);
	/* a "newer peer": unknown tags, an unknown type, unknown inside a list */
	proto_put_raw(&pl, 60000, PROTO_T_STRING, "future", 6);
	proto_put_raw(&pl, 60001, 200, "\x01\x02\x03", 3);
	proto_put_raw(&pl, 60002, 201, NULL, 0);
	mark = proto_list_begin(&pl, PROTO_TAG_LUN);
	proto_put_u64(&pl, 60003, 7);
	proto_put_str(&pl, PROTO_TAG_LUN_NAME, "lun7");
	proto_list_end(&pl, mark);
	proto_put_u32(&pl, PROTO_TAG_STATUS, PROTO_ENOENT);
	assert_int_equal(pl.err, 0);
	assert_int_equal(proto_frame_build(&fr, 0x7fff, PROTO_F_REPLY, 9, pl.data, pl.len), 0);
	/* an unknown message type decodes too: refusing it is the server's call */
	assert_int_equal(proto_frame_decode(fr.data, fr.len, &f), 0);
	assert_int_equal(proto_get_u32(f.payload, f.payload_len, PROTO_TAG_STATUS, &v), 0);
	assert_int_equal(v, PROTO_ENOENT);
	assert_int_equal(proto_get_u32(f.payload, f.payload_len, PROTO_TAG_LUN_COUNT, &v),
			 -PROTO_ENOENT);
	proto_iter_init(&it, f.payload, f.payload_len);
	while (proto_iter_next(&it, &fld) > 0) {
		if (!proto_tag_type(fld.tag))
			continue;
		known++;
		if (fld.tag == PROTO_TAG_LUN) {
			assert_int_equal(proto_field_list(&fld, &sub), 0);
			assert_int_equal(proto_find(sub.p, sub.left, PROTO_TAG_LUN_NAME, &fld), 0);
			assert_int_equal(proto_field_str(&fld, name, sizeof(name)), 0);
			assert_string_equal(name, "lun7");
		}
	}
	assert_int_equal(known, 2);
	proto_buf_free(&pl);
	proto_buf_free(&fr);
}

static void test_encoder_limits(void **state)
{
	struct proto_buf b;
	struct proto_field f;
	char *big, small[4], msg[PROTO_MSG_MAX + 8];
	uint32_t st;
	uint8_t u8;

	(void)state;
	proto_buf_init(&b);
	big = malloc(PROTO_MAX_FRAME);
	assert_non_null(big);
	memset(big, 'x', PROTO_MAX_FRAME - 1);
	big[PROTO_MAX_FRAME - 1] = '\0';
	/* an over-long status message is cut to PROTO_MSG_MAX */
	assert_int_equal(proto_put_status(&b, -PROTO_EINVAL, big), 0);
	assert_int_equal(proto_get_status(b.data, b.len, &st, msg, sizeof(msg)), 0);
	assert_int_equal(st, PROTO_EINVAL);
	assert_int_equal(strlen(msg), PROTO_MSG_MAX);
	/* a small output buffer still gets a cut message */
	assert_int_equal(proto_get_status(b.data, b.len, &st, small, sizeof(small)), 0);
	assert_string_equal(small, "xxx");
	assert_int_equal(proto_get_str(b.data, b.len, PROTO_TAG_MESSAGE, small, sizeof(small)),
			 -PROTO_ERANGE);
	/* type mismatch through accessors */
	assert_int_equal(proto_find(b.data, b.len, PROTO_TAG_STATUS, &f), 0);
	assert_int_equal(proto_field_u8(&f, &u8), -PROTO_EPROTO);
	/* growth past the frame limit is sticky */
	assert_int_equal(proto_put_str(&b, PROTO_TAG_TEXT, big), -PROTO_ETOOBIG);
	assert_int_equal(proto_put_u8(&b, PROTO_TAG_MORE, 1), -PROTO_ETOOBIG);
	assert_int_equal(b.err, -PROTO_ETOOBIG);
	proto_buf_reset(&b);
	assert_int_equal(proto_put_u8(&b, PROTO_TAG_MORE, 1), 0);
	/* a reply without STATUS is a protocol error */
	assert_int_equal(proto_get_status(b.data, b.len, &st, NULL, 0), -PROTO_EPROTO);
	assert_int_equal(proto_list_end(&b, 9999), -PROTO_EINVAL);
	free(big);
	proto_buf_free(&b);
}

static void test_guid_byte_order(void **state)
{
	/* {00112233-4455-6677-8899-aabbccddeeff} */
	static const uint8_t d4[8] = {0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	static const uint8_t wire[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	uint8_t g[16], e[8];
	uint32_t a;
	uint16_t b, c;

	(void)state;
	proto_guid_pack(g, 0x00112233u, 0x4455, 0x6677, d4);
	assert_memory_equal(g, wire, 16);
	proto_guid_unpack(g, &a, &b, &c, e);
	assert_true(a == 0x00112233u && b == 0x4455 && c == 0x6677);
	assert_memory_equal(e, d4, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_all_messages),
	    cmocka_unit_test(test_tables_consistent),
	    cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_mac_and_sequence),
	    cmocka_unit_test(test_unknown_fields_skipped),
	    cmocka_unit_test(test_encoder_limits),
	    cmocka_unit_test(test_guid_byte_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

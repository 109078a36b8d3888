/*
 * test_iscsi_pdu: the iSCSI PDU codec (array-sim/iscsi/pdu.[ch]): be*
 * helpers, BHS accessors, header checks, AHS walk, CRC32C digests (RFC
 * 3720 B.4 vectors), LUN encoding and sequence-number windows (RFC 1982
 * serial arithmetic).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../array-sim/iscsi/pdu.h"

static void test_be_helpers(void **state)
{
	uint8_t b[8] = {0};

	(void)state;
	be16_put(b, 0x1234);
	assert_int_equal(b[0], 0x12);
	assert_int_equal(be16_get(b), 0x1234);
	be24_put(b, 0xabcdef);
	assert_int_equal(be24_get(b), 0xabcdef);
	be32_put(b, 0xdeadbeef);
	assert_int_equal(b[0], 0xde);
	assert_int_equal(b[3], 0xef);
	assert_int_equal(be32_get(b), 0xdeadbeef);
	be64_put(b, 0x0102030405060708ull);
	assert_int_equal(b[7], 8);
	assert_true(be64_get(b) == 0x0102030405060708ull);
}

static void test_bhs_fields(void **state)
{
	uint8_t h[ISCSI_BHS_LEN] = {0};

	(void)state;
	/* a SCSI Command as an initiator builds it (RFC 7143 11.3) */
	h[0] = ISCSI_OP_SCSI_CMD | ISCSI_OP_IMMEDIATE;
	h[1] = ISCSI_F_FINAL | ISCSI_F_CMD_R | 1;
	h[4] = 5;
	be24_put(h + 5, 4096);
	be64_put(h + 8, 0x0003000000000000ull);
	be32_put(h + 16, 0x11223344);
	be32_put(h + 20, 8192);
	be32_put(h + 24, 77);
	be32_put(h + 28, 9);
	h[32] = 0x28;
	assert_int_equal(bhs_opcode(h), ISCSI_OP_SCSI_CMD);
	assert_true(bhs_immediate(h));
	assert_int_equal(bhs_flags(h) & ISCSI_F_ATTR, 1);
	assert_int_equal(bhs_ahs_len(h), 20);
	assert_int_equal(bhs_dsl(h), 4096);
	assert_int_equal(iscsi_lun_decode(bhs_lun(h)), 3);
	assert_int_equal(bhs_itt(h), 0x11223344);
	assert_int_equal(bhs_edtl(h), 8192);
	assert_int_equal(bhs_cmdsn(h), 77);
	assert_int_equal(bhs_expstatsn(h), 9);
	assert_int_equal(bhs_cdb(h)[0], 0x28);

	/* response setters land on the RFC offsets */
	memset(h, 0, sizeof(h));
	bhs_set_opcode(h, ISCSI_OP_DATA_IN);
	bhs_set_flags(h, ISCSI_F_FINAL | ISCSI_F_DATA_S);
	bhs_set_status(h, 0x02);
	bhs_set_dsl(h, 512);
	bhs_set_itt(h, 7);
	bhs_set_ttt(h, ISCSI_RSVD_TAG);
	bhs_set_statsn(h, 100);
	bhs_set_expcmdsn(h, 200);
	bhs_set_maxcmdsn(h, 327);
	bhs_set_datasn(h, 3);
	bhs_set_buffer_offset(h, 1536);
	bhs_set_residual(h, 12);
	assert_int_equal(h[0], 0x25);
	assert_int_equal(h[1], 0x81);
	assert_int_equal(h[3], 0x02);
	assert_int_equal(be24_get(h + 5), 512);
	assert_int_equal(be32_get(h + 20), 0xffffffffu);
	assert_int_equal(be32_get(h + 24), 100);
	assert_int_equal(be32_get(h + 28), 200);
	assert_int_equal(be32_get(h + 32), 327);
	assert_int_equal(be32_get(h + 36), 3);
	assert_int_equal(be32_get(h + 40), 1536);
	assert_int_equal(be32_get(h + 44), 12);
}

static void test_login_fields(void **state)
{
	uint8_t h[ISCSI_BHS_LEN] = {0};

	(void)state;
	h[0] = 0x43;
	h[1] = 0x87; /* T, CSG 1, NSG 3 */
	h[3] = 0;
	be16_put(h + 8, 0x0023);
	be32_put(h + 10, 0x3d000001);
	be16_put(h + 14, 0);
	be16_put(h + 20, 1);
	assert_int_equal(login_csg(h), 1);
	assert_int_equal(login_nsg(h), 3);
	assert_true(login_isid(h) == 0x00233d000001ull);
	assert_int_equal(login_cid(h), 1);

	memset(h, 0, sizeof(h));
	login_set_stages(h, 1, 1, 3);
	assert_int_equal(h[1], 0x87);
	login_set_stages(h, 0, 0, 3); /* no transit: NSG reserved */
	assert_int_equal(h[1], 0x00);
	login_set_isid(h, 0x00233d000001ull);
	assert_true(login_isid(h) == 0x00233d000001ull);
	login_set_status(h, 0x0201);
	assert_int_equal(h[36], 2);
	assert_int_equal(h[37], 1);
}

static void test_bhs_check(void **state)
{
	uint8_t h[ISCSI_BHS_LEN] = {0};
	struct iscsi_rx_limits ffp = {.max_dsl = 8192, .login = 0};
	struct iscsi_rx_limits login = {.max_dsl = 8192, .login = 1};

	(void)state;
	h[0] = ISCSI_OP_SCSI_CMD;
	h[1] = ISCSI_F_FINAL;
	assert_int_equal(iscsi_bhs_check(h, &ffp), 0);
	/* data segment above MaxRecvDataSegmentLength: drop */
	be24_put(h + 5, 8193);
	assert_int_equal(iscsi_bhs_check(h, &ffp), -1);
	be24_put(h + 5, 8192);
	assert_int_equal(iscsi_bhs_check(h, &ffp), 0);
	/* AHS over our limit: drop before reading it */
	h[4] = ISCSI_AHS_MAX / 4 + 1;
	assert_int_equal(iscsi_bhs_check(h, &ffp), -1);
	h[4] = 0;
	/* reserved ITT on a command */
	be32_put(h + 16, ISCSI_RSVD_TAG);
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_INVALID_FIELD);
	be32_put(h + 16, 1);
	/* only Login Requests during login */
	assert_int_equal(iscsi_bhs_check(h, &login), -1);
	h[0] = 0x43;
	assert_int_equal(iscsi_bhs_check(h, &login), 0);
	h[0] = 0x03; /* login without the I bit */
	assert_int_equal(iscsi_bhs_check(h, &login), -1);
	/* login in full feature phase, SNACK at ERL 0, vendor opcodes */
	h[0] = 0x43;
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_PROTOCOL);
	h[0] = ISCSI_OP_SNACK;
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_PROTOCOL);
	h[0] = 0x1c;
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_NOT_SUPPORTED);
	h[0] = 0x21; /* a target opcode from the initiator */
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_NOT_SUPPORTED);
	/* TMF must have F=1 and no data; NOP-Out with reserved ITT must
	 * be immediate */
	h[0] = ISCSI_OP_TMF_REQ | ISCSI_OP_IMMEDIATE;
	h[1] = 1;
	be24_put(h + 5, 0);
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_PROTOCOL);
	h[1] = 0x81;
	assert_int_equal(iscsi_bhs_check(h, &ffp), 0);
	h[0] = ISCSI_OP_NOP_OUT;
	be32_put(h + 16, ISCSI_RSVD_TAG);
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_PROTOCOL);
	h[0] |= ISCSI_OP_IMMEDIATE;
	assert_int_equal(iscsi_bhs_check(h, &ffp), 0);
	/* Logout with data */
	h[0] = ISCSI_OP_LOGOUT_REQ;
	be24_put(h + 5, 4);
	assert_int_equal(iscsi_bhs_check(h, &ffp), ISCSI_REJ_PROTOCOL);
}

static void test_ahs(void **state)
{
	uint8_t a[ISCSI_AHS_MAX] = {0}, ext[16];
	unsigned n;
	int bidi;

	(void)state;
	/* extended CDB: 16 more bytes, AHSLength 17 */
	be16_put(a, 17);
	a[2] = 1;
	for (int i = 0; i < 16; i++)
		a[4 + i] = (uint8_t)(0xa0 + i);
	assert_int_equal(iscsi_ahs_parse(a, 4 + 16, ext, sizeof(ext), &n, &bidi), 0);
	assert_int_equal(n, 16);
	assert_int_equal(ext[15], 0xaf);
	assert_int_equal(bidi, 0);
	/* bidirectional read length */
	memset(a, 0, sizeof(a));
	be16_put(a, 5);
	a[2] = 2;
	assert_int_equal(iscsi_ahs_parse(a, 8, ext, sizeof(ext), &n, &bidi), 0);
	assert_int_equal(bidi, 1);
	/* malformed: zero length, unknown type, overlong, truncated */
	memset(a, 0, sizeof(a));
	assert_int_equal(iscsi_ahs_parse(a, 4, ext, sizeof(ext), &n, &bidi), -1);
	be16_put(a, 5);
	a[2] = 9;
	assert_int_equal(iscsi_ahs_parse(a, 8, ext, sizeof(ext), &n, &bidi), -1);
	be16_put(a, 200);
	a[2] = 1;
	assert_int_equal(iscsi_ahs_parse(a, 8, ext, sizeof(ext), &n, &bidi), -1);
	assert_int_equal(iscsi_ahs_parse(a, 3, ext, sizeof(ext), &n, &bidi), -1);
	/* extended CDB longer than the caller can hold */
	be16_put(a, 21);
	a[2] = 1;
	assert_int_equal(iscsi_ahs_parse(a, 28, ext, sizeof(ext), &n, &bidi), -1);
	assert_int_equal(iscsi_ahs_parse(a, 0, ext, sizeof(ext), &n, &bidi), 0);
}

static void test_crc32c_vectors(void **state)
{
	uint8_t b[32], wire[4];

	(void)state;
	/* RFC 3720 B.4 */
	memset(b, 0, sizeof(b));
	assert_int_equal(iscsi_crc32c(b, 32), 0x8a9136aa);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(iscsi_crc32c(b, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(iscsi_crc32c(b, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(iscsi_crc32c(b, 32), 0x113fdb5c);
	/* two pieces chain to the same value (data + padding) */
	assert_int_equal(iscsi_crc32c2(b, 10, b + 10, 22), 0x113fdb5c);
	assert_int_equal(iscsi_crc32c2(b, 32, NULL, 0), 0x113fdb5c);
	/* little-endian on the wire */
	iscsi_digest_put(wire, 0x8a9136aa);
	assert_int_equal(wire[0], 0xaa);
	assert_int_equal(wire[3], 0x8a);
	assert_int_equal(iscsi_digest_get(wire), 0x8a9136aa);
}

static void test_lun(void **state)
{
	(void)state;
	assert_true(iscsi_lun_encode(0) == 0);
	assert_true(iscsi_lun_encode(5) == 0x0005000000000000ull);
	assert_true(iscsi_lun_encode(300) == 0x412c000000000000ull);
	for (uint64_t n = 0; n < 16384; n += 37)
		assert_true(iscsi_lun_decode(iscsi_lun_encode(n)) == n);
	/* peripheral with a bus, deeper levels, other methods: unsupported */
	assert_true(iscsi_lun_decode(0x0105000000000000ull) == UINT64_MAX);
	assert_true(iscsi_lun_decode(0x0005000100000000ull) == UINT64_MAX);
	assert_true(iscsi_lun_decode(0x8005000000000000ull) == UINT64_MAX);
	assert_int_equal(iscsi_pad4(0), 0);
	assert_int_equal(iscsi_pad4(1), 4);
	assert_int_equal(iscsi_pad4(4), 4);
	assert_int_equal(iscsi_pad4(13), 16);
}

static void test_sn_windows(void **state)
{
	(void)state;
	assert_true(sn_lt(1, 2));
	assert_false(sn_lt(2, 2));
	assert_true(sn_le(2, 2));
	/* RFC 1982: wrap-around */
	assert_true(sn_lt(0xfffffff0u, 5));
	assert_false(sn_lt(5, 0xfffffff0u));
	/* window [10, 137]: 128 commands */
	assert_true(sn_in_window(10, 10, 137));
	assert_true(sn_in_window(137, 10, 137));
	assert_false(sn_in_window(138, 10, 137)); /* MaxCmdSN + 1: too high */
	assert_false(sn_in_window(9, 10, 137));	  /* ExpCmdSN - 1: too low */
	/* window across the wrap */
	assert_true(sn_in_window(2, 0xfffffffeu, 100));
	assert_true(sn_in_window(0xffffffffu, 0xfffffffeu, 100));
	assert_false(sn_in_window(101, 0xfffffffeu, 100));
	/* closed window: MaxCmdSN = ExpCmdSN - 1 */
	assert_false(sn_in_window(10, 10, 9));
	assert_false(sn_in_window(9, 10, 9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_be_helpers),	 cmocka_unit_test(test_bhs_fields),
	    cmocka_unit_test(test_login_fields), cmocka_unit_test(test_bhs_check),
	    cmocka_unit_test(test_ahs),		 cmocka_unit_test(test_crc32c_vectors),
	    cmocka_unit_test(test_lun),		 cmocka_unit_test(test_sn_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

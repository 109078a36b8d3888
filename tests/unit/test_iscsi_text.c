/*
 * test_iscsi_text: text keys (array-sim/iscsi/text.[ch]): the parser, and
 * every operational key's default, range and reply (RFC 7143 13).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../array-sim/iscsi/text.h"

/* Negotiate one key=value and return the reply value ("" if none). */
static const char *nego1(struct iscsi_nego *n, const char *key, const char *val)
{
	static char out[512];
	struct iscsi_textbuf tb;
	size_t kl = strlen(key);

	iscsi_textbuf_init(&tb, out, sizeof(out));
	if (!iscsi_nego_key(n, key, val, &tb))
		return NULL;
	if (!tb.len)
		return "";
	/* the reply is "key=value\0" */
	assert_memory_equal(out, key, kl);
	assert_int_equal(out[kl], '=');
	return out + kl + 1;
}

static void fresh(struct iscsi_nego *n, int discovery)
{
	struct iscsi_params offer;

	iscsi_params_target_offer(&offer);
	iscsi_nego_init(n, &offer, discovery);
}

static void test_defaults(void **state)
{
	struct iscsi_params p;

	(void)state;
	/* RFC 7143 13.x defaults */
	iscsi_params_default(&p);
	assert_int_equal(p.max_recv_dsl, 8192);
	assert_int_equal(p.max_xmit_dsl, 8192);
	assert_int_equal(p.max_burst, 262144);
	assert_int_equal(p.first_burst, 65536);
	assert_int_equal(p.max_r2t, 1);
	assert_int_equal(p.max_conns, 1);
	assert_int_equal(p.t2w, 2);
	assert_int_equal(p.t2r, 20);
	assert_int_equal(p.erl, 0);
	assert_int_equal(p.initial_r2t, 1);
	assert_int_equal(p.immediate_data, 1);
	assert_int_equal(p.pdu_inorder, 1);
	assert_int_equal(p.seq_inorder, 1);
	assert_int_equal(p.header_digest, ISCSI_DIGEST_NONE);
	assert_int_equal(p.data_digest, ISCSI_DIGEST_NONE);
}

static void test_split(void **state)
{
	char buf[256];
	struct iscsi_kv kv[8];
	static const char good[] = "InitiatorName=iqn.x\0SessionType=Normal\0\0Empty=\0";

	(void)state;
	memcpy(buf, good, sizeof(good));
	assert_int_equal(iscsi_text_split(buf, sizeof(good) - 1, kv, 8), 3);
	assert_string_equal(kv[0].key, "InitiatorName");
	assert_string_equal(kv[0].val, "iqn.x");
	assert_string_equal(kv[1].val, "Normal");
	assert_string_equal(kv[2].key, "Empty");
	assert_string_equal(kv[2].val, "");
	/* last pair without its NUL (buf[len] is the caller's NUL) */
	strcpy(buf, "A=1");
	assert_int_equal(iscsi_text_split(buf, 3, kv, 8), 1);
	assert_string_equal(kv[0].val, "1");
	/* no '=', empty key, bad key character, key too long, too many */
	strcpy(buf, "NoEquals");
	assert_int_equal(iscsi_text_split(buf, strlen(buf), kv, 8), -1);
	strcpy(buf, "=v");
	assert_int_equal(iscsi_text_split(buf, strlen(buf), kv, 8), -1);
	strcpy(buf, "Bad Key=v");
	assert_int_equal(iscsi_text_split(buf, strlen(buf), kv, 8), -1);
	memset(buf, 'K', 64);
	strcpy(buf + 64, "=v");
	assert_int_equal(iscsi_text_split(buf, strlen(buf), kv, 8), -1);
	memset(buf, 'K', 63);
	strcpy(buf + 63, "=v");
	assert_int_equal(iscsi_text_split(buf, strlen(buf), kv, 8), 1);
	memcpy(buf, "A=1\0B=2\0C=3", 12);
	assert_int_equal(iscsi_text_split(buf, 11, kv, 2), -1);
}

static void test_numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(iscsi_text_number("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(iscsi_text_number("262144", &v), 0);
	assert_true(v == 262144);
	assert_int_equal(iscsi_text_number("0x40000", &v), 0);
	assert_true(v == 262144);
	assert_int_equal(iscsi_text_number("", &v), -1);
	assert_int_equal(iscsi_text_number("0x", &v), -1);
	assert_int_equal(iscsi_text_number("-1", &v), -1);
	assert_int_equal(iscsi_text_number("12a", &v), -1);
	assert_int_equal(iscsi_text_number("99999999999999999999999", &v), -1);
	assert_int_equal(iscsi_text_bool("Yes"), 1);
	assert_int_equal(iscsi_text_bool("No"), 0);
	assert_int_equal(iscsi_text_bool("yes"), -1);
}

static void test_numeric_keys(void **state)
{
	struct iscsi_nego n;

	(void)state;
	fresh(&n, 0);
	/* MaxBurstLength: min, 512..2^24-1 */
	assert_string_equal(nego1(&n, "MaxBurstLength", "262144"), "262144");
	assert_int_equal(n.p.max_burst, 262144);
	assert_string_equal(nego1(&n, "MaxBurstLength", "16777215"), "16777215");
	assert_int_equal(n.p.max_burst, 16777215);
	assert_string_equal(nego1(&n, "MaxBurstLength", "511"), "Reject");
	assert_string_equal(nego1(&n, "MaxBurstLength", "16777216"), "Reject");
	assert_string_equal(nego1(&n, "MaxBurstLength", "lots"), "Reject");
	/* FirstBurstLength: min */
	assert_string_equal(nego1(&n, "FirstBurstLength", "65536"), "65536");
	assert_string_equal(nego1(&n, "FirstBurstLength", "512"), "512");
	assert_string_equal(nego1(&n, "FirstBurstLength", "100"), "Reject");
	/* MaxOutstandingR2T: min with our 16, 1..65535 */
	assert_string_equal(nego1(&n, "MaxOutstandingR2T", "1"), "1");
	assert_string_equal(nego1(&n, "MaxOutstandingR2T", "64"), "16");
	assert_int_equal(n.p.max_r2t, 16);
	assert_string_equal(nego1(&n, "MaxOutstandingR2T", "0"), "Reject");
	/* MaxConnections: min with our 1 */
	assert_string_equal(nego1(&n, "MaxConnections", "8"), "1");
	assert_string_equal(nego1(&n, "MaxConnections", "0"), "Reject");
	assert_string_equal(nego1(&n, "MaxConnections", "65536"), "Reject");
	/* ErrorRecoveryLevel: min with our 0 (Windows offers 2) */
	assert_string_equal(nego1(&n, "ErrorRecoveryLevel", "2"), "0");
	assert_string_equal(nego1(&n, "ErrorRecoveryLevel", "3"), "Reject");
	/* DefaultTime2Wait: max; DefaultTime2Retain: min; 0..3600 */
	assert_string_equal(nego1(&n, "DefaultTime2Wait", "0"), "2");
	assert_string_equal(nego1(&n, "DefaultTime2Wait", "10"), "10");
	assert_string_equal(nego1(&n, "DefaultTime2Wait", "3601"), "Reject");
	assert_string_equal(nego1(&n, "DefaultTime2Retain", "0"), "0");
	assert_string_equal(nego1(&n, "DefaultTime2Retain", "60"), "20");
	assert_string_equal(nego1(&n, "DefaultTime2Retain", "3601"), "Reject");
	/* iSCSIProtocolLevel (RFC 7144): min with 1 */
	assert_string_equal(nego1(&n, "iSCSIProtocolLevel", "2"), "1");
	assert_string_equal(nego1(&n, "iSCSIProtocolLevel", "0"), "0");
}

static void test_declarative(void **state)
{
	struct iscsi_nego n;
	char out[128];
	struct iscsi_textbuf tb;

	(void)state;
	fresh(&n, 0);
	/* MaxRecvDataSegmentLength: no reply, becomes our send limit */
	assert_string_equal(nego1(&n, "MaxRecvDataSegmentLength", "65536"), "");
	assert_int_equal(n.p.max_xmit_dsl, 65536);
	assert_int_equal(n.p.max_recv_dsl, 262144);
	assert_string_equal(nego1(&n, "MaxRecvDataSegmentLength", "511"), "Reject");
	assert_int_equal(n.p.max_xmit_dsl, 65536);
	/* finish declares ours once, and clamps FirstBurst to MaxBurst */
	nego1(&n, "MaxBurstLength", "4096");
	nego1(&n, "FirstBurstLength", "65536");
	iscsi_textbuf_init(&tb, out, sizeof(out));
	iscsi_nego_finish(&n, &tb);
	assert_string_equal(out, "MaxRecvDataSegmentLength=262144");
	assert_int_equal(n.p.first_burst, 4096);
	iscsi_textbuf_init(&tb, out, sizeof(out));
	iscsi_nego_finish(&n, &tb);
	assert_int_equal(tb.len, 0);
}

static void test_boolean_keys(void **state)
{
	struct iscsi_nego n;

	(void)state;
	fresh(&n, 0);
	/* InitialR2T: OR (ours No); ImmediateData: AND (ours Yes) */
	assert_string_equal(nego1(&n, "InitialR2T", "No"), "No");
	assert_int_equal(n.p.initial_r2t, 0);
	assert_string_equal(nego1(&n, "InitialR2T", "Yes"), "Yes");
	assert_string_equal(nego1(&n, "ImmediateData", "Yes"), "Yes");
	assert_string_equal(nego1(&n, "ImmediateData", "No"), "No");
	assert_int_equal(n.p.immediate_data, 0);
	assert_string_equal(nego1(&n, "ImmediateData", "Maybe"), "Reject");
	/* in-order data only: OR with our Yes */
	assert_string_equal(nego1(&n, "DataPDUInOrder", "No"), "Yes");
	assert_string_equal(nego1(&n, "DataSequenceInOrder", "No"), "Yes");
	assert_string_equal(nego1(&n, "DataSequenceInOrder", "Yes"), "Yes");
	/* obsolete markers: No; intervals: Reject */
	assert_string_equal(nego1(&n, "IFMarker", "Yes"), "No");
	assert_string_equal(nego1(&n, "OFMarker", "No"), "No");
	assert_string_equal(nego1(&n, "OFMarkInt", "1~65535"), "Reject");
	assert_string_equal(nego1(&n, "IFMarkInt", "1~65535"), "Reject");
	assert_string_equal(nego1(&n, "TaskReporting", "RFC3720,FastAbort"), "RFC3720");
}

static void test_digests(void **state)
{
	struct iscsi_nego n;

	(void)state;
	fresh(&n, 0);
	/* first of the initiator's list that we support */
	assert_string_equal(nego1(&n, "HeaderDigest", "CRC32C,None"), "CRC32C");
	assert_int_equal(n.p.header_digest, ISCSI_DIGEST_CRC32C);
	assert_string_equal(nego1(&n, "HeaderDigest", "None,CRC32C"), "None");
	assert_int_equal(n.p.header_digest, ISCSI_DIGEST_NONE);
	assert_string_equal(nego1(&n, "DataDigest", "MD5,CRC32C"), "CRC32C");
	assert_string_equal(nego1(&n, "DataDigest", "MD5"), "Reject");
	assert_string_equal(nego1(&n, "DataDigest", "crc32c"), "Reject");
}

static void test_discovery_and_ffp(void **state)
{
	struct iscsi_nego n;

	(void)state;
	fresh(&n, 1);
	/* 13: session-wide data keys are Irrelevant in a Discovery session */
	assert_string_equal(nego1(&n, "MaxBurstLength", "4096"), "Irrelevant");
	assert_string_equal(nego1(&n, "FirstBurstLength", "4096"), "Irrelevant");
	assert_string_equal(nego1(&n, "InitialR2T", "No"), "Irrelevant");
	assert_string_equal(nego1(&n, "ImmediateData", "Yes"), "Irrelevant");
	assert_string_equal(nego1(&n, "MaxOutstandingR2T", "1"), "Irrelevant");
	assert_string_equal(nego1(&n, "MaxConnections", "1"), "Irrelevant");
	assert_string_equal(nego1(&n, "DataPDUInOrder", "Yes"), "Irrelevant");
	assert_string_equal(nego1(&n, "DataSequenceInOrder", "Yes"), "Irrelevant");
	assert_string_equal(nego1(&n, "HeaderDigest", "None"), "None");
	assert_string_equal(nego1(&n, "ErrorRecoveryLevel", "0"), "0");
	/* full feature phase Text: login-only keys refused, MRDSL fine */
	fresh(&n, 0);
	n.ffp = 1;
	assert_string_equal(nego1(&n, "MaxBurstLength", "4096"), "Reject");
	assert_string_equal(nego1(&n, "HeaderDigest", "None"), "Reject");
	assert_string_equal(nego1(&n, "MaxRecvDataSegmentLength", "16384"), "262144");
	assert_int_equal(n.p.max_xmit_dsl, 16384);
	/* not an operational key */
	assert_null(nego1(&n, "X-com.example.Foo", "1"));
	assert_null(nego1(&n, "AuthMethod", "None"));
}

static void test_textbuf(void **state)
{
	char out[16];
	struct iscsi_textbuf tb;

	(void)state;
	iscsi_textbuf_init(&tb, out, sizeof(out));
	iscsi_text_add(&tb, "A", "1");
	iscsi_text_add_num(&tb, "B", 22);
	assert_int_equal(tb.len, 9);
	assert_memory_equal(out, "A=1\0B=22\0", 9);
	iscsi_text_add(&tb, "Long", "0123456789");
	assert_true(tb.overflow);
	assert_int_equal(tb.len, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	cmocka_unit_test(test_split),
	    cmocka_unit_test(test_numbers),	cmocka_unit_test(test_numeric_keys),
	    cmocka_unit_test(test_declarative), cmocka_unit_test(test_boolean_keys),
	    cmocka_unit_test(test_digests),	cmocka_unit_test(test_discovery_and_ffp),
	    cmocka_unit_test(test_textbuf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

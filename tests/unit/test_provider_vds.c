/*
 * test_provider_vds: the provider core's VDS_LUN_INFORMATION mirror
 * (vds_lun.c) built from INQUIRY / VPD 0x80 / VPD 0x83 pages shaped like
 * the array's target sends them, malformed pages, LUN comparison, and
 * the AreLunsSupported decision (lunmatch.c) with a fake array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lunmatch.h"
#include "vds_lun.h"
#include "vss_err.h"

static const uint8_t naa_a[16] = {0x60, 0x01, 0x40, 0x5a, 0x52, 0x53, 0x49, 0x4d,
				  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t naa_b[16] = {0x60, 0x01, 0x40, 0x5a, 0x52, 0x53, 0x49, 0x4d,
				  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02};

struct pages {
	uint8_t inq[36];
	uint8_t p80[4 + 32];
	size_t p80_len;
	uint8_t p83[256];
	size_t p83_len;
};

/* append one designation descriptor to a VPD 0x83 page under construction */
static void add_desig(struct pages *p, uint8_t code_set, uint8_t assoc, uint8_t type,
		      const void *val, uint8_t len)
{
	uint8_t *d = p->p83 + p->p83_len;

	d[0] = code_set;
	d[1] = (uint8_t)((assoc << 4) | type);
	d[2] = 0;
	d[3] = len;
	memcpy(d + 4, val, len);
	p->p83_len += 4u + len;
	p->p83[2] = (uint8_t)((p->p83_len - 4) >> 8);
	p->p83[3] = (uint8_t)(p->p83_len - 4);
}

/* what the array's SPC emulation sends for one LUN */
static void array_pages(struct pages *p, const uint8_t naa[16], const char *serial)
{
	size_t n = strlen(serial);

	memset(p, 0, sizeof(*p));
	p->inq[0] = 0x00; /* direct access block device */
	p->inq[2] = 0x06; /* SPC-4 */
	p->inq[3] = 0x02;
	p->inq[4] = 31;
	p->inq[7] = 0x02; /* CMDQUE */
	memcpy(p->inq + 8, "ARRAYSIM", 8);
	memcpy(p->inq + 16, "VIRTUAL-ARRAY   ", 16);
	memcpy(p->inq + 32, "0001", 4);

	p->p80[1] = 0x80;
	p->p80[3] = (uint8_t)n;
	memcpy(p->p80 + 4, serial, n);
	p->p80_len = 4 + n;

	p->p83[1] = 0x83;
	p->p83_len = 4;
	add_desig(p, 1, 0, 3, naa, 16);
	add_desig(p, 2, 0, 1, "ARRAYSIM lun0001", 16);
	add_desig(p, 1, 1, 4, "\x00\x00\x00\x01", 4); /* relative port: association 1 */
	add_desig(p, 3, 2, 8, "iqn.2026-01.org.arraysim:t0\0", 28); /* target name: assoc 2 */
}

static int build(struct vds_lun_info *l, const struct pages *p)
{
	return vds_lun_build(l, p->inq, sizeof(p->inq), p->p80, p->p80_len, p->p83, p->p83_len);
}

static void test_build_array_lun(void **state)
{
	struct pages p;
	struct vds_lun_info l;
	uint8_t naa[16];

	(void)state;
	array_pages(&p, naa_a, "AS0000000001");
	assert_int_equal(build(&l, &p), VDS_OK);
	assert_int_equal(l.version, VDS_LUN_VERSION);
	assert_int_equal(l.device_type, 0);
	assert_int_equal(l.cmd_queueing, 1);
	assert_int_equal(l.bus_type, VDS_BUS_SCSI);
	assert_string_equal(l.vendor, "ARRAYSIM");
	assert_string_equal(l.product, "VIRTUAL-ARRAY   ");
	assert_string_equal(l.revision, "0001");
	assert_string_equal(l.serial, "AS0000000001");
	for (int i = 0; i < 16; i++)
		assert_int_equal(l.disk_signature[i], 0);
	/* only the association-0 designators: NAA and T10 vendor id */
	assert_int_equal(l.n_ids, 2);
	assert_int_equal(l.ids[0].type, VDS_ID_NAA);
	assert_int_equal(l.ids[0].code_set, VDS_CS_BINARY);
	assert_int_equal(l.ids[1].type, VDS_ID_VENDOR_ID);
	assert_int_equal(l.ids[1].code_set, VDS_CS_ASCII);
	assert_memory_equal(l.ids[1].bytes, "ARRAYSIM lun0001", 16);
	assert_true(vds_lun_naa16(&l, naa));
	assert_memory_equal(naa, naa_a, 16);
}

static void test_build_optional_pages(void **state)
{
	struct pages p;
	struct vds_lun_info l;
	uint8_t naa[16];

	(void)state;
	array_pages(&p, naa_a, "S");
	assert_int_equal(vds_lun_build(&l, p.inq, sizeof(p.inq), NULL, 0, NULL, 0), VDS_OK);
	assert_string_equal(l.serial, "");
	assert_int_equal(l.n_ids, 0);
	assert_false(vds_lun_naa16(&l, naa));
}

static void test_build_bad_inquiry(void **state)
{
	struct pages p;
	struct vds_lun_info l;

	(void)state;
	array_pages(&p, naa_a, "S");
	assert_int_equal(vds_lun_build(&l, NULL, 0, NULL, 0, NULL, 0), VDS_EINVAL);
	assert_int_equal(vds_lun_build(NULL, p.inq, 36, NULL, 0, NULL, 0), VDS_EINVAL);
	assert_int_equal(vds_lun_build(&l, p.inq, 35, NULL, 0, NULL, 0), VDS_ETRUNC);
}

static void test_build_bad_vpd80(void **state)
{
	struct pages p;
	struct vds_lun_info l;

	(void)state;
	array_pages(&p, naa_a, "AS0000000001");
	/* PAGE LENGTH says more than the buffer holds */
	assert_int_equal(vds_lun_build(&l, p.inq, 36, p.p80, p.p80_len - 1, NULL, 0), VDS_ETRUNC);
	assert_int_equal(vds_lun_build(&l, p.inq, 36, p.p80, 3, NULL, 0), VDS_ETRUNC);
	p.p80[1] = 0x83;
	assert_int_equal(vds_lun_build(&l, p.inq, 36, p.p80, p.p80_len, NULL, 0), VDS_EPAGE);
}

static void test_build_bad_vpd83(void **state)
{
	struct pages p;
	struct vds_lun_info l;

	(void)state;
	array_pages(&p, naa_a, "S");
	assert_int_equal(vds_lun_build(&l, p.inq, 36, NULL, 0, p.p83, p.p83_len - 1), VDS_ETRUNC);
	assert_int_equal(vds_lun_build(&l, p.inq, 36, NULL, 0, p.p83, 2), VDS_ETRUNC);

	/* first designator claims 200 bytes inside a consistent page */
	p.p83[4 + 3] = 200;
	assert_int_equal(vds_lun_build(&l, p.inq, 36, NULL, 0, p.p83, p.p83_len), VDS_EMALFORMED);

	/* a page whose body ends inside a descriptor header */
	array_pages(&p, naa_a, "S");
	p.p83_len = 4 + 20 + 2;
	p.p83[3] = 22;
	assert_int_equal(vds_lun_build(&l, p.inq, 36, NULL, 0, p.p83, p.p83_len), VDS_EMALFORMED);

	array_pages(&p, naa_a, "S");
	p.p83[1] = 0x80;
	assert_int_equal(vds_lun_build(&l, p.inq, 36, NULL, 0, p.p83, p.p83_len), VDS_EPAGE);
	assert_string_equal(vds_strerror(VDS_EMALFORMED), "designator runs past the page");
}

static void test_build_too_many(void **state)
{
	struct pages p;
	struct vds_lun_info l;

	(void)state;
	memset(&p, 0, sizeof(p));
	array_pages(&p, naa_a, "S");
	p.p83_len = 4;
	for (int i = 0; i <= VDS_LUN_MAX_IDS; i++)
		add_desig(&p, 1, 0, 0, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10);
	assert_int_equal(vds_lun_build(&l, p.inq, 36, NULL, 0, p.p83, p.p83_len), VDS_ETOOMANY);
}

static void test_same(void **state)
{
	struct pages p;
	struct vds_lun_info a, a2, b, s1, s2;

	(void)state;
	array_pages(&p, naa_a, "AS1");
	assert_int_equal(build(&a, &p), VDS_OK);
	array_pages(&p, naa_a, "OTHER-SERIAL");
	assert_int_equal(build(&a2, &p), VDS_OK);
	array_pages(&p, naa_b, "AS1");
	assert_int_equal(build(&b, &p), VDS_OK);

	assert_true(vds_lun_same(&a, &a));
	assert_true(vds_lun_same(&a, &a2)); /* designator wins over serial */
	assert_false(vds_lun_same(&a, &b)); /* same serial, different NAA */
	a2.bus_type = VDS_BUS_ISCSI;	    /* ignored, as VSS ignores it */
	a2.disk_signature[0] = 0x55;
	assert_true(vds_lun_same(&a, &a2));

	/* no designators: vendor + product + serial, trailing spaces ignored */
	array_pages(&p, naa_a, "AS1   ");
	assert_int_equal(vds_lun_build(&s1, p.inq, 36, p.p80, p.p80_len, NULL, 0), VDS_OK);
	array_pages(&p, naa_a, "AS1");
	assert_int_equal(vds_lun_build(&s2, p.inq, 36, p.p80, p.p80_len, NULL, 0), VDS_OK);
	assert_true(vds_lun_same(&s1, &s2));
	assert_true(vds_lun_same(&s1, &a)); /* one side without designators */
	s2.serial[0] = '\0';
	assert_false(vds_lun_same(&s1, &s2));
	array_pages(&p, naa_a, "AS2");
	assert_int_equal(vds_lun_build(&s2, p.inq, 36, p.p80, p.p80_len, NULL, 0), VDS_OK);
	assert_false(vds_lun_same(&s1, &s2));
}

/* fake array: knows naa_a with serial AS1 */
struct fake {
	int calls;
	int fail;
	const char *serial;
};

static int confirm(void *ctx, const uint8_t naa[16], char serial[33])
{
	struct fake *f = ctx;

	f->calls++;
	if (f->fail || memcmp(naa, naa_a, 16))
		return 2; /* PROTO_ENOENT-like */
	strcpy(serial, f->serial);
	return 0;
}

static void test_match(void **state)
{
	struct pages p;
	struct vds_lun_info l[2];
	struct fake f = {.serial = "AS1"};
	bool ok = true;

	(void)state;
	array_pages(&p, naa_a, "AS1");
	assert_int_equal(build(&l[0], &p), VDS_OK);
	assert_true(lunmatch_is_ours(&l[0], confirm, &f));
	assert_int_equal(f.calls, 1);

	f.serial = ""; /* array without a serial to compare: NAA decides */
	assert_true(lunmatch_is_ours(&l[0], confirm, &f));
	f.serial = "AS9"; /* serial disagrees: refuse */
	assert_false(lunmatch_is_ours(&l[0], confirm, &f));
	f.serial = "AS1";
	f.fail = 1; /* array unreachable: refuse, no error */
	assert_false(lunmatch_is_ours(&l[0], confirm, &f));
	f.fail = 0;

	/* wrong vendor / product never reach the array */
	f.calls = 0;
	memcpy(p.inq + 8, "OTHERVND", 8);
	assert_int_equal(build(&l[1], &p), VDS_OK);
	assert_false(lunmatch_is_ours(&l[1], confirm, &f));
	array_pages(&p, naa_a, "AS1");
	memcpy(p.inq + 16, "VIRTUAL-ARRAYX  ", 16);
	assert_int_equal(build(&l[1], &p), VDS_OK);
	assert_false(lunmatch_is_ours(&l[1], confirm, &f));
	assert_int_equal(f.calls, 0);

	/* no NAA designator */
	array_pages(&p, naa_a, "AS1");
	assert_int_equal(vds_lun_build(&l[1], p.inq, 36, p.p80, p.p80_len, NULL, 0), VDS_OK);
	assert_false(lunmatch_is_ours(&l[1], confirm, &f));

	/* all or nothing over a volume's LUNs */
	array_pages(&p, naa_b, "AS2");
	assert_int_equal(build(&l[1], &p), VDS_OK);
	assert_int_equal(lunmatch_are_supported(l, 1, confirm, &f, &ok), PROV_S_OK);
	assert_true(ok);
	assert_int_equal(lunmatch_are_supported(l, 2, confirm, &f, &ok), PROV_S_OK);
	assert_false(ok);
	assert_int_equal(lunmatch_are_supported(l, 0, confirm, &f, &ok), PROV_S_OK);
	assert_false(ok);
	assert_int_equal(lunmatch_are_supported(NULL, 1, confirm, &f, &ok), PROV_E_INVALIDARG);
	assert_int_equal(lunmatch_are_supported(l, 1, confirm, &f, NULL), PROV_E_INVALIDARG);
	assert_int_equal((uint32_t)PROV_E_INVALIDARG, 0x80070057u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_array_lun),
	    cmocka_unit_test(test_build_optional_pages),
	    cmocka_unit_test(test_build_bad_inquiry),
	    cmocka_unit_test(test_build_bad_vpd80),
	    cmocka_unit_test(test_build_bad_vpd83),
	    cmocka_unit_test(test_build_too_many),
	    cmocka_unit_test(test_same),
	    cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

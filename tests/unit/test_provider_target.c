/*
 * test_provider_target: the round trip GetTargetLuns depends on.  The
 * provider predicts, without reading the LUN, what a snapshot LUN will
 * report (vds_lun_target); VSS later compares that prediction with what
 * FillInLunInfo builds from the arrived disk's real INQUIRY / VPD pages.
 * Here both sides are real: the array-sim SCSI core answers INQUIRY,
 * VPD 0x80 and VPD 0x83 for a LUN and its snapshot, vds_lun_build parses
 * them, and the prediction must match byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../array-sim/scsi/scsi.h"
#include "array.h"
#include "bdev.h"
#include "pool.h"
#include "snapset.h"
#include "vds_lun.h"

#define IQN   "iqn.2024-01.org.arraysim:vss-host"
#define PORT  IQN ",i,0x400000000001"
#define TPORT "iqn.2024-01.org.arraysim:target,t,0x1"

struct env {
	struct bdev *dev;
	struct pool *pool;
	struct array *arr;
	struct scsi_ctx *scsi;
	struct scsi_nexus *n;
	struct lun_info origin, snap;
};

static int got_snap(const struct lun_info *l, void *ctx)
{
	*(struct lun_info *)ctx = *l;
	return 0;
}

static int setup(void **state)
{
	static struct env e;
	static const uint8_t set[16] = {0x7a, 0x12, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 9};
	const char *luns[] = {"db"};

	memset(&e, 0, sizeof(e));
	if (bdev_mem_create(64ull << 20, &e.dev) || pool_create(e.dev, NULL) ||
	    pool_open(e.dev, NULL, &e.pool) || array_open(e.pool, &e.arr))
		return -1;
	if (array_lun_create(e.arr, "db", 8ull << 20, 512, &e.origin) ||
	    array_snapset_prepare(e.arr, set, 1, luns, NULL) ||
	    array_snapset_commit(e.arr, set, got_snap, &e.snap) || !e.snap.snapshot)
		return -1;
	/* both visible to the host, as after LocateLuns: LUN 0 and LUN 1 */
	if (array_host_create(e.arr, "vss", IQN) || array_map(e.arr, "db", "vss", 0, NULL) ||
	    array_map(e.arr, e.snap.name, "vss", 1, NULL))
		return -1;
	if (scsi_create(e.arr, &e.scsi) || scsi_nexus_open(e.scsi, IQN, PORT, TPORT, 1, &e.n))
		return -1;
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	scsi_nexus_close(e->n);
	scsi_destroy(e->scsi);
	array_close(e->arr);
	pool_close(e->pool);
	bdev_destroy(e->dev);
	return 0;
}

/* INQUIRY (evpd, page) with a 1 KiB allocation length; returns bytes */
static uint32_t inquiry(struct env *e, uint64_t lun, int evpd, uint8_t page, uint8_t *buf)
{
	struct scsi_cmd c;

	memset(&c, 0, sizeof(c));
	c.cdb[0] = 0x12;
	c.cdb[1] = (uint8_t)evpd;
	c.cdb[2] = page;
	c.cdb[3] = 0x04; /* allocation length 1024 */
	c.cdb_len = 16;
	c.lun = lun;
	c.data_in = buf;
	c.exp_xfer_len = 1024;
	scsi_execute(e->n, &c);
	assert_int_equal(c.status, 0);
	assert_true(c.data_in_len > 4);
	return c.data_in_len;
}

/* what FillInLunInfo builds for the disk at lun */
static void as_host_sees(struct env *e, uint64_t lun, struct vds_lun_info *out)
{
	static uint8_t inq[1024], v80[1024], v83[1024];
	uint32_t ni = inquiry(e, lun, 0, 0, inq);
	uint32_t n80 = inquiry(e, lun, 1, 0x80, v80);
	uint32_t n83 = inquiry(e, lun, 1, 0x83, v83);

	assert_int_equal(vds_lun_build(out, inq, ni, v80, n80, v83, n83), VDS_OK);
}

static void test_snapshot_prediction_matches_scsi(void **state)
{
	struct env *e = *state;
	static struct vds_lun_info origin, actual, predicted;

	as_host_sees(e, 0, &origin);
	as_host_sees(e, 1, &actual);
	/* sanity: the pages were the LUNs we think they are */
	assert_string_equal(origin.serial, e->origin.serial);
	assert_string_equal(actual.serial, e->snap.serial);
	assert_string_not_equal(actual.serial, origin.serial);
	assert_int_equal(actual.n_ids, 2); /* association 0 only */
	assert_int_equal(actual.ids[0].type, VDS_ID_NAA);
	assert_int_equal(actual.ids[1].type, VDS_ID_VENDOR_ID);
	assert_string_equal(actual.vendor, "ARRAYSIM");
	assert_string_equal(actual.product, "VIRTUAL-ARRAY   ");
	assert_string_equal(actual.revision, "0001");

	/* the prediction from the origin and the SNAPSET_COMMIT data */
	vds_lun_target(&predicted, &origin, e->snap.naa, e->snap.serial);
	assert_string_equal(predicted.vendor, actual.vendor);
	assert_string_equal(predicted.product, actual.product);
	assert_string_equal(predicted.revision, actual.revision);
	assert_string_equal(predicted.serial, actual.serial);
	assert_int_equal(predicted.n_ids, actual.n_ids);
	for (uint32_t i = 0; i < actual.n_ids; i++) {
		assert_int_equal(predicted.ids[i].code_set, actual.ids[i].code_set);
		assert_int_equal(predicted.ids[i].type, actual.ids[i].type);
		assert_int_equal(predicted.ids[i].len, actual.ids[i].len);
		assert_memory_equal(predicted.ids[i].bytes, actual.ids[i].bytes, actual.ids[i].len);
	}
	/* and the whole struct, byte for byte (all unused bytes zero on both) */
	assert_memory_equal(&predicted, &actual, sizeof(actual));
	assert_true(vds_lun_same(&predicted, &actual));
	assert_false(vds_lun_same(&predicted, &origin));
}

/* the same through snapset: commit data in, GetTargetLuns out */
static void test_target_luns_match_scsi(void **state)
{
	struct env *e = *state;
	static struct vds_lun_info origin, actual, dst;
	static struct snapset s;

	as_host_sees(e, 0, &origin);
	as_host_sees(e, 1, &actual);
	memset(&s, 0, sizeof(s));
	s.state = SNAPSET_COMMITTED;
	s.n_luns = 1;
	s.luns[0] = origin;
	s.n_targets = 1;
	memcpy(s.targets[0].origin_naa, e->origin.naa, 16);
	memcpy(s.targets[0].naa, e->snap.naa, 16);
	memcpy(s.targets[0].serial, e->snap.serial, 33);
	assert_int_equal(snapset_target_luns(&s, &origin, 1, &dst), 0);
	assert_memory_equal(&dst, &actual, sizeof(actual));
}

/* the origin's identity is kept from what VSS passed, not re-invented */
static void test_target_keeps_origin_fields(void **state)
{
	struct env *e = *state;
	static struct vds_lun_info origin, out;

	as_host_sees(e, 0, &origin);
	origin.bus_type = VDS_BUS_ISCSI;
	origin.n_interconnects = 1;
	origin.interconnects[0].addr_type = 3;
	origin.interconnects[0].port_len = 2;
	memcpy(origin.interconnects[0].port, "p0", 2);
	memset(origin.disk_signature, 0xee, 16);
	origin.n_ids = 5; /* whatever the source had is replaced */
	vds_lun_target(&out, &origin, e->snap.naa, e->snap.serial);
	assert_int_equal(out.bus_type, VDS_BUS_ISCSI);
	assert_int_equal(out.n_interconnects, 1);
	assert_memory_equal(&out.interconnects, &origin.interconnects, sizeof(out.interconnects));
	for (int i = 0; i < 16; i++)
		assert_int_equal(out.disk_signature[i], 0);
	assert_int_equal(out.n_ids, 2);
	assert_int_equal(out.version, VDS_LUN_VERSION);
	assert_int_equal(out.id_version, VDS_ID_DESC_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_prediction_matches_scsi),
	    cmocka_unit_test(test_target_luns_match_scsi),
	    cmocka_unit_test(test_target_keeps_origin_fields),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

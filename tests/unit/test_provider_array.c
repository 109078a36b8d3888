/*
 * test_provider_array: array_ops.c (the real snapset_ops and the NAA
 * confirm callback) against the real control server and array object
 * model, in process: a pool on a memory bdev, ctl_server on 127.0.0.1
 * port 0, and the shared client.  Checks what the fakes in
 * test_provider_snapset cannot: the requests and fields are the ones the
 * server accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "array.h"
#include "array_ops.h"
#include "auth.h"
#include "bdev.h"
#include "client.h"
#include "lunmatch.h"
#include "pool.h"
#include "server.h"
#include "snapset.h"
#include "vds_lun.h"
#include "vss_err.h"

struct env {
	struct bdev *dev;
	struct pool *pool;
	struct array *arr;
	struct ctl_server *srv;
	struct client *c;
	struct array_ctx actx;
	struct lun_info li[2];
	struct vds_lun_info vl[2];
	struct snapset s;
};

/* what the host would build from the LUN's INQUIRY/VPD pages */
static void to_vds(const struct lun_info *li, struct vds_lun_info *v)
{
	memset(v, 0, sizeof(*v));
	v->version = VDS_LUN_VERSION;
	memcpy(v->vendor, "ARRAYSIM", 9);
	memcpy(v->product, "VIRTUAL-ARRAY   ", 17);
	strcpy(v->serial, li->serial);
	v->n_ids = 1;
	v->ids[0].code_set = VDS_CS_BINARY;
	v->ids[0].type = VDS_ID_NAA;
	v->ids[0].len = 16;
	memcpy(v->ids[0].bytes, li->naa, 16);
}

static int setup(void **state)
{
	static struct env e;
	struct ctl_server_cfg sc = {.addr = "127.0.0.1"};
	struct client_cfg cc = {.host = "127.0.0.1",
				.client_name = "test_provider_array",
				.io_timeout_ms = 5000,
				.max_attempts = 1};

	memset(&e, 0, sizeof(e));
	if (bdev_mem_create(256ull << 20, &e.dev) || pool_create(e.dev, NULL) ||
	    pool_open(e.dev, NULL, &e.pool) || array_open(e.pool, &e.arr))
		return -1;
	if (array_lun_create(e.arr, "vol0", 8ull << 20, 512, &e.li[0]) ||
	    array_lun_create(e.arr, "vol1", 8ull << 20, 512, &e.li[1]))
		return -1;
	if (auth_key_generate(sc.key))
		return -1;
	memcpy(cc.key, sc.key, sizeof(cc.key));
	sc.array = e.arr;
	if (ctl_server_start(&sc, &e.srv))
		return -1;
	cc.port = ctl_server_port(e.srv);
	if (client_open(&cc, &e.c))
		return -1;
	e.actx.c = e.c;
	to_vds(&e.li[0], &e.vl[0]);
	to_vds(&e.li[1], &e.vl[1]);
	snapset_init(&e.s, &array_snapset_ops, &e.actx);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	client_close(e->c);
	ctl_server_stop(e->srv);
	array_close(e->arr);
	pool_close(e->pool);
	bdev_destroy(e->dev);
	return 0;
}

static void test_confirm(void **state)
{
	struct env *e = *state;
	char serial[33];
	uint8_t naa[16];
	bool ok = false;

	assert_int_equal(array_confirm_naa(&e->actx, e->li[0].naa, serial), 0);
	assert_string_equal(serial, e->li[0].serial);
	memcpy(naa, e->li[0].naa, 16);
	naa[15] ^= 0xff;
	assert_int_not_equal(array_confirm_naa(&e->actx, naa, serial), 0);
	assert_int_equal(lunmatch_are_supported(e->vl, 2, array_confirm_naa, &e->actx, &ok),
			 PROV_S_OK);
	assert_true(ok);
}

static void test_snapset_on_array(void **state)
{
	struct env *e = *state;
	/*
	 * distinct first 8 bytes: the array names default snapshot LUNs
	 * "<lun>@<first 8 set-id bytes>", so ids sharing them would collide
	 */
	uint8_t set1[16] = {0x11, 0x22, 0x33, 0x44, 0, 0, 0x40, 1, 0x80, 0, 0, 0, 0, 0, 0, 1};
	uint8_t set2[16] = {0x11, 0x22, 0x33, 0x44, 0, 0, 0x40, 2, 0x80, 0, 0, 0, 0, 0, 0, 2};
	struct vds_lun_info bad = e->vl[0];

	assert_int_equal(snapset_begin_prepare(&e->s, set1, e->vl, 2), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&e->s, set1), PROV_S_OK);
	assert_int_equal(snapset_precommit(&e->s, set1), PROV_S_OK);
	assert_int_equal(snapset_commit(&e->s, set1), PROV_S_OK);
	assert_int_equal(snapset_postcommit(&e->s, set1, 2), PROV_S_OK);

	/* a second set, prepared then aborted on the array */
	assert_int_equal(snapset_begin_prepare(&e->s, set2, e->vl, 1), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&e->s, set2), PROV_S_OK);
	assert_int_equal(snapset_abort(&e->s, set2), PROV_S_OK);

	/* a LUN the array does not know: EndPrepare vetoes */
	bad.ids[0].bytes[15] ^= 0xff;
	assert_int_equal(snapset_begin_prepare(&e->s, set2, &bad, 1), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&e->s, set2), PROV_VSS_E_PROVIDER_VETO);
	assert_int_not_equal(e->actx.last_status, 0);

	/* the array refuses a commit of a set it never prepared: veto */
	assert_int_equal(array_snapset_ops.commit(&e->actx, set2) != 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_confirm),
	    cmocka_unit_test(test_snapset_on_array),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

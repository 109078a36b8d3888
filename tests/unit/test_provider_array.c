/*
 * test_provider_array: array_ops.c (the real snapset_ops and the NAA
 * confirm callback) against the real control server and array object
 * model, in process: a pool on a memory bdev, ctl_server on 127.0.0.1
 * port 0, and the shared client.  Checks what the fakes in
 * test_provider_snapset cannot: the requests and fields are the ones the
 * server accepts, and the replies parse.  Also the LocateLuns /
 * OnLunEmpty / ResyncLuns / OnLunStateChange calls (array_locate ...).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "array.h"
#include "array_ops.h"
#include "auth.h"
#include "bdev.h"
#include "client.h"
#include "lunmatch.h"
#include "pool.h"
#include "proto.h"
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
	{
		struct snapset_target t[2];
		size_t n = 5;

		assert_int_equal(array_snapset_ops.commit(&e->actx, set2, t, 2, &n) != 0, 1);
		assert_int_equal(n, 0);
	}
}

#define IQN "iqn.2024-01.org.arraysim:provider-test"

/* commit a set of vol0 and vol1 through snapset; *snap gets the targets
 * as the host would see them (vds_lun_target of each origin) */
static void make_snaps(struct env *e, uint8_t tag, struct vds_lun_info snap[2])
{
	uint8_t set[16] = {tag, 0x5e, 0x70, 0, 0, 0, 0x40, tag, 0x80, 0, 0, 0, 0, 0, 0, tag};

	assert_int_equal(snapset_begin_prepare(&e->s, set, e->vl, 2), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&e->s, set), PROV_S_OK);
	assert_int_equal(snapset_precommit(&e->s, set), PROV_S_OK);
	assert_int_equal(snapset_commit(&e->s, set), PROV_S_OK);
	assert_int_equal(snapset_postcommit(&e->s, set, 2), PROV_S_OK);
	assert_int_equal(snapset_target_luns(&e->s, e->vl, 2, snap), PROV_S_OK);
}

static void test_commit_targets(void **state)
{
	struct env *e = *state;
	static struct vds_lun_info snap[2];
	struct lun_info li;

	make_snaps(e, 0x21, snap);
	assert_int_equal(e->s.n_targets, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct snapset_target *t = &e->s.targets[i];
		/* the reply's order is the array's; match by origin */
		int k = !memcmp(t->origin_naa, e->li[0].naa, 16) ? 0 : 1;

		assert_memory_equal(t->origin_naa, e->li[k].naa, 16);
		assert_int_equal(array_lun_find(e->arr, t->name, &li), 0);
		assert_true(li.snapshot);
		assert_string_equal(li.parent_name, e->li[k].name);
		assert_memory_equal(t->naa, li.naa, 16);
		assert_string_equal(t->serial, li.serial);
		assert_memory_not_equal(t->naa, e->li[k].naa, 16);
	}
	/* GetTargetLuns order follows the sources */
	assert_int_equal(array_lun_find(e->arr, e->li[1].serial, &li), 0);
	for (int k = 0; k < 2; k++) {
		char key[40] = "naa.";

		for (int j = 0; j < 16; j++)
			snprintf(key + 4 + 2 * j, 3, "%02x", snap[k].ids[0].bytes[j]);
		assert_int_equal(array_lun_find(e->arr, key, &li), 0);
		assert_string_equal(li.parent_name, e->li[k].name);
		assert_string_equal(snap[k].serial, li.serial);
	}
}

struct map_count {
	const char *lun, *host; /* host NULL: any */
	int n;
};

static int count_fn(const struct map_info *m, void *ctx)
{
	struct map_count *mc = ctx;

	if (!strcmp(m->lun_name, mc->lun) && (!mc->host || !strcmp(m->host_name, mc->host)))
		mc->n++;
	return 0;
}

/* how many mappings the array has of lun (to host) */
static int mapped(struct env *e, const char *lun, const char *host)
{
	struct map_count mc = {lun, host, 0};

	return array_map_list(e->arr, count_fn, &mc) ? -1 : mc.n;
}

static void name_of(struct env *e, const struct vds_lun_info *v, char name[64])
{
	struct lun_info li;
	char key[40] = "naa.";

	for (int j = 0; j < 16; j++)
		snprintf(key + 4 + 2 * j, 3, "%02x", v->ids[0].bytes[j]);
	assert_int_equal(array_lun_find(e->arr, key, &li), 0);
	strcpy(name, li.name);
}

static void test_locate_mask_rw(void **state)
{
	struct env *e = *state;
	static struct vds_lun_info snap[2];
	char n0[64], n1[64];
	struct lun_info li;

	make_snaps(e, 0x22, snap);
	name_of(e, &snap[0], n0);
	name_of(e, &snap[1], n1);
	assert_int_equal(array_host_create(e->arr, "backup", "iqn.2024-01.org.arraysim:other"), 0);
	assert_int_equal(array_host_add_iqn(e->arr, "backup", IQN), 0);
	assert_int_equal(array_host_create(e->arr, "prod", "iqn.2024-01.org.arraysim:prod"), 0);
	/* no mapping exists yet: MAP_LIST of an empty table once qsorted a
	 * NULL array (UBSan, array.c); the next check is its regression */

	/* an IQN no host has: ENOENT, nothing mapped */
	assert_int_equal(array_locate(&e->actx, snap, 2, "iqn.2024-01.org.arraysim:nobody"),
			 PROTO_ENOENT);
	assert_int_equal(e->actx.last_status, PROTO_ENOENT);
	assert_int_equal(mapped(e, n0, NULL), 0);
	/* IQNs are case-insensitive */
	assert_int_equal(array_locate(&e->actx, snap, 2, "IQN.2024-01.org.ArraySim:Provider-Test"),
			 0);
	assert_int_equal(mapped(e, n0, "backup"), 1);
	assert_int_equal(mapped(e, n1, "backup"), 1);
	/* again (a repeated import): MAP says EEXIST, which is fine */
	assert_int_equal(array_locate(&e->actx, snap, 2, IQN), 0);
	assert_int_equal(mapped(e, n0, "backup"), 1);
	assert_int_equal(array_locate(&e->actx, snap, 0, IQN), 0);
	assert_int_equal(array_locate(&e->actx, snap, 1, NULL), PROTO_EINVAL);

	/* mask: unmapped from that host only, the LUN stays */
	assert_int_equal(array_map(e->arr, n0, "prod", -1, NULL), 0);
	assert_int_equal(array_mask(&e->actx, &snap[0], IQN), 0);
	assert_int_equal(mapped(e, n0, "backup"), 0);
	assert_int_equal(mapped(e, n0, "prod"), 1);
	assert_int_equal(array_lun_find(e->arr, n0, &li), 0);
	assert_int_equal(array_mask(&e->actx, &snap[0], IQN), 0); /* masked already */
	assert_int_equal(array_mask(&e->actx, &snap[0], "iqn.x:nobody"), PROTO_ENOENT);

	/* make read-write: snapshots start read-only on this array */
	assert_int_equal(array_lun_set_readonly(e->arr, n1, 1), 0);
	assert_int_equal(array_make_rw(&e->actx, &snap[1]), 0);
	assert_int_equal(array_lun_find(e->arr, n1, &li), 0);
	assert_false(li.readonly);
	assert_int_equal(array_make_rw(&e->actx, &snap[1]), 0);

	/* a LUN the array does not know */
	snap[1].ids[0].bytes[15] ^= 0xff;
	assert_int_equal(array_make_rw(&e->actx, &snap[1]), PROTO_ENOENT);
	assert_int_equal(array_locate(&e->actx, snap, 2, IQN), PROTO_ENOENT);
	snap[1].n_ids = 0;
	assert_int_equal(array_mask(&e->actx, &snap[1], IQN), PROTO_EINVAL);
}

static void test_lun_empty(void **state)
{
	struct env *e = *state;
	static struct vds_lun_info snap[2], clone;
	static uint8_t buf[1 << 16];
	struct pool_stat before, after;
	struct lun_info li, cl;
	char n0[64], n1[64];

	/* data, snapshot, overwrite: the snapshot alone owns the old chunk */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(vol_write(e->pool, e->li[0].id, 0, sizeof(buf), buf, 0), 0);
	make_snaps(e, 0x23, snap);
	name_of(e, &snap[0], n0);
	name_of(e, &snap[1], n1);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(vol_write(e->pool, e->li[0].id, 0, sizeof(buf), buf, 0), 0);
	assert_int_equal(array_host_create(e->arr, "h-empty", IQN "-empty"), 0);
	assert_int_equal(array_map(e->arr, n0, "h-empty", -1, NULL), 0);
	assert_int_equal(array_lun_find(e->arr, n0, &li), 0);
	assert_true(li.exclusive > 0);

	/* never an original LUN, whatever VSS passes */
	assert_int_equal(array_lun_empty(&e->actx, &e->vl[0]), PROTO_EINVAL);
	assert_int_equal(e->actx.last_status, PROTO_EINVAL);
	assert_int_equal(array_lun_find(e->arr, e->li[0].name, &li), 0);

	assert_int_equal(pool_stat(e->pool, &before), 0);
	assert_int_equal(array_lun_empty(&e->actx, &snap[0]), 0); /* mapped: unmapped first */
	assert_int_equal(array_lun_find(e->arr, n0, &li), -ENOENT);
	assert_int_equal(mapped(e, n0, NULL), 0);
	assert_int_equal(pool_stat(e->pool, &after), 0);
	assert_true(after.free_chunks > before.free_chunks);
	/* repeated OnLunEmpty: gone already, fine */
	assert_int_equal(array_lun_empty(&e->actx, &snap[0]), 0);

	/* a clone (a LUN made from a snapshot) may go too */
	assert_int_equal(array_clone(e->arr, n1, "clone-empty", &cl), 0);
	to_vds(&cl, &clone);
	assert_int_equal(array_map(e->arr, "clone-empty", "h-empty", -1, NULL), 0);
	assert_int_equal(array_lun_empty(&e->actx, &clone), 0);
	assert_int_equal(array_lun_find(e->arr, "clone-empty", &cl), -ENOENT);
	assert_int_equal(array_lun_empty(&e->actx, &snap[1]), 0);
	assert_int_equal(array_lun_find(e->arr, n1, &li), -ENOENT);
	assert_int_equal(array_lun_empty(&e->actx, &e->vl[1]), PROTO_EINVAL);
}

static void test_resync(void **state)
{
	struct env *e = *state;
	static struct vds_lun_info snap[2];
	static uint8_t a[4096], b[4096], got[4096];
	struct lun_info li;

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	assert_int_equal(vol_write(e->pool, e->li[1].id, 8192, sizeof(a), a, 0), 0);
	make_snaps(e, 0x24, snap);
	assert_int_equal(vol_write(e->pool, e->li[1].id, 8192, sizeof(b), b, 0), 0);
	assert_int_equal(array_lun_set_readonly(e->arr, e->li[1].name, 0), 0);

	/* the wrong way round, or snapshot onto snapshot: refused, no change */
	assert_int_equal(array_resync(&e->actx, &e->vl[1], &snap[1]), PROTO_EINVAL);
	assert_int_equal(array_resync(&e->actx, &snap[0], &snap[1]), PROTO_EINVAL);
	assert_int_equal(vol_read(e->pool, e->li[1].id, 8192, sizeof(got), got), 0);
	assert_memory_equal(got, b, sizeof(b));

	assert_int_equal(array_resync(&e->actx, &snap[1], &e->vl[1]), 0);
	assert_int_equal(vol_read(e->pool, e->li[1].id, 8192, sizeof(got), got), 0);
	assert_memory_equal(got, a, sizeof(a));
	/* the LUN keeps its identity (what the host's disk is) and the snapshot stays */
	assert_int_equal(array_lun_find(e->arr, e->li[1].name, &li), 0);
	assert_memory_equal(li.naa, e->li[1].naa, 16);
	assert_false(li.snapshot);
	assert_int_equal(array_confirm_naa(&e->actx, snap[1].ids[0].bytes, li.serial), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_confirm),	   cmocka_unit_test(test_snapset_on_array),
	    cmocka_unit_test(test_commit_targets), cmocka_unit_test(test_locate_mask_rw),
	    cmocka_unit_test(test_lun_empty),	   cmocka_unit_test(test_resync),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

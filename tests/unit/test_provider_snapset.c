/*
 * test_provider_snapset: the provider's snapshot-set state machine
 * (snapset.c) against fake array ops that record every call: the VSS
 * happy path, out-of-order and repeated calls, implicit abort by a new
 * set id, abort after commit, array failures turning into a veto,
 * CommitSnapshots making exactly one array call, and GetTargetLuns
 * (snapset_target_luns) built from what commit reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "snapset.h"
#include "vds_lun.h"
#include "vss_err.h"

struct fake {
	int prepare, commit, abort; /* calls */
	int fail_prepare, fail_commit, fail_abort;
	size_t last_n;
	uint8_t last_id[16];
	uint8_t naa[8][16]; /* the LUNs of the last prepare, by NAA */
	size_t n_naa;
	size_t commit_extra; /* report this many targets beyond what was asked */
	char log[64];	     /* call order: p, c, a */
};

static void rec(struct fake *f, char c, const uint8_t id[16])
{
	size_t n = strlen(f->log);

	if (n + 1 < sizeof(f->log))
		f->log[n] = c;
	memcpy(f->last_id, id, 16);
}

static int f_prepare(void *ctx, const uint8_t id[16], const struct vds_lun_info *luns, size_t n)
{
	struct fake *f = ctx;

	f->n_naa = 0;
	for (size_t i = 0; i < n && i < 8; i++)
		if (vds_lun_naa16(&luns[i], f->naa[i]))
			f->n_naa++;
	f->prepare++;
	f->last_n = n;
	rec(f, 'p', id);
	return f->fail_prepare;
}

/* snapshot i of the set: NAA 0x6a..., serial "5a5a...<i>" */
static void snap_of(struct snapset_target *t, const uint8_t origin[16], size_t i)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->origin_naa, origin, 16);
	memcpy(t->naa, origin, 16);
	t->naa[1] = 0xaa;
	t->naa[14] = (uint8_t)i;
	memset(t->serial, '5', 32);
	t->serial[31] = (char)('0' + i);
	strcpy(t->name, "snap");
}

static int f_commit(void *ctx, const uint8_t id[16], struct snapset_target *out, size_t max,
		    size_t *n_out)
{
	struct fake *f = ctx;
	size_t n = 0;

	f->commit++;
	rec(f, 'c', id);
	if (f->fail_commit)
		return f->fail_commit;
	for (; n < f->n_naa && n < max; n++)
		snap_of(&out[n], f->naa[n], n);
	*n_out = n + f->commit_extra;
	return 0;
}

static int f_abort(void *ctx, const uint8_t id[16])
{
	struct fake *f = ctx;

	f->abort++;
	rec(f, 'a', id);
	return f->fail_abort;
}

static const struct snapset_ops fops = {.prepare = f_prepare, .commit = f_commit, .abort = f_abort};

static const uint8_t set1[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const uint8_t set2[16] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

/* a LUN identified by one NAA designator ending in tag */
static void lun(struct vds_lun_info *l, uint8_t tag)
{
	memset(l, 0, sizeof(*l));
	l->version = VDS_LUN_VERSION;
	memcpy(l->vendor, "ARRAYSIM", 8);
	l->n_ids = 1;
	l->ids[0].code_set = VDS_CS_BINARY;
	l->ids[0].type = VDS_ID_NAA;
	l->ids[0].len = 16;
	l->ids[0].bytes[0] = 0x60;
	l->ids[0].bytes[15] = tag;
}

struct fx {
	struct fake f;
	struct snapset s;
	struct vds_lun_info l[3];
};

static int setup(void **state)
{
	static struct fx fx; /* struct snapset is large: keep it off the stack */

	memset(&fx, 0, sizeof(fx));
	snapset_init(&fx.s, &fops, &fx.f);
	lun(&fx.l[0], 1);
	lun(&fx.l[1], 2);
	lun(&fx.l[2], 1); /* same LUN as l[0], seen through a second volume */
	*state = &fx;
	return 0;
}

/* drive set1 to the given state along the VSS order */
static void drive(struct fx *x, enum snapset_state to)
{
	assert_int_equal(snapset_begin_prepare(&x->s, set1, x->l, 2), PROV_S_OK);
	if (to == SNAPSET_PREPARING)
		return;
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_S_OK);
	if (to == SNAPSET_PREPARED)
		return;
	assert_int_equal(snapset_precommit(&x->s, set1), PROV_S_OK);
	if (to == SNAPSET_PRECOMMITTED)
		return;
	assert_int_equal(snapset_commit(&x->s, set1), PROV_S_OK);
	if (to == SNAPSET_COMMITTED)
		return;
	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_S_OK);
}

static void test_happy_path(void **state)
{
	struct fx *x = *state;

	assert_int_equal(snapset_begin_prepare(&x->s, set1, x->l, 2), PROV_S_OK);
	/* the second volume brings the same LUN again: fine, kept once */
	assert_int_equal(snapset_begin_prepare(&x->s, set1, &x->l[2], 1), PROV_S_OK);
	assert_int_equal(x->s.n_luns, 2);
	assert_int_equal(x->s.state, SNAPSET_PREPARING);
	assert_string_equal(x->f.log, "");

	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_S_OK);
	assert_int_equal(x->s.state, SNAPSET_PREPARED);
	assert_int_equal(x->f.last_n, 2);
	assert_memory_equal(x->f.last_id, set1, 16);
	assert_int_equal(snapset_precommit(&x->s, set1), PROV_S_OK);
	assert_int_equal(x->s.state, SNAPSET_PRECOMMITTED);
	assert_string_equal(x->f.log, "p");

	assert_int_equal(snapset_commit(&x->s, set1), PROV_S_OK);
	assert_string_equal(x->f.log, "pc"); /* exactly one array call */
	assert_int_equal(x->s.state, SNAPSET_COMMITTED);

	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_S_OK);
	assert_int_equal(snapset_final_commit(&x->s, set1, 0), PROV_S_OK);
	assert_int_equal(x->s.state, SNAPSET_POSTCOMMITTED);
	assert_int_equal(snapset_final_commit(&x->s, set1, 1), PROV_S_OK);
	assert_int_equal(snapset_final_commit(&x->s, set1, 1), PROV_S_OK); /* repeated */
	assert_int_equal(x->s.state, SNAPSET_CREATED);
	/* an abort of a created set is ignored, as in the public providers */
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	assert_int_equal(x->s.state, SNAPSET_CREATED);
	assert_int_equal(snapset_release(&x->s, set1), PROV_S_OK);
	assert_int_equal(x->s.state, SNAPSET_DELETED);
	assert_string_equal(x->f.log, "pc");
	assert_string_equal(snapset_state_name(x->s.state), "deleted");
}

/* VSS aborts a set whose writers failed at thaw: after PostCommit but
 * before PostFinalCommit the snapshots must go (found by the Wine harness) */
static void test_abort_after_postcommit(void **state)
{
	struct fx *x = *state;

	assert_int_equal(snapset_begin_prepare(&x->s, set1, x->l, 2), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_precommit(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_S_OK);
	assert_int_equal(snapset_final_commit(&x->s, set1, 0), PROV_S_OK);
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	assert_string_equal(x->f.log, "pca");
	assert_int_equal(x->s.state, SNAPSET_ABORTED);
	assert_int_equal(snapset_final_commit(&x->s, set1, 1), PROV_VSS_E_BAD_STATE);
}

static void test_out_of_order(void **state)
{
	struct fx *x = *state;

	/* nothing begun: the set is unknown */
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_VSS_E_OBJECT_NOT_FOUND);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_VSS_E_OBJECT_NOT_FOUND);
	assert_int_equal(snapset_abort(&x->s, set1), PROV_VSS_E_OBJECT_NOT_FOUND);

	drive(x, SNAPSET_PREPARING);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_precommit(&x->s, set1), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_final_commit(&x->s, set1, 1), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_end_prepare(&x->s, set2), PROV_VSS_E_OBJECT_NOT_FOUND);
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_VSS_E_BAD_STATE);
	/* BeginPrepare of the same set after EndPrepare */
	assert_int_equal(snapset_begin_prepare(&x->s, set1, x->l, 1), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_VSS_E_BAD_STATE); /* no PreCommit */
	assert_int_equal(snapset_precommit(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_S_OK);
	/* double commit: refused without touching the array */
	assert_int_equal(snapset_commit(&x->s, set1), PROV_VSS_E_BAD_STATE);
	assert_int_equal(x->f.commit, 1);
	assert_string_equal(x->f.log, "pc");
	assert_int_equal(snapset_release(&x->s, set1), PROV_VSS_E_BAD_STATE);

	assert_int_equal(snapset_begin_prepare(&x->s, set2, NULL, 1), PROV_E_INVALIDARG);
	assert_int_equal(snapset_begin_prepare(&x->s, set2, x->l, 0), PROV_E_INVALIDARG);
	assert_int_equal(snapset_commit(&x->s, NULL), PROV_E_INVALIDARG);
	assert_int_equal(snapset_postcommit(&x->s, set1, -1), PROV_E_INVALIDARG);
	assert_int_equal((uint32_t)PROV_VSS_E_BAD_STATE, 0x80042301u);
	assert_int_equal((uint32_t)PROV_VSS_E_OBJECT_NOT_FOUND, 0x80042308u);
}

static void test_abort_after_commit(void **state)
{
	struct fx *x = *state;

	drive(x, SNAPSET_COMMITTED);
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	assert_string_equal(x->f.log, "pca");
	assert_memory_equal(x->f.last_id, set1, 16);
	assert_int_equal(x->s.state, SNAPSET_ABORTED);
	/* repeated abort, and anything else afterwards */
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_VSS_E_BAD_STATE);
	assert_string_equal(x->f.log, "pca");
	assert_int_equal(snapset_release(&x->s, set1), PROV_S_OK);
}

static void test_abort_preparing_no_array_call(void **state)
{
	struct fx *x = *state;

	drive(x, SNAPSET_PREPARING);
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	assert_int_equal(x->s.state, SNAPSET_ABORTED);
	assert_string_equal(x->f.log, "");
}

static void test_new_set_aborts_old(void **state)
{
	struct fx *x = *state;

	drive(x, SNAPSET_PRECOMMITTED);
	assert_int_equal(snapset_begin_prepare(&x->s, set2, &x->l[1], 1), PROV_S_OK);
	assert_string_equal(x->f.log, "pa");
	assert_memory_equal(x->f.last_id, set1, 16); /* the old set was aborted */
	assert_int_equal(x->s.state, SNAPSET_PREPARING);
	assert_int_equal(x->s.n_luns, 1);
	assert_memory_equal(x->s.id, set2, 16);
	/* the old id is gone */
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_VSS_E_OBJECT_NOT_FOUND);

	/* while still preparing the array holds nothing: no abort call */
	assert_int_equal(snapset_begin_prepare(&x->s, set1, x->l, 2), PROV_S_OK);
	assert_string_equal(x->f.log, "pa");

	/* a finished (postcommitted) set is not aborted by the next one */
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_precommit(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_S_OK);
	assert_int_equal(snapset_begin_prepare(&x->s, set2, x->l, 1), PROV_S_OK);
	assert_string_equal(x->f.log, "papc");

	/* a failing abort of the old set does not fail the new one */
	x->f.fail_abort = 11;
	assert_int_equal(snapset_end_prepare(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_begin_prepare(&x->s, set1, x->l, 1), PROV_S_OK);
	assert_string_equal(x->f.log, "papcpa");
	assert_int_equal(x->s.last_array_err, 11);
}

static void test_array_failures_veto(void **state)
{
	struct fx *x = *state;

	x->f.fail_prepare = 5;
	drive(x, SNAPSET_PREPARING);
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_VSS_E_PROVIDER_VETO);
	assert_int_equal(x->s.state, SNAPSET_ABORTED);
	assert_int_equal(x->s.last_array_err, 5);
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK); /* nothing reserved */
	assert_string_equal(x->f.log, "p");

	x->f.fail_prepare = 0;
	x->f.fail_commit = 12;
	assert_int_equal(snapset_begin_prepare(&x->s, set2, x->l, 2), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_precommit(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_commit(&x->s, set2), PROV_VSS_E_PROVIDER_VETO);
	assert_string_equal(x->f.log, "ppc"); /* one array call, even when it fails */
	assert_int_equal(x->s.last_array_err, 12);
	/* VSS then aborts: the array releases the set */
	assert_int_equal(snapset_abort(&x->s, set2), PROV_S_OK);
	assert_string_equal(x->f.log, "ppca");

	x->f.fail_commit = 0;
	x->f.fail_abort = 4;
	assert_int_equal(snapset_begin_prepare(&x->s, set1, x->l, 2), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_abort(&x->s, set1), PROV_VSS_E_PROVIDER_VETO);
	assert_int_equal(x->s.state, SNAPSET_ABORTED);
	assert_int_equal((uint32_t)PROV_VSS_E_PROVIDER_VETO, 0x80042306u);
}

static void test_too_many_luns(void **state)
{
	struct fx *x = *state;
	struct vds_lun_info l;

	for (int i = 0; i < SNAPSET_MAX_LUNS; i++) {
		lun(&l, (uint8_t)(i + 1));
		l.ids[0].bytes[14] = 0x80; /* distinct from the fixture's LUNs */
		assert_int_equal(snapset_begin_prepare(&x->s, set1, &l, 1), PROV_S_OK);
	}
	lun(&l, 0xff);
	assert_int_equal(snapset_begin_prepare(&x->s, set1, &l, 1),
			 PROV_VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED);
	/* a LUN already in the set is still fine */
	lun(&l, 1);
	l.ids[0].bytes[14] = 0x80;
	assert_int_equal(snapset_begin_prepare(&x->s, set1, &l, 1), PROV_S_OK);
}

/* a BeginPrepareSnapshot that fails adds none of its LUNs: VSS leaves
 * that volume out of the set, so its LUNs must not be snapshotted */
static void test_too_many_luns_adds_nothing(void **state)
{
	struct fx *x = *state;
	struct vds_lun_info l[4];

	for (int i = 0; i < SNAPSET_MAX_LUNS - 2; i++) {
		lun(&l[0], (uint8_t)(i + 1));
		l[0].ids[0].bytes[14] = 0x80;
		assert_int_equal(snapset_begin_prepare(&x->s, set1, &l[0], 1), PROV_S_OK);
	}
	for (int i = 0; i < 4; i++) {
		lun(&l[i], (uint8_t)(0xf0 + i));
		l[i].ids[0].bytes[14] = 0x80;
	}
	/* four new LUNs, room for two */
	assert_int_equal(snapset_begin_prepare(&x->s, set1, l, 4),
			 PROV_VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED);
	assert_int_equal(x->s.n_luns, SNAPSET_MAX_LUNS - 2);
	/* a new set that does not fit at all starts empty */
	{
		static struct vds_lun_info many[SNAPSET_MAX_LUNS + 1];

		for (int i = 0; i <= SNAPSET_MAX_LUNS; i++) {
			lun(&many[i], (uint8_t)(i + 1));
			many[i].ids[0].bytes[13] = 0x40;
		}
		assert_int_equal(snapset_begin_prepare(&x->s, set2, many, SNAPSET_MAX_LUNS + 1),
				 PROV_VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED);
		assert_int_equal(x->s.n_luns, 0);
	}
	/* the set still accepts a volume that fits */
	assert_int_equal(snapset_begin_prepare(&x->s, set2, &l[0], 1), PROV_S_OK);
	assert_int_equal(x->s.n_luns, 1);
}

static void test_postcommit_before_commit(void **state)
{
	struct fx *x = *state;

	drive(x, SNAPSET_PRECOMMITTED);
	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_final_commit(&x->s, set1, 1), PROV_VSS_E_BAD_STATE);
	assert_int_equal(x->s.state, SNAPSET_PRECOMMITTED);
	/* an abort naming another set: unknown, the current one is untouched */
	assert_int_equal(snapset_abort(&x->s, set2), PROV_VSS_E_OBJECT_NOT_FOUND);
	assert_int_equal(snapset_abort(&x->s, NULL), PROV_E_INVALIDARG);
	assert_int_equal(x->s.state, SNAPSET_PRECOMMITTED);
	assert_string_equal(x->f.log, "p");
	/* abort twice: the array hears of it once */
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	assert_string_equal(x->f.log, "pa");
	assert_int_equal(snapset_release(&x->s, set1), PROV_S_OK);
	/* released: the id is unknown from now on */
	assert_int_equal(snapset_abort(&x->s, set1), PROV_VSS_E_OBJECT_NOT_FOUND);
	assert_int_equal(snapset_release(&x->s, set1), PROV_VSS_E_OBJECT_NOT_FOUND);
}

/* dst[i] must be exactly what vds_lun_target() makes of src[i] and t */
static void expect_target(const struct vds_lun_info *dst, const struct vds_lun_info *src,
			  const struct snapset_target *t)
{
	struct vds_lun_info want;

	vds_lun_target(&want, src, t->naa, t->serial);
	assert_memory_equal(dst, &want, sizeof(want));
	assert_int_equal(dst->n_ids, 2);
	assert_memory_equal(dst->ids[0].bytes, t->naa, 16);
	assert_string_equal(dst->serial, t->serial);
}

static void test_target_luns(void **state)
{
	struct fx *x = *state;
	static struct vds_lun_info dst[3], src[2];
	struct snapset_target t0, t1;

	snap_of(&t0, x->l[0].ids[0].bytes, 0);
	snap_of(&t1, x->l[1].ids[0].bytes, 1);
	/* VSS passes the source LUNs in its own order, one of them twice */
	src[0] = x->l[1];
	src[1] = x->l[0];
	memcpy(src[1].product, "OTHER           ", 17); /* kept from the source */

	/* GetTargetLuns before commit: nothing to report yet */
	assert_int_equal(snapset_target_luns(&x->s, src, 2, dst), PROV_VSS_E_BAD_STATE);
	drive(x, SNAPSET_PRECOMMITTED);
	assert_int_equal(snapset_target_luns(&x->s, src, 2, dst), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_S_OK);
	assert_int_equal(x->s.n_targets, 2);
	assert_memory_equal(x->s.targets[0].origin_naa, x->l[0].ids[0].bytes, 16);

	assert_int_equal(snapset_target_luns(&x->s, src, 2, dst), PROV_S_OK);
	expect_target(&dst[0], &src[0], &t1);
	expect_target(&dst[1], &src[1], &t0);
	assert_string_equal(dst[1].product, "OTHER           ");
	assert_int_equal(snapset_postcommit(&x->s, set1, 2), PROV_S_OK);
	/* also valid after PostCommit (and before or after FinalCommit) */
	memset(dst, 0, sizeof(dst));
	assert_int_equal(snapset_target_luns(&x->s, &x->l[2], 1, dst), PROV_S_OK);
	expect_target(&dst[0], &x->l[2], &t0);
	assert_int_equal(snapset_final_commit(&x->s, set1, 1), PROV_S_OK);
	assert_int_equal(snapset_target_luns(&x->s, src, 2, dst), PROV_S_OK);

	/* a LUN not in the set: E_INVALIDARG, nothing written */
	lun(&src[1], 9);
	memset(dst, 0x5c, sizeof(dst));
	assert_int_equal(snapset_target_luns(&x->s, src, 2, dst), PROV_E_INVALIDARG);
	assert_int_equal(((uint8_t *)dst)[0], 0x5c);
	assert_int_equal(snapset_target_luns(&x->s, NULL, 1, dst), PROV_E_INVALIDARG);
	assert_int_equal(snapset_target_luns(&x->s, src, 0, NULL), PROV_S_OK);

	/* released, or replaced by a new set mid-way: the targets are gone */
	assert_int_equal(snapset_release(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_target_luns(&x->s, x->l, 2, dst), PROV_VSS_E_BAD_STATE);
	assert_int_equal(x->s.n_targets, 0);
}

static void test_target_luns_abort_and_new_set(void **state)
{
	struct fx *x = *state;
	static struct vds_lun_info dst[2];

	drive(x, SNAPSET_COMMITTED);
	assert_int_equal(x->s.n_targets, 2);
	/* a new set id after commit (VSS gave up on set1): set1 is aborted */
	assert_int_equal(snapset_begin_prepare(&x->s, set2, &x->l[1], 1), PROV_S_OK);
	assert_string_equal(x->f.log, "pca");
	assert_int_equal(x->s.n_targets, 0);
	assert_int_equal(snapset_target_luns(&x->s, &x->l[1], 1, dst), PROV_VSS_E_BAD_STATE);
	assert_int_equal(snapset_end_prepare(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_precommit(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_commit(&x->s, set2), PROV_S_OK);
	assert_int_equal(x->s.n_targets, 1);
	/* l[0] belonged to the old set only */
	assert_int_equal(snapset_target_luns(&x->s, &x->l[0], 1, dst), PROV_E_INVALIDARG);
	assert_int_equal(snapset_target_luns(&x->s, &x->l[1], 1, dst), PROV_S_OK);
	/* after an abort of the committed set: refused */
	assert_int_equal(snapset_abort(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_target_luns(&x->s, &x->l[1], 1, dst), PROV_VSS_E_BAD_STATE);
}

static void test_commit_targets_checked(void **state)
{
	struct fx *x = *state;
	static struct vds_lun_info dst[2];

	/* an ops that claims more targets than there is room for: veto */
	x->f.commit_extra = SNAPSET_MAX_LUNS;
	drive(x, SNAPSET_PRECOMMITTED);
	assert_int_equal(snapset_commit(&x->s, set1), PROV_VSS_E_PROVIDER_VETO);
	assert_int_equal(x->s.n_targets, 0);
	assert_int_equal(x->s.state, SNAPSET_PRECOMMITTED);

	/* the array snapshotted fewer LUNs than the set has: a veto, not a
	 * half-filled GetTargetLuns */
	x->f.commit_extra = 0;
	x->f.n_naa = 1;
	assert_int_equal(snapset_commit(&x->s, set1), PROV_S_OK);
	assert_int_equal(snapset_target_luns(&x->s, &x->l[0], 1, dst), PROV_S_OK);
	assert_int_equal(snapset_target_luns(&x->s, x->l, 2, dst), PROV_VSS_E_PROVIDER_VETO);

	/* a failed commit leaves no targets behind */
	assert_int_equal(snapset_abort(&x->s, set1), PROV_S_OK);
	x->f.fail_commit = 3;
	assert_int_equal(snapset_begin_prepare(&x->s, set2, x->l, 2), PROV_S_OK);
	assert_int_equal(snapset_end_prepare(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_precommit(&x->s, set2), PROV_S_OK);
	assert_int_equal(snapset_commit(&x->s, set2), PROV_VSS_E_PROVIDER_VETO);
	assert_int_equal(x->s.n_targets, 0);
	assert_int_equal(snapset_target_luns(&x->s, x->l, 2, dst), PROV_VSS_E_BAD_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_happy_path, setup),
	    cmocka_unit_test_setup(test_out_of_order, setup),
	    cmocka_unit_test_setup(test_abort_after_commit, setup),
	    cmocka_unit_test_setup(test_abort_after_postcommit, setup),
	    cmocka_unit_test_setup(test_abort_preparing_no_array_call, setup),
	    cmocka_unit_test_setup(test_new_set_aborts_old, setup),
	    cmocka_unit_test_setup(test_array_failures_veto, setup),
	    cmocka_unit_test_setup(test_too_many_luns, setup),
	    cmocka_unit_test_setup(test_too_many_luns_adds_nothing, setup),
	    cmocka_unit_test_setup(test_postcommit_before_commit, setup),
	    cmocka_unit_test_setup(test_target_luns, setup),
	    cmocka_unit_test_setup(test_target_luns_abort_and_new_set, setup),
	    cmocka_unit_test_setup(test_commit_targets_checked, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

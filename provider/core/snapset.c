/*
 * snapset: see snapset.h for the states.  Design rules, from the VSS
 * provider reference:
 *  - CommitSnapshots runs inside Flush-and-Hold (10 s hard limit): it
 *    makes exactly one array call and nothing else.
 *  - Unknown set id -> VSS_E_OBJECT_NOT_FOUND; right set, wrong state ->
 *    VSS_E_BAD_STATE; array failure -> VSS_E_PROVIDER_VETO.  No other
 *    failure codes, since VSS rewrites those to UNEXPECTED_PROVIDER_ERROR.
 *  - The array is told to abort only when it holds something for the
 *    set (prepared, precommitted or committed-but-not-postcommitted).
 */
#include "snapset.h"

#include <string.h>

#include "vss_err.h"

void snapset_init(struct snapset *s, const struct snapset_ops *ops, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->state = SNAPSET_IDLE;
	s->ops = ops;
	s->ctx = ctx;
}

const char *snapset_state_name(enum snapset_state st)
{
	static const char *const names[] = {
	    [SNAPSET_IDLE] = "idle",	       [SNAPSET_PREPARING] = "preparing",
	    [SNAPSET_PREPARED] = "prepared",   [SNAPSET_PRECOMMITTED] = "precommitted",
	    [SNAPSET_COMMITTED] = "committed", [SNAPSET_POSTCOMMITTED] = "postcommitted",
	    [SNAPSET_CREATED] = "created",     [SNAPSET_ABORTED] = "aborted",
	    [SNAPSET_DELETED] = "deleted",
	};

	if ((unsigned)st < sizeof(names) / sizeof(names[0]))
		return names[st];
	return "?";
}

static int array_holds_set(enum snapset_state st)
{
	return st == SNAPSET_PREPARED || st == SNAPSET_PRECOMMITTED || st == SNAPSET_COMMITTED;
}

/* the set the caller names must be the current one */
static int32_t check_set(const struct snapset *s, const uint8_t set_id[16])
{
	if (!set_id)
		return PROV_E_INVALIDARG;
	if (s->state == SNAPSET_IDLE || s->state == SNAPSET_DELETED || memcmp(s->id, set_id, 16))
		return PROV_VSS_E_OBJECT_NOT_FOUND;
	return PROV_S_OK;
}

/* drop the current set, telling the array if it reserved anything */
static void drop_set(struct snapset *s)
{
	if (array_holds_set(s->state)) {
		int rc = s->ops->abort(s->ctx, s->id);

		/* best effort: the new set must not fail for the old one */
		if (rc)
			s->last_array_err = rc;
	}
	s->state = SNAPSET_IDLE;
	s->n_luns = 0;
	s->n_targets = 0;
}

/* all or nothing: VSS leaves a volume whose BeginPrepareSnapshot failed
 * out of the set, so none of its LUNs may stay to be snapshotted */
static int32_t add_luns(struct snapset *s, const struct vds_lun_info *luns, size_t n)
{
	const size_t before = s->n_luns;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		/* a LUN shared by two volumes arrives twice; keep one */
		for (j = 0; j < s->n_luns; j++)
			if (vds_lun_same(&s->luns[j], &luns[i]))
				break;
		if (j < s->n_luns)
			continue;
		if (s->n_luns == SNAPSET_MAX_LUNS) {
			s->n_luns = before;
			return PROV_VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED;
		}
		s->luns[s->n_luns++] = luns[i];
	}
	return PROV_S_OK;
}

int32_t snapset_begin_prepare(struct snapset *s, const uint8_t set_id[16],
			      const struct vds_lun_info *luns, size_t n)
{
	if (!set_id || !luns || n == 0)
		return PROV_E_INVALIDARG;
	if (s->state == SNAPSET_PREPARING && !memcmp(s->id, set_id, 16))
		return add_luns(s, luns, n);
	if (check_set(s, set_id) == PROV_S_OK && s->state != SNAPSET_ABORTED &&
	    s->state != SNAPSET_POSTCOMMITTED && s->state != SNAPSET_CREATED)
		return PROV_VSS_E_BAD_STATE; /* same set, already past preparing */
	/* a new set id: the old set was abandoned (or finished) */
	drop_set(s);
	memcpy(s->id, set_id, 16);
	s->state = SNAPSET_PREPARING;
	return add_luns(s, luns, n);
}

int32_t snapset_end_prepare(struct snapset *s, const uint8_t set_id[16])
{
	int32_t hr = check_set(s, set_id);
	int rc;

	if (hr)
		return hr;
	if (s->state != SNAPSET_PREPARING)
		return PROV_VSS_E_BAD_STATE;
	/* the slow work (LUN lookups, reservation) belongs here, not in commit */
	rc = s->ops->prepare(s->ctx, s->id, s->luns, s->n_luns);
	if (rc) {
		/* nothing was reserved: a later AbortSnapshots has nothing to undo */
		s->last_array_err = rc;
		s->state = SNAPSET_ABORTED;
		return PROV_VSS_E_PROVIDER_VETO;
	}
	s->state = SNAPSET_PREPARED;
	return PROV_S_OK;
}

int32_t snapset_precommit(struct snapset *s, const uint8_t set_id[16])
{
	int32_t hr = check_set(s, set_id);

	if (hr)
		return hr;
	if (s->state != SNAPSET_PREPARED)
		return PROV_VSS_E_BAD_STATE;
	s->state = SNAPSET_PRECOMMITTED;
	return PROV_S_OK;
}

int32_t snapset_commit(struct snapset *s, const uint8_t set_id[16])
{
	int32_t hr = check_set(s, set_id);
	int rc;

	if (hr)
		return hr;
	if (s->state != SNAPSET_PRECOMMITTED)
		return PROV_VSS_E_BAD_STATE;
	s->n_targets = 0;
	rc = s->ops->commit(s->ctx, s->id, s->targets, SNAPSET_MAX_LUNS, &s->n_targets);
	if (!rc && s->n_targets > SNAPSET_MAX_LUNS)
		rc = -1; /* a broken ops: never trust the count past the array */
	if (rc) {
		s->n_targets = 0;
		/* stay precommitted: VSS will call AbortSnapshots, which releases the set */
		s->last_array_err = rc;
		return PROV_VSS_E_PROVIDER_VETO;
	}
	s->state = SNAPSET_COMMITTED;
	return PROV_S_OK;
}

int32_t snapset_postcommit(struct snapset *s, const uint8_t set_id[16], long count)
{
	int32_t hr = check_set(s, set_id);

	if (hr)
		return hr;
	if (count < 0)
		return PROV_E_INVALIDARG;
	if (s->state != SNAPSET_COMMITTED)
		return PROV_VSS_E_BAD_STATE;
	s->state = SNAPSET_POSTCOMMITTED;
	return PROV_S_OK;
}

int32_t snapset_final_commit(struct snapset *s, const uint8_t set_id[16], int post)
{
	int32_t hr = check_set(s, set_id);

	if (hr)
		return hr;
	if (s->state == SNAPSET_CREATED)
		return PROV_S_OK; /* repeated */
	if (s->state != SNAPSET_POSTCOMMITTED)
		return PROV_VSS_E_BAD_STATE;
	if (post)
		s->state = SNAPSET_CREATED;
	return PROV_S_OK;
}

int32_t snapset_abort(struct snapset *s, const uint8_t set_id[16])
{
	int32_t hr = check_set(s, set_id);
	int rc;

	if (hr)
		return hr;
	switch (s->state) {
	case SNAPSET_ABORTED:
		return PROV_S_OK; /* repeated abort */
	case SNAPSET_CREATED:
		return PROV_S_OK; /* created: the sample and Google ignore aborts here too */
	case SNAPSET_PREPARING:
		s->state = SNAPSET_ABORTED; /* the array has not heard of the set */
		return PROV_S_OK;
	default:
		break;
	}
	rc = s->ops->abort(s->ctx, s->id);
	s->state = SNAPSET_ABORTED;
	if (rc) {
		s->last_array_err = rc;
		return PROV_VSS_E_PROVIDER_VETO;
	}
	return PROV_S_OK;
}

int32_t snapset_release(struct snapset *s, const uint8_t set_id[16])
{
	int32_t hr = check_set(s, set_id);

	if (hr)
		return hr;
	if (s->state != SNAPSET_POSTCOMMITTED && s->state != SNAPSET_CREATED &&
	    s->state != SNAPSET_ABORTED)
		return PROV_VSS_E_BAD_STATE;
	s->state = SNAPSET_DELETED;
	s->n_luns = 0;
	s->n_targets = 0;
	return PROV_S_OK;
}

/* the snapshot the array made of the set's LUN that src names */
static const struct snapset_target *find_target(const struct snapset *s,
						const struct vds_lun_info *src)
{
	uint8_t naa[16];
	size_t j;

	for (j = 0; j < s->n_luns; j++)
		if (vds_lun_same(&s->luns[j], src))
			break;
	/* the set's own copy has the NAA prepare resolved (src may lack it) */
	if (j == s->n_luns || !vds_lun_naa16(&s->luns[j], naa))
		return NULL;
	for (size_t k = 0; k < s->n_targets; k++)
		if (!memcmp(s->targets[k].origin_naa, naa, 16))
			return &s->targets[k];
	return NULL;
}

int32_t snapset_target_luns(const struct snapset *s, const struct vds_lun_info *src, size_t n,
			    struct vds_lun_info *dst)
{
	if (!s || (n && (!src || !dst)))
		return PROV_E_INVALIDARG;
	if (s->state != SNAPSET_COMMITTED && s->state != SNAPSET_POSTCOMMITTED &&
	    s->state != SNAPSET_CREATED)
		return PROV_VSS_E_BAD_STATE;
	/* check every LUN before writing any: dst stays untouched on failure */
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < s->n_luns; j++)
			if (vds_lun_same(&s->luns[j], &src[i]))
				break;
		if (j == s->n_luns)
			return PROV_E_INVALIDARG; /* not a LUN of this set */
		if (!find_target(s, &src[i]))
			return PROV_VSS_E_PROVIDER_VETO; /* the array did not report it */
	}
	for (size_t i = 0; i < n; i++) {
		const struct snapset_target *t = find_target(s, &src[i]);

		vds_lun_target(&dst[i], &src[i], t->naa, t->serial);
	}
	return PROV_S_OK;
}

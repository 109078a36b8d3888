#include "tm.h"

#include <errno.h>
#include <string.h>

int tm_alloc(struct tmgr *tm, uint32_t magic, struct blk **out)
{
	uint64_t i;
	int r;

	if (!tm->use_reserve && sm_free(tm->sm) <= tm->reserve)
		return -EDQUOT;
	r = sm_alloc(tm->sm, &i);
	if (r)
		return r == -ENOSPC ? -EDQUOT : r;
	r = bm_new(tm->bm, tm->base + i, magic, out);
	if (r)
		sm_dec(tm->sm, i);
	return r;
}

int tm_shadow(struct tmgr *tm, uint64_t nr, uint32_t magic, struct blk **out, int *inc_children)
{
	uint64_t i = nr - tm->base;
	uint32_t ref = sm_get(tm->sm, i);
	struct blk *orig, *copy;
	int r;

	*inc_children = 0;
	r = bm_read(tm->bm, nr, magic, &orig);
	if (r)
		return r;
	if (ref == 1 && sm_is_new(tm->sm, i)) {
		bm_mark_dirty(tm->bm, orig);
		*out = orig;
		return 0;
	}
	r = tm_alloc(tm, magic, &copy);
	if (r) {
		bm_put(tm->bm, orig);
		return r;
	}
	memcpy(copy->data + BM_HDR_SIZE, orig->data + BM_HDR_SIZE, BM_BLOCK_SIZE - BM_HDR_SIZE);
	bm_put(tm->bm, orig);
	*inc_children = ref > 1;
	tm_dec(tm, nr);
	*out = copy;
	return 0;
}

uint32_t tm_ref(const struct tmgr *tm, uint64_t nr)
{
	return sm_get(tm->sm, nr - tm->base);
}

void tm_inc(struct tmgr *tm, uint64_t nr)
{
	sm_inc(tm->sm, nr - tm->base);
}

uint32_t tm_dec(struct tmgr *tm, uint64_t nr)
{
	uint64_t i = nr - tm->base;
	int fresh = sm_is_new(tm->sm, i);
	uint32_t c = sm_dec(tm->sm, i);

	if (!c && fresh)
		bm_forget(tm->bm, nr); /* never written: no need to keep it */
	return c;
}

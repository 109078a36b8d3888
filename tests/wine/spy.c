/*
 * spy: IMallocSpy in C.  COM calls PostAlloc with every new block and
 * PreFree with every block about to be freed; the blocks are kept in an
 * open-addressing set so spy_is_live() can tell whether a pointer the
 * provider returned really came from CoTaskMemAlloc (VSS marshals the
 * out-parameters and frees them with CoTaskMemFree).
 */
#define COBJMACROS
#define CONST_VTABLE
#include "spy.h"

#include <objbase.h>
#include <objidl.h>

#define SET_SIZE (1u << 16) /* power of two; far more than a run keeps live */
#define TOMB	 ((const void *)1)

static const void *blocks[SET_SIZE];
static struct spy_counts counts;
static CRITICAL_SECTION lock;

static size_t slot_of(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 2654435761u) & (SET_SIZE - 1);
}

static void set_add(const void *p)
{
	size_t i = slot_of(p);

	while (blocks[i] && blocks[i] != TOMB)
		i = (i + 1) & (SET_SIZE - 1);
	blocks[i] = p;
}

static long set_find(const void *p)
{
	size_t i = slot_of(p);

	for (size_t n = 0; n < SET_SIZE && blocks[i]; n++, i = (i + 1) & (SET_SIZE - 1))
		if (blocks[i] == p)
			return (long)i;
	return -1;
}

static void track_alloc(void *p)
{
	if (!p)
		return;
	EnterCriticalSection(&lock);
	set_add(p);
	counts.allocs++;
	counts.live++;
	LeaveCriticalSection(&lock);
}

static void track_free(void *p)
{
	long i;

	if (!p)
		return;
	EnterCriticalSection(&lock);
	i = set_find(p);
	if (i >= 0) {
		blocks[i] = TOMB;
		counts.frees++;
		counts.live--;
	}
	LeaveCriticalSection(&lock);
}

static HRESULT STDMETHODCALLTYPE spy_qi(IMallocSpy *iface, REFIID riid, void **out)
{
	if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IMallocSpy)) {
		*out = iface;
		return S_OK;
	}
	*out = NULL;
	return E_NOINTERFACE;
}

/* a static object: COM may AddRef/Release it, it never goes away */
static ULONG STDMETHODCALLTYPE spy_addref(IMallocSpy *iface)
{
	(void)iface;

	return 2;
}

static ULONG STDMETHODCALLTYPE spy_release(IMallocSpy *iface)
{
	(void)iface;

	return 1;
}

static SIZE_T STDMETHODCALLTYPE spy_prealloc(IMallocSpy *iface, SIZE_T cb)
{
	(void)iface;

	return cb;
}

static void *STDMETHODCALLTYPE spy_postalloc(IMallocSpy *iface, void *actual)
{
	(void)iface;

	track_alloc(actual);
	return actual;
}

static void *STDMETHODCALLTYPE spy_prefree(IMallocSpy *iface, void *req, BOOL spyed)
{
	(void)iface;

	if (spyed)
		track_free(req);
	return req;
}

static void STDMETHODCALLTYPE spy_postfree(IMallocSpy *iface, BOOL spyed)
{
	(void)iface;
	(void)spyed;
}

/* a realloc is a free of the old block and an allocation of the new */
static SIZE_T STDMETHODCALLTYPE spy_prerealloc(IMallocSpy *iface, void *req, SIZE_T cb,
					       void **new_req, BOOL spyed)
{
	(void)iface;

	if (spyed && req)
		track_free(req);
	*new_req = req;
	return cb;
}

static void *STDMETHODCALLTYPE spy_postrealloc(IMallocSpy *iface, void *actual, BOOL spyed)
{
	(void)iface;
	(void)spyed;

	track_alloc(actual);
	return actual;
}

static void *STDMETHODCALLTYPE spy_pregetsize(IMallocSpy *iface, void *req, BOOL spyed)
{
	(void)iface;
	(void)spyed;

	return req;
}

static SIZE_T STDMETHODCALLTYPE spy_postgetsize(IMallocSpy *iface, SIZE_T actual, BOOL spyed)
{
	(void)iface;
	(void)spyed;

	return actual;
}

static void *STDMETHODCALLTYPE spy_predidalloc(IMallocSpy *iface, void *req, BOOL spyed)
{
	(void)iface;
	(void)spyed;

	return req;
}

static int STDMETHODCALLTYPE spy_postdidalloc(IMallocSpy *iface, void *req, BOOL spyed, int actual)
{
	(void)iface;
	(void)req;
	(void)spyed;

	return actual;
}

static void STDMETHODCALLTYPE spy_preheapmin(IMallocSpy *iface)
{
	(void)iface;
}

static void STDMETHODCALLTYPE spy_postheapmin(IMallocSpy *iface)
{
	(void)iface;
}

static const IMallocSpyVtbl spy_vtbl = {
    .QueryInterface = spy_qi,
    .AddRef = spy_addref,
    .Release = spy_release,
    .PreAlloc = spy_prealloc,
    .PostAlloc = spy_postalloc,
    .PreFree = spy_prefree,
    .PostFree = spy_postfree,
    .PreRealloc = spy_prerealloc,
    .PostRealloc = spy_postrealloc,
    .PreGetSize = spy_pregetsize,
    .PostGetSize = spy_postgetsize,
    .PreDidAlloc = spy_predidalloc,
    .PostDidAlloc = spy_postdidalloc,
    .PreHeapMinimize = spy_preheapmin,
    .PostHeapMinimize = spy_postheapmin,
};

static IMallocSpy the_spy = {.lpVtbl = &spy_vtbl};

int spy_register(void)
{
	InitializeCriticalSection(&lock);
	return FAILED(CoRegisterMallocSpy(&the_spy)) ? -1 : 0;
}

int spy_revoke(void)
{
	return FAILED(CoRevokeMallocSpy()) ? -1 : 0;
}

void spy_counts(struct spy_counts *out)
{
	EnterCriticalSection(&lock);
	*out = counts;
	LeaveCriticalSection(&lock);
}

int spy_is_live(const void *p)
{
	long i;

	EnterCriticalSection(&lock);
	i = p ? set_find(p) : -1;
	LeaveCriticalSection(&lock);
	return i >= 0;
}

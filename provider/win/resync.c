/*
 * resync.c: the IVssAsync that ResyncLuns returns.  The reverts run on a
 * worker thread with its own control client (the provider's client is
 * not thread-safe, and the provider must keep answering meanwhile).
 * The requester polls QueryStatus or blocks in Wait; Cancel stops the
 * worker before its next LUN (one array revert cannot be interrupted).
 *
 * The object is allocated with HeapAlloc, not CoTaskMemAlloc: it is a
 * COM object the caller Releases, not memory the caller frees.
 */
#include "provider.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "evlog.h"
#include "messages.h"

struct resync {
	IVssAsync IVssAsync_iface;
	LONG ref;
	HANDLE done;	      /* manual-reset, set when the worker has finished */
	volatile LONG cancel; /* Cancel() asks the worker to stop */
	volatile LONG status; /* VSS_S_ASYNC_PENDING until the worker is done */
	struct prov_config cfg;
	size_t n;
	struct vds_lun_info *snaps, *targets;
	HMODULE module_ref; /* keeps the DLL mapped until the worker has exited */
};

static inline struct resync *impl_from_async(IVssAsync *iface)
{
	return CONTAINING_RECORD(iface, struct resync, IVssAsync_iface);
}

static HRESULT STDMETHODCALLTYPE async_QueryInterface(IVssAsync *iface, REFIID riid, void **out)
{
	struct resync *r = impl_from_async(iface);

	if (!out)
		return E_POINTER;
	if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IVssAsync)) {
		*out = &r->IVssAsync_iface;
		InterlockedIncrement(&r->ref);
		return S_OK;
	}
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE async_AddRef(IVssAsync *iface)
{
	return (ULONG)InterlockedIncrement(&impl_from_async(iface)->ref);
}

static ULONG STDMETHODCALLTYPE async_Release(IVssAsync *iface)
{
	struct resync *r = impl_from_async(iface);
	LONG ref = InterlockedDecrement(&r->ref);

	if (ref)
		return (ULONG)ref;
	CloseHandle(r->done);
	config_wipe(&r->cfg);
	HeapFree(GetProcessHeap(), 0, r->snaps);
	HeapFree(GetProcessHeap(), 0, r->targets);
	HeapFree(GetProcessHeap(), 0, r);
	InterlockedDecrement(&g_dll_refs);
	return 0;
}

static HRESULT STDMETHODCALLTYPE async_Cancel(IVssAsync *iface)
{
	struct resync *r = impl_from_async(iface);
	LONG st = InterlockedCompareExchange(&r->status, VSS_S_ASYNC_PENDING, VSS_S_ASYNC_PENDING);

	if (st == VSS_S_ASYNC_CANCELLED)
		return VSS_S_ASYNC_CANCELLED;
	if (st != VSS_S_ASYNC_PENDING)
		return VSS_S_ASYNC_FINISHED; /* finished (or failed) before the cancel */
	InterlockedExchange(&r->cancel, 1);
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE async_Wait(IVssAsync *iface, DWORD dwMilliseconds)
{
	struct resync *r = impl_from_async(iface);
	LONG st;

	if (WaitForSingleObject(r->done, dwMilliseconds) != WAIT_OBJECT_0)
		return S_OK; /* timed out: QueryStatus still says VSS_S_ASYNC_PENDING */
	st = r->status;
	/* "If an operation fails while being waited on, Wait returns the error" */
	return FAILED(st) ? st : S_OK;
}

static HRESULT STDMETHODCALLTYPE async_QueryStatus(IVssAsync *iface, HRESULT *pHrResult,
						   INT *pReserved)
{
	struct resync *r = impl_from_async(iface);

	if (!pHrResult)
		return E_INVALIDARG;
	*pHrResult = r->status;
	return S_OK;
}

static const IVssAsyncVtbl async_vtbl = {
    async_QueryInterface, async_AddRef, async_Release, async_Cancel, async_Wait, async_QueryStatus,
};

static DWORD WINAPI resync_worker(void *arg)
{
	struct resync *r = arg;
	struct array_ctx a = {0};
	struct client_cfg cc;
	HMODULE mod = r->module_ref;
	HRESULT result = VSS_S_ASYNC_FINISHED;
	size_t i = 0;
	int rc;

	provider_client_cfg(&r->cfg, &cc, 0);
	rc = client_open(&cc, &a.c);
	SecureZeroMemory(cc.key, sizeof(cc.key));
	if (rc) {
		snprintf(a.last_msg, sizeof(a.last_msg), "%s:%u: %s", r->cfg.address, r->cfg.port,
			 proto_strerror(rc));
		rc = -rc;
	}
	for (; !rc && i < r->n; i++) {
		if (r->cancel) {
			result = VSS_S_ASYNC_CANCELLED;
			break;
		}
		rc = array_resync(&a, &r->snaps[i], &r->targets[i]);
	}
	client_close(a.c);
	if (rc) {
		result = hr_from_array(rc, 1);
		evlog_report(MSG_RESYNC_FAILED, "LUN %zu of %zu (serial %s): %s", i + 1, r->n,
			     i < r->n ? r->targets[i].serial : "", a.last_msg);
	} else if (result == VSS_S_ASYNC_FINISHED) {
		evlog_report(MSG_RESYNC_DONE, "%zu LUN(s) reverted by the array", r->n);
	} else {
		trace_printf("ResyncLuns: cancelled after %zu of %zu LUN(s)", i, r->n);
	}
	trace_flush();
	InterlockedExchange(&r->status, result);
	SetEvent(r->done);
	async_Release(&r->IVssAsync_iface);
	/* our code must stay mapped until this thread is gone */
	FreeLibraryAndExitThread(mod, 0);
	return 0;
}

HRESULT resync_start(const struct prov_config *cfg, const struct vds_lun_info *snaps,
		     const struct vds_lun_info *targets, size_t n, IVssAsync **out)
{
	struct resync *r = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*r));
	HANDLE th;

	*out = NULL;
	if (!r)
		return E_OUTOFMEMORY;
	r->IVssAsync_iface.lpVtbl = &async_vtbl;
	r->ref = 2; /* the caller's and the worker's */
	r->status = VSS_S_ASYNC_PENDING;
	r->cfg = *cfg;
	r->n = n;
	r->done = CreateEventW(NULL, TRUE, FALSE, NULL);
	r->snaps = HeapAlloc(GetProcessHeap(), 0, n * sizeof(*snaps));
	r->targets = HeapAlloc(GetProcessHeap(), 0, n * sizeof(*targets));
	if (!r->done || !r->snaps || !r->targets ||
	    !GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
				(LPCWSTR)(void *)resync_worker, &r->module_ref))
		goto fail;
	memcpy(r->snaps, snaps, n * sizeof(*snaps));
	memcpy(r->targets, targets, n * sizeof(*targets));
	InterlockedIncrement(&g_dll_refs);
	th = CreateThread(NULL, 0, resync_worker, r, 0, NULL);
	if (!th) {
		InterlockedDecrement(&g_dll_refs);
		FreeLibrary(r->module_ref);
		goto fail;
	}
	CloseHandle(th);
	*out = &r->IVssAsync_iface;
	return S_OK;
fail:
	if (r->done)
		CloseHandle(r->done);
	HeapFree(GetProcessHeap(), 0, r->snaps);
	HeapFree(GetProcessHeap(), 0, r->targets);
	config_wipe(&r->cfg);
	HeapFree(GetProcessHeap(), 0, r);
	return E_OUTOFMEMORY;
}

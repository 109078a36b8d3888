/*
 * provider.c: the arraysim VSS hardware provider object.
 *
 * One heap object answers IVssHardwareSnapshotProvider(Ex),
 * IVssProviderCreateSnapshotSet and IVssProviderNotifications; one
 * refcount, one critical section around every method.  Decisions live in
 * provider/core (snapset, lunmatch, vds_lun, array_ops); this file does
 * the COM side: argument checks, VDS_LUN_INFORMATION conversion with
 * CoTaskMemAlloc, the control clients, events and trace.
 *
 * Flush-and-Hold rule: CommitSnapshots makes exactly one array call and
 * no file, registry or event-log I/O.  What it has to report is kept in
 * commit_note and reported by the next call (enter()).
 */
#include "provider.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "evlog.h"
#include "lunconv.h"
#include "lunmatch.h"
#include "messages.h"
#include "provider_ids.h"
#include "vss_err.h"

/*
 * The set id as the array keeps it: RFC 4122 byte order (Data1..Data3
 * big-endian), so that `arrayctl snapshot list` prints the same text as
 * vssadmin and diskshadow do for the shadow copy set.
 */
struct set_bytes {
	uint8_t b[16];
};

static struct set_bytes set_id_bytes(const VSS_ID *g)
{
	struct set_bytes r;

	r.b[0] = (uint8_t)(g->Data1 >> 24);
	r.b[1] = (uint8_t)(g->Data1 >> 16);
	r.b[2] = (uint8_t)(g->Data1 >> 8);
	r.b[3] = (uint8_t)g->Data1;
	r.b[4] = (uint8_t)(g->Data2 >> 8);
	r.b[5] = (uint8_t)g->Data2;
	r.b[6] = (uint8_t)(g->Data3 >> 8);
	r.b[7] = (uint8_t)g->Data3;
	memcpy(r.b + 8, g->Data4, 8);
	return r;
}

static inline struct provider *impl_from_hw(IVssHardwareSnapshotProviderEx *iface)
{
	return CONTAINING_RECORD(iface, struct provider, IVssHardwareSnapshotProviderEx_iface);
}

static inline struct provider *impl_from_create(IVssProviderCreateSnapshotSet *iface)
{
	return CONTAINING_RECORD(iface, struct provider, IVssProviderCreateSnapshotSet_iface);
}

static inline struct provider *impl_from_notify(IVssProviderNotifications *iface)
{
	return CONTAINING_RECORD(iface, struct provider, IVssProviderNotifications_iface);
}

void guid_text(const void *guid, char out[39])
{
	const GUID *g = guid;

	snprintf(out, 39, "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
		 (unsigned long)g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1], g->Data4[2],
		 g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

HRESULT hr_from_array(int rc, int storage_allowed)
{
	if (rc == 0)
		return S_OK;
	if (storage_allowed && (rc == PROTO_ENOSPC || rc == PROTO_EDQUOT))
		return VSS_E_INSUFFICIENT_STORAGE;
	return VSS_E_PROVIDER_VETO;
}

void provider_client_cfg(const struct prov_config *cfg, struct client_cfg *cc, int for_commit)
{
	memset(cc, 0, sizeof(*cc));
	cc->host = cfg->address;
	cc->port = cfg->port;
	memcpy(cc->key, cfg->key, AUTH_KEY_LEN);
	cc->client_name = "arraysim-vss";
	if (for_commit) {
		/* one attempt, every wait bounded: the whole commit stays far below 10 s */
		cc->connect_timeout_ms = (int)cfg->commit_timeout_ms;
		cc->io_timeout_ms = (int)cfg->commit_timeout_ms;
		cc->max_attempts = 1;
	} else {
		cc->connect_timeout_ms = 3000;
		cc->io_timeout_ms = 30000;
		cc->max_attempts = 3;
	}
}

/* ---- outside-commit bookkeeping ---------------------------------------- */

/*
 * How long CommitSnapshots waits for cs.  Every other method holds cs
 * across its array calls (main client: 30 s I/O timeout, 3 attempts), so
 * a concurrent OnLunEmpty or LocateLuns on a slow array would otherwise
 * keep commit waiting past the 10 s Flush-and-Hold limit.  This plus
 * CommitTimeoutMs (at most 9000) stays below 10 s.
 */
#define COMMIT_LOCK_WAIT_MS 500

/* report what the last CommitSnapshots could not, then write the trace */
static void flush_pending(struct provider *p)
{
	LONG busy = InterlockedExchange(&p->commit_lock_busy, 0);

	if (busy)
		evlog_report(MSG_VETO_COMMIT,
			     "another provider call held the provider for more than %d ms; "
			     "%ld CommitSnapshots call(s) vetoed without reaching the array",
			     COMMIT_LOCK_WAIT_MS, (long)busy);
	if (p->commit_note.have) {
		char id[39];
		LARGE_INTEGER f;
		double ms = 0;

		if (QueryPerformanceFrequency(&f) && f.QuadPart)
			ms = (double)p->commit_note.ticks * 1000.0 / (double)f.QuadPart;
		guid_text(p->commit_note.set_id, id);
		trace_printf("CommitSnapshots %s -> 0x%08lX in %.3f ms", id,
			     (unsigned long)p->commit_note.hr, ms);
		if (p->commit_note.hr == VSS_E_PROVIDER_VETO)
			evlog_report(MSG_VETO_COMMIT, "set %s: array status %lu (%s), %.0f ms", id,
				     (unsigned long)p->commit_note.status, p->commit_note.msg, ms);
		p->commit_note.have = 0;
	}
	trace_flush();
}

static void enter(struct provider *p)
{
	EnterCriticalSection(&p->cs);
	flush_pending(p);
}

static void leave(struct provider *p)
{
	trace_flush();
	LeaveCriticalSection(&p->cs);
}

static void note_array(struct provider *p, uint32_t status, const char *msg)
{
	p->arr.last_status = status;
	snprintf(p->arr.last_msg, sizeof(p->arr.last_msg), "%s", msg);
}

/* read the registry once per object; a bad setting is an event, every time it matters */
static DWORD ensure_config(struct provider *p)
{
	char err[160];
	DWORD rc;

	if (p->cfg_loaded)
		return 0;
	rc = config_load(&p->cfg, err, sizeof(err));
	if (rc) {
		evlog_report(MSG_CONFIG_ERROR, "%s (Win32 error %lu)", err, (unsigned long)rc);
		config_wipe(&p->cfg);
		return rc;
	}
	trace_set_file(p->cfg.trace_file[0] ? p->cfg.trace_file : NULL);
	p->cfg_loaded = 1;
	return 0;
}

/*
 * The clients are opened lazily (AreLunsSupported needs the array to
 * confirm identifiers; EndPrepareSnapshots opens the commit client at the
 * latest) and never inside CommitSnapshots.  0 or a PROTO_E* code, with
 * the reason in arr.last_msg; the caller decides whether it is an event.
 */
static int ensure_client(struct provider *p, int with_commit)
{
	struct client_cfg cc;
	int rc;

	if (ensure_config(p)) {
		note_array(p, PROTO_EINVAL, "configuration unusable");
		return PROTO_EINVAL;
	}
	if (!p->cfg.have_key) {
		note_array(p, PROTO_EAUTH,
			   "no ControlKey configured (arraysim-vss-reg config --key-file)");
		return PROTO_EAUTH;
	}
	if (!p->main_client) {
		provider_client_cfg(&p->cfg, &cc, 0);
		rc = client_open(&cc, &p->main_client);
		SecureZeroMemory(cc.key, sizeof(cc.key));
		if (rc) {
			p->main_client = NULL;
			note_array(p, (uint32_t)-rc, "");
			snprintf(p->arr.last_msg, sizeof(p->arr.last_msg), "%s:%u: %s",
				 p->cfg.address, p->cfg.port, proto_strerror(rc));
			return -rc;
		}
		p->arr.c = p->main_client;
		trace_printf("connected to %s:%u", p->cfg.address, p->cfg.port);
	}
	if (with_commit && !p->commit_client) {
		provider_client_cfg(&p->cfg, &cc, 1);
		rc = client_open(&cc, &p->commit_client);
		SecureZeroMemory(cc.key, sizeof(cc.key));
		if (rc) {
			p->commit_client = NULL;
			snprintf(p->arr.last_msg, sizeof(p->arr.last_msg), "%s:%u (commit): %s",
				 p->cfg.address, p->cfg.port, proto_strerror(rc));
			p->arr.last_status = (uint32_t)-rc;
			return -rc;
		}
	}
	return 0;
}

static void close_clients(struct provider *p)
{
	client_close(p->commit_client);
	client_close(p->main_client);
	p->commit_client = NULL;
	p->main_client = NULL;
	p->arr.c = NULL;
}

/* ---- snapset_ops as the shell sees them: lazy clients, commit client swap ---- */

static int shell_prepare(void *ctx, const uint8_t set_id[16], const struct vds_lun_info *luns,
			 size_t n)
{
	struct provider *p = ctx;
	int rc = ensure_client(p, 1);

	return rc ? rc : array_snapset_ops.prepare(&p->arr, set_id, luns, n);
}

static int shell_commit(void *ctx, const uint8_t set_id[16], struct snapset_target *out, size_t max,
			size_t *n_out)
{
	struct provider *p = ctx;
	int rc;

	/* opened in EndPrepareSnapshots; connecting here would be slow work in the window */
	if (!p->commit_client) {
		p->arr.last_status = PROTO_ECONNECT;
		memcpy(p->arr.last_msg, "no commit connection", sizeof("no commit connection"));
		return PROTO_ECONNECT;
	}
	p->arr.c = p->commit_client;
	rc = array_snapset_ops.commit(&p->arr, set_id, out, max, n_out);
	p->arr.c = p->main_client;
	return rc;
}

static int shell_abort(void *ctx, const uint8_t set_id[16])
{
	struct provider *p = ctx;
	int rc = ensure_client(p, 0);

	return rc ? rc : array_snapset_ops.abort(&p->arr, set_id);
}

static const struct snapset_ops shell_ops = {
    .prepare = shell_prepare,
    .commit = shell_commit,
    .abort = shell_abort,
};

/* ---- helpers --------------------------------------------------------------- */

/*
 * Contexts: snapshots are array objects, so persistent, non-persistent,
 * with or without writers, and transportable sets are all possible;
 * they are copy-on-write, so DIFFERENTIAL yes and PLEX (a full mirror)
 * no.  CLIENT_ACCESSIBLE is the system provider's alone [MS-CTX];
 * FILE_SHARE attributes belong to file-share providers.
 */
static int context_supported(LONG ctx)
{
	const ULONG c = (ULONG)ctx;

	if (c & (VSS_VOLSNAP_ATTR_CLIENT_ACCESSIBLE | VSS_VOLSNAP_ATTR_PLEX |
		 VSS_VOLSNAP_ATTR_FILE_SHARE))
		return 0;
	return 1;
}

/* heap array of core LUNs from VDS ones; NULL on a LUN that does not convert */
static struct vds_lun_info *convert_luns(const VDS_LUN_INFORMATION *in, size_t n, int *bad)
{
	struct vds_lun_info *out = HeapAlloc(GetProcessHeap(), 0, n * sizeof(*out));

	*bad = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (lun_from_vds(&out[i], &in[i])) {
			*bad = 1;
			HeapFree(GetProcessHeap(), 0, out);
			return NULL;
		}
	return out;
}

static void free_luns(struct vds_lun_info *l)
{
	if (l)
		HeapFree(GetProcessHeap(), 0, l);
}

/* lunmatch confirm callback: lazy client, keeps the serial and whether the array answered */
struct confirm_ctx {
	struct provider *p;
	int trouble; /* the array could not be asked (as opposed to: it said no) */
	char serial[33];
};

static int confirm_cb(void *ctx, const uint8_t naa[16], char serial[33])
{
	struct confirm_ctx *c = ctx;
	int rc = ensure_client(c->p, 0);

	if (!rc)
		rc = array_confirm_naa(&c->p->arr, naa, serial);
	if (!rc)
		memcpy(c->serial, serial, 33);
	else if (rc != PROTO_ENOENT)
		c->trouble = rc;
	return rc;
}

/* ---- IUnknown (shared by the three interfaces) ----------------------------- */

static HRESULT prov_qi(struct provider *p, REFIID riid, void **out)
{
	if (!out)
		return E_POINTER;
	if (IsEqualIID(riid, &IID_IUnknown) ||
	    IsEqualIID(riid, &IID_IVssHardwareSnapshotProvider) ||
	    IsEqualIID(riid, &IID_IVssHardwareSnapshotProviderEx))
		*out = &p->IVssHardwareSnapshotProviderEx_iface; /* the identity IUnknown */
	else if (IsEqualIID(riid, &IID_IVssProviderCreateSnapshotSet))
		*out = &p->IVssProviderCreateSnapshotSet_iface;
	else if (IsEqualIID(riid, &IID_IVssProviderNotifications))
		*out = &p->IVssProviderNotifications_iface;
	else {
		*out = NULL;
		return E_NOINTERFACE;
	}
	InterlockedIncrement(&p->ref);
	return S_OK;
}

static ULONG prov_addref(struct provider *p)
{
	return (ULONG)InterlockedIncrement(&p->ref);
}

static ULONG prov_release(struct provider *p)
{
	LONG ref = InterlockedDecrement(&p->ref);

	if (ref)
		return (ULONG)ref;
	EnterCriticalSection(&p->cs);
	flush_pending(p);
	trace_printf("provider released (set %s)", snapset_state_name(p->set.state));
	close_clients(p);
	config_wipe(&p->cfg);
	trace_flush();
	LeaveCriticalSection(&p->cs);
	DeleteCriticalSection(&p->cs);
	HeapFree(GetProcessHeap(), 0, p);
	InterlockedDecrement(&g_dll_refs);
	return 0;
}

/* ---- IVssHardwareSnapshotProviderEx ------------------------------------- */

static HRESULT STDMETHODCALLTYPE hw_QueryInterface(IVssHardwareSnapshotProviderEx *iface,
						   REFIID riid, void **out)
{
	return prov_qi(impl_from_hw(iface), riid, out);
}

static ULONG STDMETHODCALLTYPE hw_AddRef(IVssHardwareSnapshotProviderEx *iface)
{
	return prov_addref(impl_from_hw(iface));
}

static ULONG STDMETHODCALLTYPE hw_Release(IVssHardwareSnapshotProviderEx *iface)
{
	return prov_release(impl_from_hw(iface));
}

static HRESULT STDMETHODCALLTYPE hw_AreLunsSupported(IVssHardwareSnapshotProviderEx *iface,
						     LONG lLunCount, LONG lContext,
						     VSS_PWSZ *rgwszDevices,
						     VDS_LUN_INFORMATION *pLunInformation,
						     WINBOOL *pbIsSupported)
{
	struct provider *p = impl_from_hw(iface);
	struct confirm_ctx cc = {p, 0, ""};
	struct vds_lun_info *luns;
	bool ok = false;
	int bad;
	HRESULT hr;

	if (!pbIsSupported)
		return E_INVALIDARG;
	*pbIsSupported = FALSE; /* also on the failure paths */
	if (lLunCount <= 0 || !pLunInformation)
		return E_INVALIDARG;
	enter(p);
	if (!context_supported(lContext)) {
		trace_printf("AreLunsSupported: context 0x%lx not supported",
			     (unsigned long)lContext);
		leave(p);
		return S_OK;
	}
	luns = convert_luns(pLunInformation, (size_t)lLunCount, &bad);
	if (!luns) {
		trace_printf("AreLunsSupported: %s",
			     bad ? "a LUN is not ours (shape)" : "no memory");
		leave(p);
		return bad ? S_OK : E_OUTOFMEMORY;
	}
	hr = lunmatch_are_supported(luns, (size_t)lLunCount, confirm_cb, &cc, &ok);
	free_luns(luns);
	if (cc.trouble)
		evlog_report(MSG_ARRAY_UNREACHABLE,
			     "AreLunsSupported could not confirm LUNs (%s); answered not supported",
			     p->arr.last_msg);
	if (hr == S_OK)
		*pbIsSupported = ok ? TRUE : FALSE;
	trace_printf("AreLunsSupported: %ld LUN(s), context 0x%lx -> 0x%08lX %s", (long)lLunCount,
		     (unsigned long)lContext, (unsigned long)hr, ok ? "TRUE" : "FALSE");
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_FillInLunInfo(IVssHardwareSnapshotProviderEx *iface,
						  VSS_PWSZ wszDeviceName,
						  VDS_LUN_INFORMATION *pLunInfo,
						  WINBOOL *pbIsSupported)
{
	struct provider *p = impl_from_hw(iface);
	struct confirm_ctx cc = {p, 0, ""};
	struct vds_lun_info lun;
	HRESULT hr = S_OK;

	if (!pbIsSupported)
		return E_INVALIDARG;
	*pbIsSupported = FALSE; /* also when pLunInfo is missing */
	if (!pLunInfo)
		return E_INVALIDARG;
	enter(p);
	if (lun_from_vds(&lun, pLunInfo) || !lunmatch_is_ours(&lun, confirm_cb, &cc)) {
		trace_printf("FillInLunInfo: not ours%s",
			     cc.trouble ? " (array not reachable)" : "");
		leave(p);
		return S_OK;
	}
	*pbIsSupported = TRUE;
	/*
	 * The arriving disk reports what GetTargetLuns promised (both come
	 * from the array's VPD data); only fill what a driver may have left
	 * out.  m_rgInterconnects is never touched.
	 */
	pLunInfo->m_version = VER_VDS_LUN_INFORMATION;
	memset(&pLunInfo->m_diskSignature, 0, sizeof(pLunInfo->m_diskSignature));
	if ((!pLunInfo->m_szSerialNumber || !pLunInfo->m_szSerialNumber[0]) && cc.serial[0]) {
		char *s = lun_strdup_cotask(cc.serial);

		if (!s) {
			hr = E_OUTOFMEMORY;
		} else {
			CoTaskMemFree(pLunInfo->m_szSerialNumber);
			pLunInfo->m_szSerialNumber = s;
		}
	}
	trace_printf("FillInLunInfo: ours, serial %s -> 0x%08lX", cc.serial, (unsigned long)hr);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_BeginPrepareSnapshot(IVssHardwareSnapshotProviderEx *iface,
							 VSS_ID SnapshotSetId, VSS_ID SnapshotId,
							 LONG lContext, LONG lLunCount,
							 VSS_PWSZ *rgDeviceNames,
							 VDS_LUN_INFORMATION *rgLunInformation)
{
	struct provider *p = impl_from_hw(iface);
	struct vds_lun_info *luns;
	char id[39];
	int bad;
	HRESULT hr;

	if (lLunCount <= 0 || !rgLunInformation)
		return E_INVALIDARG;
	enter(p);
	guid_text(&SnapshotSetId, id);
	if (!context_supported(lContext)) {
		trace_printf("BeginPrepareSnapshot %s: context 0x%lx unsupported", id,
			     (unsigned long)lContext);
		leave(p);
		return VSS_E_UNSUPPORTED_CONTEXT;
	}
	luns = convert_luns(rgLunInformation, (size_t)lLunCount, &bad);
	if (!luns) {
		leave(p);
		return bad ? VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER : E_OUTOFMEMORY;
	}
	p->set.last_array_err = 0;
	hr =
	    snapset_begin_prepare(&p->set, set_id_bytes(&SnapshotSetId).b, luns, (size_t)lLunCount);
	free_luns(luns);
	/* a new set id dropped an old set; its array-side release failing is worth an event */
	if (p->set.last_array_err)
		evlog_report(MSG_VETO_ABORT, "implicit abort before set %s: %s", id,
			     p->arr.last_msg);
	trace_printf("BeginPrepareSnapshot %s: %ld LUN(s), context 0x%lx -> 0x%08lX (%zu in set)",
		     id, (long)lLunCount, (unsigned long)lContext, (unsigned long)hr,
		     p->set.n_luns);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_GetTargetLuns(IVssHardwareSnapshotProviderEx *iface,
						  LONG lLunCount, VSS_PWSZ *rgDeviceNames,
						  VDS_LUN_INFORMATION *rgSourceLuns,
						  VDS_LUN_INFORMATION *rgDestinationLuns)
{
	struct provider *p = impl_from_hw(iface);
	struct vds_lun_info *src, *dst = NULL;
	size_t n = (size_t)lLunCount;
	int bad;
	HRESULT hr;

	if (lLunCount <= 0 || !rgSourceLuns || !rgDestinationLuns)
		return E_INVALIDARG;
	enter(p);
	src = convert_luns(rgSourceLuns, n, &bad);
	if (src)
		dst = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, n * sizeof(*dst));
	if (!src || !dst) {
		hr = bad ? E_INVALIDARG : E_OUTOFMEMORY;
		goto out;
	}
	hr = snapset_target_luns(&p->set, src, n, dst);
	if (hr == VSS_E_PROVIDER_VETO) /* a veto needs its event */
		evlog_report(MSG_VETO_COMMIT,
			     "GetTargetLuns: the array's SNAPSET_COMMIT reply named no snapshot "
			     "of a LUN in the set (%ld LUN(s) asked, %zu snapshot(s) reported)",
			     (long)lLunCount, p->set.n_targets);
	if (hr != S_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		/* whatever the caller put there is replaced, as the COM stub would */
		lun_free_vds(&rgDestinationLuns[i]);
		hr = lun_to_vds(&rgDestinationLuns[i], &dst[i], &rgSourceLuns[i]);
		if (hr != S_OK) {
			for (size_t j = 0; j < i; j++)
				lun_free_vds(&rgDestinationLuns[j]);
			break;
		}
	}
out:
	free_luns(src);
	free_luns(dst);
	trace_printf("GetTargetLuns: %ld LUN(s) -> 0x%08lX", (long)lLunCount, (unsigned long)hr);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_LocateLuns(IVssHardwareSnapshotProviderEx *iface,
					       LONG lLunCount, VDS_LUN_INFORMATION *rgSourceLuns)
{
	struct provider *p = impl_from_hw(iface);
	struct vds_lun_info *luns;
	char iqn[CFG_IQN_MAX];
	int bad, rc;
	DWORD err;
	HRESULT hr;

	if (lLunCount <= 0 || !rgSourceLuns)
		return E_INVALIDARG;
	enter(p);
	luns = convert_luns(rgSourceLuns, (size_t)lLunCount, &bad);
	if (!luns) {
		leave(p);
		return bad ? E_INVALIDARG : E_OUTOFMEMORY;
	}
	rc = ensure_client(p, 0);
	if (rc) {
		evlog_report(MSG_VETO_LOCATE, "array not reachable: %s", p->arr.last_msg);
		hr = VSS_E_PROVIDER_VETO;
		goto out;
	}
	err = config_initiator_iqn(&p->cfg, iqn, sizeof(iqn));
	if (err) {
		evlog_report(MSG_VETO_LOCATE,
			     "this host's iSCSI initiator name is unknown (Win32 error %lu); "
			     "set InitiatorIqn",
			     (unsigned long)err);
		hr = VSS_E_PROVIDER_VETO;
		goto out;
	}
	/* map only: VSS rescans and waits for the disks itself [MS-LOCATE] */
	rc = array_locate(&p->arr, luns, (size_t)lLunCount, iqn);
	hr = hr_from_array(rc, 0);
	if (rc)
		evlog_report(MSG_VETO_LOCATE, "mapping %ld LUN(s) to %s: %s", (long)lLunCount, iqn,
			     p->arr.last_msg);
	trace_printf("LocateLuns: %ld LUN(s) to %s -> 0x%08lX", (long)lLunCount, iqn,
		     (unsigned long)hr);
out:
	free_luns(luns);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_OnLunEmpty(IVssHardwareSnapshotProviderEx *iface,
					       VSS_PWSZ wszDeviceName,
					       VDS_LUN_INFORMATION *pInformation)
{
	struct provider *p = impl_from_hw(iface);
	struct vds_lun_info lun;
	HRESULT hr = S_OK;
	int rc;

	if (!pInformation || lun_from_vds(&lun, pInformation))
		return E_INVALIDARG;
	enter(p);
	rc = ensure_client(p, 0);
	if (rc) {
		evlog_report(MSG_VETO_LUN_EMPTY, "array not reachable: %s", p->arr.last_msg);
		hr = VSS_E_PROVIDER_VETO;
	} else {
		rc = array_lun_empty(&p->arr, &lun);
		if (rc == PROTO_ENOENT) {
			/* best-effort call; already gone is what was asked for */
			trace_printf("OnLunEmpty: LUN already gone");
		} else if (rc) {
			hr = VSS_E_PROVIDER_VETO;
			evlog_report(MSG_VETO_LUN_EMPTY, "LUN serial %s: %s", lun.serial,
				     p->arr.last_msg);
		}
	}
	trace_printf("OnLunEmpty: serial %s -> 0x%08lX", lun.serial, (unsigned long)hr);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_GetProviderCapabilities(IVssHardwareSnapshotProviderEx *iface,
							    ULONGLONG *pllOriginalCapabilityMask)
{
	if (!pllOriginalCapabilityMask)
		return E_INVALIDARG;
	/* what is really implemented; see docs/provider.md "Capabilities" */
	*pllOriginalCapabilityMask = VSS_PRV_CAPABILITY_LEGACY | VSS_PRV_CAPABILITY_COMPLIANT |
				     VSS_PRV_CAPABILITY_LUN_RESYNC |
				     VSS_PRV_CAPABILITY_DIFFERENTIAL;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE hw_OnLunStateChange(IVssHardwareSnapshotProviderEx *iface,
						     VDS_LUN_INFORMATION *pSnapshotLuns,
						     VDS_LUN_INFORMATION *pOriginalLuns,
						     DWORD dwCount, DWORD dwFlags)
{
	struct provider *p = impl_from_hw(iface);
	struct vds_lun_info *luns;
	char iqn[CFG_IQN_MAX] = "";
	HRESULT hr = S_OK;
	int bad, rc = 0;
	const DWORD rw =
	    VSS_ONLUNSTATECHANGE_NOTIFY_READ_WRITE | VSS_ONLUNSTATECHANGE_NOTIFY_LUN_PRE_RECOVERY;

	if (dwCount && !pSnapshotLuns)
		return E_INVALIDARG;
	if (!dwCount)
		return S_OK;
	enter(p);
	luns = convert_luns(pSnapshotLuns, dwCount, &bad);
	if (!luns) {
		leave(p);
		return bad ? E_INVALIDARG : E_OUTOFMEMORY;
	}
	if (dwFlags & (VSS_ONLUNSTATECHANGE_DO_MASK_LUNS | rw)) {
		rc = ensure_client(p, 0);
		if (rc) {
			evlog_report(MSG_VETO_LUN_STATE, "flags 0x%lx: array not reachable: %s",
				     (unsigned long)dwFlags, p->arr.last_msg);
			hr = VSS_E_PROVIDER_VETO;
			goto out;
		}
	}
	if (dwFlags & VSS_ONLUNSTATECHANGE_DO_MASK_LUNS) {
		DWORD err = config_initiator_iqn(&p->cfg, iqn, sizeof(iqn));

		if (err) {
			evlog_report(MSG_VETO_LUN_STATE,
				     "mask: this host's iSCSI initiator name is unknown (Win32 "
				     "error %lu)",
				     (unsigned long)err);
			hr = VSS_E_PROVIDER_VETO;
			goto out;
		}
		/* mask = unmap from this host; the LUN itself is kept [MS-ONLUNSTATE] */
		for (DWORD i = 0; i < dwCount && !rc; i++)
			rc = array_mask(&p->arr, &luns[i], iqn);
	}
	/* permanently (break) or temporarily (auto-recovery) read-write at the array */
	if (!rc && (dwFlags & rw))
		for (DWORD i = 0; i < dwCount && !rc; i++)
			rc = array_make_rw(&p->arr, &luns[i]);
	if (rc) {
		hr = VSS_E_PROVIDER_VETO;
		evlog_report(MSG_VETO_LUN_STATE, "flags 0x%lx, %lu LUN(s): %s",
			     (unsigned long)dwFlags, (unsigned long)dwCount, p->arr.last_msg);
	} else {
		evlog_report(MSG_LUN_STATE, "flags 0x%lx, %lu LUN(s)%s%s", (unsigned long)dwFlags,
			     (unsigned long)dwCount,
			     (dwFlags & VSS_ONLUNSTATECHANGE_DO_MASK_LUNS) ? ", masked from " : "",
			     iqn);
	}
out:
	trace_printf("OnLunStateChange: flags 0x%lx, %lu LUN(s) -> 0x%08lX", (unsigned long)dwFlags,
		     (unsigned long)dwCount, (unsigned long)hr);
	free_luns(luns);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_ResyncLuns(IVssHardwareSnapshotProviderEx *iface,
					       VDS_LUN_INFORMATION *pSourceLuns,
					       VDS_LUN_INFORMATION *pTargetLuns, DWORD dwCount,
					       IVssAsync **ppAsync)
{
	struct provider *p = impl_from_hw(iface);
	struct vds_lun_info *src = NULL, *dst = NULL;
	int bad1 = 0, bad2 = 0;
	HRESULT hr;

	if (!ppAsync)
		return E_INVALIDARG;
	*ppAsync = NULL;
	if (!dwCount || !pSourceLuns || !pTargetLuns)
		return E_INVALIDARG;
	enter(p);
	src = convert_luns(pSourceLuns, dwCount, &bad1);
	dst = src ? convert_luns(pTargetLuns, dwCount, &bad2) : NULL;
	if (!src || !dst) {
		hr = (bad1 || bad2) ? E_INVALIDARG : E_OUTOFMEMORY;
		goto out;
	}
	if (ensure_config(p) || !p->cfg.have_key) {
		evlog_report(MSG_RESYNC_FAILED, "no usable configuration (ControlKey)");
		hr = VSS_E_PROVIDER_VETO;
		goto out;
	}
	/* the array reverts in place; the worker has its own connection */
	hr = resync_start(&p->cfg, src, dst, dwCount, ppAsync);
out:
	trace_printf("ResyncLuns: %lu LUN(s) -> 0x%08lX", (unsigned long)dwCount,
		     (unsigned long)hr);
	free_luns(src);
	free_luns(dst);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE hw_OnReuseLuns(IVssHardwareSnapshotProviderEx *iface,
						VDS_LUN_INFORMATION *pSnapshotLuns,
						VDS_LUN_INFORMATION *pOriginalLuns, DWORD dwCount)
{
	struct provider *p = impl_from_hw(iface);

	enter(p);
	/* reserved by VSS; we recycle nothing (no RECYCLING capability) */
	evlog_report(MSG_REUSE_LUNS, "%lu LUN(s)", (unsigned long)dwCount);
	leave(p);
	return S_OK;
}

static const IVssHardwareSnapshotProviderExVtbl hw_vtbl = {
    hw_QueryInterface,	 hw_AddRef,
    hw_Release,		 hw_AreLunsSupported,
    hw_FillInLunInfo,	 hw_BeginPrepareSnapshot,
    hw_GetTargetLuns,	 hw_LocateLuns,
    hw_OnLunEmpty,	 hw_GetProviderCapabilities,
    hw_OnLunStateChange, hw_ResyncLuns,
    hw_OnReuseLuns,
};

/* ---- IVssProviderCreateSnapshotSet --------------------------------------- */

static HRESULT STDMETHODCALLTYPE cs_QueryInterface(IVssProviderCreateSnapshotSet *iface,
						   REFIID riid, void **out)
{
	return prov_qi(impl_from_create(iface), riid, out);
}

static ULONG STDMETHODCALLTYPE cs_AddRef(IVssProviderCreateSnapshotSet *iface)
{
	return prov_addref(impl_from_create(iface));
}

static ULONG STDMETHODCALLTYPE cs_Release(IVssProviderCreateSnapshotSet *iface)
{
	return prov_release(impl_from_create(iface));
}

static HRESULT STDMETHODCALLTYPE cs_EndPrepareSnapshots(IVssProviderCreateSnapshotSet *iface,
							VSS_ID SnapshotSetId)
{
	struct provider *p = impl_from_create(iface);
	struct set_bytes sb = set_id_bytes(&SnapshotSetId);
	const uint8_t *sid = sb.b;
	char id[39];
	HRESULT hr;

	enter(p);
	guid_text(&SnapshotSetId, id);
	p->set.last_array_err = 0;
	/* open both connections now, so commit never connects (unless a link dropped) */
	if (p->set.state == SNAPSET_PREPARING && !memcmp(p->set.id, sid, 16) &&
	    ensure_client(p, 1)) {
		evlog_report(MSG_VETO_PREPARE, "set %s: array not reachable: %s", id,
			     p->arr.last_msg);
		hr = VSS_E_PROVIDER_VETO;
		goto out;
	}
	hr = snapset_end_prepare(&p->set, sid);
	if (hr == VSS_E_PROVIDER_VETO) {
		evlog_report(MSG_VETO_PREPARE, "set %s, %zu LUN(s): array status %d (%s)", id,
			     p->set.n_luns, p->set.last_array_err, p->arr.last_msg);
		hr = hr_from_array(p->set.last_array_err, 1);
	}
out:
	trace_printf("EndPrepareSnapshots %s -> 0x%08lX", id, (unsigned long)hr);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE cs_PreCommitSnapshots(IVssProviderCreateSnapshotSet *iface,
						       VSS_ID SnapshotSetId)
{
	struct provider *p = impl_from_create(iface);
	struct client_reply rep;
	char id[39];
	HRESULT hr;
	int rc;

	enter(p);
	guid_text(&SnapshotSetId, id);
	hr = snapset_precommit(&p->set, set_id_bytes(&SnapshotSetId).b);
	if (hr == S_OK) {
		/* warm the commit connection (one cheap round trip) before Flush-and-Hold */
		rc = -PROTO_ECONNECT;
		/* the commit client makes one attempt per call; a link that went
		 * stale while idle gets one reconnect here, outside the window */
		for (int i = 0; i < 2 && rc && p->commit_client; i++)
			rc = client_call(p->commit_client, PROTO_MSG_VERSION,
					 client_new_reqid(p->commit_client), NULL, &rep);
		if (rc == 0)
			client_reply_free(&rep);
		else {
			evlog_report(MSG_VETO_PREPARE,
				     "set %s: array not reachable before commit: %s", id,
				     proto_strerror(rc));
			hr = VSS_E_PROVIDER_VETO;
		}
	}
	trace_printf("PreCommitSnapshots %s -> 0x%08lX", id, (unsigned long)hr);
	leave(p);
	return hr;
}

/* cs within COMMIT_LOCK_WAIT_MS, or 0: no I/O, only the clock and short sleeps */
static int enter_commit(struct provider *p)
{
	LARGE_INTEGER f, t0, t;

	if (TryEnterCriticalSection(&p->cs))
		return 1;
	if (!QueryPerformanceFrequency(&f) || !f.QuadPart)
		return 0;
	QueryPerformanceCounter(&t0);
	do {
		Sleep(1);
		if (TryEnterCriticalSection(&p->cs))
			return 1;
		QueryPerformanceCounter(&t);
	} while ((t.QuadPart - t0.QuadPart) * 1000 < (LONGLONG)COMMIT_LOCK_WAIT_MS * f.QuadPart);
	return 0;
}

static HRESULT STDMETHODCALLTYPE cs_CommitSnapshots(IVssProviderCreateSnapshotSet *iface,
						    VSS_ID SnapshotSetId)
{
	struct provider *p = impl_from_create(iface);
	LARGE_INTEGER t0, t1;
	HRESULT hr;

	/*
	 * Flush-and-Hold window: one array request (snapset_commit ->
	 * shell_commit -> SNAPSET_COMMIT on the pre-opened commit client)
	 * and memory writes.  No trace, no event, no registry: enter() and
	 * leave() are not used; the next call reports commit_note.  A lock
	 * held elsewhere for too long is a veto (the set stays precommitted
	 * and VSS aborts it), reported by the next call.
	 */
	if (!enter_commit(p)) {
		InterlockedIncrement(&p->commit_lock_busy);
		return VSS_E_PROVIDER_VETO;
	}
	QueryPerformanceCounter(&t0);
	p->set.last_array_err = 0;
	hr = snapset_commit(&p->set, set_id_bytes(&SnapshotSetId).b);
	QueryPerformanceCounter(&t1);
	p->commit_note.have = 1;
	p->commit_note.hr = hr;
	p->commit_note.status = (uint32_t)p->set.last_array_err;
	memcpy(p->commit_note.msg, p->arr.last_msg, sizeof(p->commit_note.msg));
	p->commit_note.msg[sizeof(p->commit_note.msg) - 1] = '\0';
	memcpy(p->commit_note.set_id, &SnapshotSetId, 16);
	p->commit_note.ticks = t1.QuadPart - t0.QuadPart;
	LeaveCriticalSection(&p->cs);
	return hr;
}

static HRESULT STDMETHODCALLTYPE cs_PostCommitSnapshots(IVssProviderCreateSnapshotSet *iface,
							VSS_ID SnapshotSetId, LONG lSnapshotsCount)
{
	struct provider *p = impl_from_create(iface);
	char id[39];
	HRESULT hr;

	enter(p);
	guid_text(&SnapshotSetId, id);
	hr = snapset_postcommit(&p->set, set_id_bytes(&SnapshotSetId).b, lSnapshotsCount);
	trace_printf("PostCommitSnapshots %s, %ld -> 0x%08lX (%zu snapshot LUN(s))", id,
		     (long)lSnapshotsCount, (unsigned long)hr, p->set.n_targets);
	leave(p);
	return hr;
}

static HRESULT final_commit(IVssProviderCreateSnapshotSet *iface, VSS_ID *set_id, const char *name,
			    int post)
{
	struct provider *p = impl_from_create(iface);
	char id[39];
	HRESULT hr;

	enter(p);
	guid_text(set_id, id);
	hr = snapset_final_commit(&p->set, set_id_bytes(set_id).b, post);
	trace_printf("%s %s -> 0x%08lX", name, id, (unsigned long)hr);
	leave(p);
	return hr;
}

static HRESULT STDMETHODCALLTYPE cs_PreFinalCommitSnapshots(IVssProviderCreateSnapshotSet *iface,
							    VSS_ID SnapshotSetId)
{
	return final_commit(iface, &SnapshotSetId, "PreFinalCommitSnapshots", 0);
}

static HRESULT STDMETHODCALLTYPE cs_PostFinalCommitSnapshots(IVssProviderCreateSnapshotSet *iface,
							     VSS_ID SnapshotSetId)
{
	return final_commit(iface, &SnapshotSetId, "PostFinalCommitSnapshots", 1);
}

static HRESULT STDMETHODCALLTYPE cs_AbortSnapshots(IVssProviderCreateSnapshotSet *iface,
						   VSS_ID SnapshotSetId)
{
	struct provider *p = impl_from_create(iface);
	char id[39];
	HRESULT hr;

	enter(p); /* reports a failed commit's event first */
	guid_text(&SnapshotSetId, id);
	p->set.last_array_err = 0;
	hr = snapset_abort(&p->set, set_id_bytes(&SnapshotSetId).b);
	if (hr == VSS_E_PROVIDER_VETO)
		evlog_report(MSG_VETO_ABORT, "set %s: %s", id, p->arr.last_msg);
	trace_printf("AbortSnapshots %s -> 0x%08lX", id, (unsigned long)hr);
	leave(p);
	return hr;
}

static const IVssProviderCreateSnapshotSetVtbl cs_vtbl = {
    cs_QueryInterface,
    cs_AddRef,
    cs_Release,
    cs_EndPrepareSnapshots,
    cs_PreCommitSnapshots,
    cs_CommitSnapshots,
    cs_PostCommitSnapshots,
    cs_PreFinalCommitSnapshots,
    cs_PostFinalCommitSnapshots,
    cs_AbortSnapshots,
};

/* ---- IVssProviderNotifications ---------------------------------------- */

static HRESULT STDMETHODCALLTYPE nt_QueryInterface(IVssProviderNotifications *iface, REFIID riid,
						   void **out)
{
	return prov_qi(impl_from_notify(iface), riid, out);
}

static ULONG STDMETHODCALLTYPE nt_AddRef(IVssProviderNotifications *iface)
{
	return prov_addref(impl_from_notify(iface));
}

static ULONG STDMETHODCALLTYPE nt_Release(IVssProviderNotifications *iface)
{
	return prov_release(impl_from_notify(iface));
}

static HRESULT STDMETHODCALLTYPE nt_OnLoad(IVssProviderNotifications *iface, IUnknown *pCallback)
{
	struct provider *p = impl_from_notify(iface);

	/* providers are loaded often: nothing slow, the array is reached lazily */
	enter(p);
	ensure_config(p);
	trace_printf("OnLoad");
	leave(p);
	return S_OK;
}

static int set_live(enum snapset_state st)
{
	return st == SNAPSET_PREPARING || st == SNAPSET_PREPARED || st == SNAPSET_PRECOMMITTED ||
	       st == SNAPSET_COMMITTED;
}

static HRESULT STDMETHODCALLTYPE nt_OnUnload(IVssProviderNotifications *iface, WINBOOL bForceUnload)
{
	struct provider *p = impl_from_notify(iface);
	HRESULT hr = S_OK;

	enter(p);
	if (set_live(p->set.state)) {
		if (!bForceUnload) {
			/* a creation is in progress: ask to stay (allowed only without force) */
			trace_printf("OnUnload: set %s, staying", snapset_state_name(p->set.state));
			leave(p);
			return S_FALSE;
		}
		/* forced during creation: treat as abort, as the SDK sample does */
		if (snapset_abort(&p->set, p->set.id) == VSS_E_PROVIDER_VETO)
			evlog_report(MSG_VETO_ABORT, "forced unload: %s", p->arr.last_msg);
	}
	if (p->set.state == SNAPSET_POSTCOMMITTED || p->set.state == SNAPSET_CREATED ||
	    p->set.state == SNAPSET_ABORTED)
		snapset_release(&p->set, p->set.id);
	close_clients(p);
	trace_printf("OnUnload(%d) -> S_OK", (int)bForceUnload);
	leave(p);
	return hr;
}

static const IVssProviderNotificationsVtbl nt_vtbl = {
    nt_QueryInterface, nt_AddRef, nt_Release, nt_OnLoad, nt_OnUnload,
};

/* ---- creation ------------------------------------------------------------ */

HRESULT provider_create(REFIID riid, void **out)
{
	struct provider *p;
	HRESULT hr;

	*out = NULL;
	/* large (the set keeps up to 64 LUNs and targets): heap, zeroed */
	p = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*p));
	if (!p)
		return E_OUTOFMEMORY;
	p->IVssHardwareSnapshotProviderEx_iface.lpVtbl = &hw_vtbl;
	p->IVssProviderCreateSnapshotSet_iface.lpVtbl = &cs_vtbl;
	p->IVssProviderNotifications_iface.lpVtbl = &nt_vtbl;
	p->ref = 1;
	InitializeCriticalSection(&p->cs);
	snapset_init(&p->set, &shell_ops, p);
	InterlockedIncrement(&g_dll_refs);
	hr = prov_qi(p, riid, out);
	prov_release(p); /* drops the creation reference; QI holds the caller's */
	return hr;
}

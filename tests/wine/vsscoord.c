/*
 * vsscoord: plays the VSS coordinator against the arraysim hardware
 * provider under Wine (Wine has no VSS service, so the harness makes the
 * calls VSS would make, in VSS's order; see vss-provider.md section 3).
 *
 *   vsscoord.exe SCENARIO [options] [LUN-NAME...]
 *
 * Scenarios:
 *   guest       full creation of a set of the named LUNs (3.1), then
 *               LocateLuns + import hook + FillInLunInfo (3.2), optional
 *               resync (3.5) and deletion (3.3); the hooks below make it
 *               usable from the Wine runner and from a real guest lab
 *   import      LocateLuns of a kept GetTargetLuns output (--load) in a new
 *               process = a new provider instance, as on the importing host
 *   delete      FillInLunInfo + OnLunEmpty for each LUN of --load
 *   resync      ResyncLuns(snapshot -> original) for --load, IVssAsync
 *   abort       AbortSnapshots after commit, implicit abort by a new set id,
 *               array unreachable during EndPrepareSnapshots
 *   slowcommit  the array delays SNAPSET_COMMIT past CommitTimeoutMs
 *
 * Options: --iqn IQN (written to InitiatorIqn before the provider loads:
 * the host LocateLuns maps to), --context N (lContext, default 0 =
 * VSS_CTX_BACKUP), --save FILE / --load FILE (kept set), --no-locate,
 * --resync, --delete, --max-commit-ms N (check), --commit-limit-ms N
 * (the provider's CommitTimeoutMs, for slowcommit), --negative.
 *
 * Environment hooks (run by the runner with bash, given arguments):
 *   VSS_HOOK_IDENTIFY NAME...   must print per LUN
 *                 "LUN <n> LABEL <name> INQ <hex> VPD80 <hex> VPD83 <hex>"
 *   VSS_HOOK_FREEZE             after EndPrepareSnapshots, before PreCommit
 *   VSS_HOOK_THAW               after PostCommitSnapshots
 *   VSS_HOOK_IMPORT SERIAL...   after LocateLuns: prints "LUN <n> INQ ..
 *                 VPD80 .. VPD83 .." for each LUN that arrived
 *   VSS_HOOK_RESYNC_VERIFY NAME... after a resync, exit 0 if content is right
 *
 * Output: see host.h.  Exit status 0 iff every check passed.
 */
#define COBJMACROS
#define CONST_VTABLE
#include <windows.h>

#include <objbase.h>
#include <vsprov.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "lunparse.h"
#include "provider_ids.h"
#include "spy.h"

#define MAX_LUNS 64
#define REG_KEY	 L"SOFTWARE\\arraysim\\VssProvider"

static const CLSID clsid_provider = ARRAYSIM_CLSID_INIT;

/* the provider, through each of its interfaces */
struct prov {
	IUnknown *unk;
	IVssHardwareSnapshotProvider *hw;
	IVssHardwareSnapshotProviderEx *hwx;
	IVssProviderCreateSnapshotSet *cs;
	IVssProviderNotifications *nt;
};

/* one snapshot set as VSS holds it */
struct lunset {
	size_t n;
	char names[MAX_LUNS][128];
	WCHAR *dev[MAX_LUNS]; /* device names, as VSS passes them */
	VDS_LUN_INFORMATION src[MAX_LUNS];
	VDS_LUN_INFORMATION dst[MAX_LUNS]; /* GetTargetLuns output */
	int have_dst;
	GUID set_id;
	GUID snap_id[MAX_LUNS];
	LONG ctx;
};

struct opts {
	const char *scenario, *iqn, *save, *load;
	LONG ctx;
	int no_locate, resync, del, negative;
	double max_commit_ms;
	DWORD commit_limit_ms;
	int nnames;
	char **names;
};

static const char *hr_name(HRESULT hr)
{
	switch ((unsigned long)hr) {
	case 0x00000000UL:
		return "S_OK";
	case 0x00000001UL:
		return "S_FALSE";
	case 0x80042306UL:
		return "VSS_E_PROVIDER_VETO";
	case 0x8004230FUL:
		return "VSS_E_UNEXPECTED_PROVIDER_ERROR";
	case 0x80042301UL:
		return "VSS_E_BAD_STATE";
	case 0x80042308UL:
		return "VSS_E_OBJECT_NOT_FOUND";
	case 0x8004231FUL:
		return "VSS_E_INSUFFICIENT_STORAGE";
	case 0x80070057UL:
		return "E_INVALIDARG";
	case 0x8007000EUL:
		return "E_OUTOFMEMORY";
	case 0x80004001UL:
		return "E_NOTIMPL";
	case 0x0004230AUL:
		return "VSS_S_ASYNC_FINISHED";
	case 0x00042309UL:
		return "VSS_S_ASYNC_PENDING";
	default:
		return "other";
	}
}

/* VSS (vss-provider.md section 5) accepts only these from a provider;
 * anything else it turns into VSS_E_UNEXPECTED_PROVIDER_ERROR */
static int hr_allowed(HRESULT hr)
{
	switch ((unsigned long)hr) {
	case 0x00000000UL: /* S_OK */
	case 0x8007000EUL: /* E_OUTOFMEMORY */
	case 0x80070057UL: /* E_INVALIDARG */
	case 0x80070005UL: /* E_ACCESSDENIED */
	case 0x80042301UL: /* VSS_E_BAD_STATE */
	case 0x80042306UL: /* VSS_E_PROVIDER_VETO */
	case 0x80042308UL: /* VSS_E_OBJECT_NOT_FOUND */
	case 0x8004230CUL: /* VSS_E_VOLUME_NOT_SUPPORTED */
	case 0x8004230EUL: /* VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER */
	case 0x80042312UL: /* VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED */
	case 0x80042317UL: /* VSS_E_MAXIMUM_NUMBER_OF_SNAPSHOTS_REACHED */
	case 0x8004231BUL: /* VSS_E_UNSUPPORTED_CONTEXT */
	case 0x8004231FUL: /* VSS_E_INSUFFICIENT_STORAGE */
	case 0x8004232CUL: /* VSS_E_NESTED_VOLUME_LIMIT */
	case 0x800423FEUL: /* VSS_E_CANNOT_REVERT_DISKID */
		return 1;
	default:
		return 0;
	}
}

/* "xxxxxxxx-xxxx-..." of the GUID's bytes in memory order: the form the
 * array shows (the provider hands it the raw 16 bytes of VSS_ID) */
/* the set id as arrayctl shows it: the provider hands the array the
 * RFC 4122 bytes, so this is the GUID's usual text, lower case */
static void guid_array_text(const GUID *g, char out[37])
{
	snprintf(out, 37, "%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 (unsigned long)g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1], g->Data4[2],
		 g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

/* ---- registry: what the runner cannot read back from Wine's event log ---- */

static DWORD event_count(void)
{
	DWORD v = 0, cb = sizeof(v);

	if (RegGetValueW(HKEY_LOCAL_MACHINE, REG_KEY L"\\Status", L"EventCount", RRF_RT_REG_DWORD,
			 NULL, &v, &cb) != ERROR_SUCCESS)
		return 0;
	return v;
}

static void last_event(char *buf, size_t sz)
{
	WCHAR w[512];
	DWORD cb = sizeof(w);

	buf[0] = '\0';
	if (RegGetValueW(HKEY_LOCAL_MACHINE, REG_KEY L"\\Status", L"LastEventText", RRF_RT_REG_SZ,
			 NULL, w, &cb) == ERROR_SUCCESS)
		WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)sz, NULL, NULL);
}

static int set_iqn(const char *iqn)
{
	WCHAR w[256];
	HKEY k;
	LONG rc;

	MultiByteToWideChar(CP_UTF8, 0, iqn, -1, w, 256);
	if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, REG_KEY, 0, NULL, 0, KEY_SET_VALUE, NULL, &k,
			    NULL) != ERROR_SUCCESS)
		return -1;
	rc = RegSetValueExW(k, L"InitiatorIqn", 0, REG_SZ, (const BYTE *)w,
			    (DWORD)((wcslen(w) + 1) * sizeof(WCHAR)));
	RegCloseKey(k);
	return rc == ERROR_SUCCESS ? 0 : -1;
}

/* ---- the provider object ---- */

/*
 * COM activation as VSS does it, but in process (Wine has no proxies for
 * these interfaces).  One object must expose all four interfaces, with
 * one COM identity.
 */
static int prov_open(struct prov *p)
{
	HRESULT hr;
	IUnknown *u2 = NULL;

	memset(p, 0, sizeof(*p));
	hr = CoCreateInstance(&clsid_provider, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown,
			      (void **)&p->unk);
	if (!check(SUCCEEDED(hr), "CoCreateInstance(provider CLSID) (0x%08lx)", (unsigned long)hr))
		return -1;
	check(SUCCEEDED(IUnknown_QueryInterface(p->unk, &IID_IVssHardwareSnapshotProvider,
						(void **)&p->hw)),
	      "QI IVssHardwareSnapshotProvider");
	check(SUCCEEDED(IUnknown_QueryInterface(p->unk, &IID_IVssHardwareSnapshotProviderEx,
						(void **)&p->hwx)),
	      "QI IVssHardwareSnapshotProviderEx (every HW provider must have it)");
	check(SUCCEEDED(IUnknown_QueryInterface(p->unk, &IID_IVssProviderCreateSnapshotSet,
						(void **)&p->cs)),
	      "QI IVssProviderCreateSnapshotSet");
	check(SUCCEEDED(
		  IUnknown_QueryInterface(p->unk, &IID_IVssProviderNotifications, (void **)&p->nt)),
	      "QI IVssProviderNotifications");
	if (!p->hw || !p->hwx || !p->cs || !p->nt)
		return -1;
	/* COM identity: IUnknown from any interface is the same pointer */
	IVssProviderCreateSnapshotSet_QueryInterface(p->cs, &IID_IUnknown, (void **)&u2);
	if (u2) {
		if (u2 != p->unk)
			check(0,
			      "QI(IUnknown) from IVssProviderCreateSnapshotSet is the same object");
		IUnknown_Release(u2);
	}
	/* VSS: OnLoad(NULL) after activation (pCallback is reserved) */
	hr = IVssProviderNotifications_OnLoad(p->nt, NULL);
	check(hr == S_OK, "OnLoad(NULL) -> %s", hr_name(hr));
	return 0;
}

static void prov_close(struct prov *p)
{
	if (p->nt) {
		/* VSS unloads idle providers; with bForceUnload TRUE the answer must be S_OK */
		HRESULT hr = IVssProviderNotifications_OnUnload(p->nt, TRUE);

		check(hr == S_OK, "OnUnload(TRUE) -> %s", hr_name(hr));
		IVssProviderNotifications_Release(p->nt);
	}
	if (p->cs)
		IVssProviderCreateSnapshotSet_Release(p->cs);
	if (p->hwx)
		IVssHardwareSnapshotProviderEx_Release(p->hwx);
	if (p->hw)
		IVssHardwareSnapshotProvider_Release(p->hw);
	if (p->unk)
		IUnknown_Release(p->unk);
	memset(p, 0, sizeof(*p));
	CoFreeUnusedLibraries();
}

/* ---- sets ---- */

static WCHAR *dev_name(const char *label)
{
	WCHAR buf[160];
	WCHAR *w;

	_snwprintf(buf, 160, L"\\\\?\\scsi#disk&ven_arraysim#%hs", label);
	buf[159] = 0;
	w = CoTaskMemAlloc((wcslen(buf) + 1) * sizeof(WCHAR));
	if (w)
		wcscpy(w, buf);
	return w;
}

static void set_free(struct lunset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		lun_free(&s->src[i]);
		lun_free(&s->dst[i]);
		CoTaskMemFree(s->dev[i]);
		s->dev[i] = NULL;
	}
	s->n = 0;
	s->have_dst = 0;
}

/* value after keyword kw in a "KEY value KEY value" line, copied to buf */
static const char *field(const char *line, const char *kw, char *buf, size_t sz)
{
	size_t kl = strlen(kw);

	for (const char *p = line; (p = strstr(p, kw)); p += kl) {
		size_t n = 0;

		if ((p != line && p[-1] != ' ') || p[kl] != ' ')
			continue;
		p += kl + 1;
		while (p[n] && p[n] != ' ' && n + 1 < sz) {
			buf[n] = p[n];
			n++;
		}
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

/* "LUN n [LABEL l] INQ .. VPD80 .. VPD83 .." -> VDS_LUN_INFORMATION */
static int parse_ident(const char *line, VDS_LUN_INFORMATION *out, char *label, size_t labelsz)
{
	static char inq[600], v80[2100], v83[2100];
	char lun[16], why[128];

	if (!field(line, "LUN", lun, sizeof(lun)) || !field(line, "INQ", inq, sizeof(inq)) ||
	    !field(line, "VPD80", v80, sizeof(v80)) || !field(line, "VPD83", v83, sizeof(v83)))
		return -1;
	if (label && !field(line, "LABEL", label, labelsz))
		snprintf(label, labelsz, "lun%s", lun);
	if (lun_from_pages(out, inq, v80, v83, "127.0.0.1", (unsigned)atoi(lun), why,
			   sizeof(why))) {
		note("cannot parse identity of LUN %s: %s", lun, why);
		return -1;
	}
	return 0;
}

/* The storage stack's view of the source LUNs: real INQUIRY/VPD bytes */
static int identify(struct lunset *s, int nnames, char **names)
{
	const char *hook = getenv("VSS_HOOK_IDENTIFY");
	char cmd[16384];
	size_t len;
	struct host_out o;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!check(hook && *hook, "VSS_HOOK_IDENTIFY is set"))
		return -1;
	if (!check(nnames > 0 && nnames <= MAX_LUNS, "1..%d LUN names given (%d)", MAX_LUNS,
		   nnames))
		return -1;
	len = (size_t)snprintf(cmd, sizeof(cmd), "%s", hook);
	for (int i = 0; i < nnames && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " %s", names[i]);
	rc = host_run(&o, "%s", cmd);
	for (size_t i = 0; i < o.n && s->n < MAX_LUNS; i++) {
		char label[128];

		if (strncmp(o.lines[i], "LUN ", 4))
			continue;
		if (parse_ident(o.lines[i], &s->src[s->n], label, sizeof(label)))
			continue;
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", label);
		s->dev[s->n] = dev_name(label);
		s->n++;
	}
	host_out_free(&o);
	return check(
		   rc == 0 && s->n == (size_t)nnames,
		   "identify: INQUIRY + VPD 0x80/0x83 of %d LUNs read over iSCSI (rc %d, got %lu)",
		   nnames, rc, (unsigned long)s->n)
		   ? 0
		   : -1;
}

static void run_hook(const char *env, const char *phase, const char *args)
{
	const char *hook = getenv(env);
	double t0;
	int rc;

	if (!hook || !*hook)
		return;
	t0 = now_ms();
	rc = host_run(NULL, "%s%s%s", hook, args ? " " : "", args ? args : "");
	timeline(phase, "host-hook", now_ms() - t0);
	check(rc == 0, "%s hook (%s) exit %d", phase, env, rc);
}

static double last_ms, t0_;

/* the end of a timed call: print its timeline line, keep its duration */
static HRESULT timed(const char *phase, const char *op, double t0, HRESULT hr)
{
	last_ms = now_ms() - t0;
	timeline(phase, op, last_ms);
	/* VSS turns any other code into VSS_E_UNEXPECTED_PROVIDER_ERROR */
	if (!hr_allowed(hr))
		check(0, "%s returned 0x%08lx, a code VSS does not allow a provider", phase,
		      (unsigned long)hr);
	return hr;
}

/* time one provider call; the comma operator orders the clock reads */
#define TIMED(phase, op, call) (t0_ = now_ms(), timed(phase, op, t0_, (call)))

/*
 * AddToSnapshotSet per LUN: AreLunsSupported (must say TRUE for the
 * array's LUNs, must not touch m_rgInterconnects) then
 * BeginPrepareSnapshot with the same structures.
 */
static int add_to_set(struct prov *p, struct lunset *s)
{
	HRESULT hr;
	int ok_all = 1;

	for (size_t i = 0; i < s->n; i++) {
		BOOL ok = FALSE;
		VDS_INTERCONNECT *ic = s->src[i].m_rgInterconnects;

		hr = TIMED("AreLunsSupported", "LUN_SHOW",
			   IVssHardwareSnapshotProvider_AreLunsSupported(
			       p->hw, 1, s->ctx, &s->dev[i], &s->src[i], &ok));
		ok_all &= check(hr == S_OK && ok, "AreLunsSupported(%s) -> %s, %s", s->names[i],
				hr_name(hr), ok ? "TRUE" : "FALSE");
		check(s->src[i].m_rgInterconnects == ic && s->src[i].m_cInterconnects == 1,
		      "AreLunsSupported left m_rgInterconnects alone (%s)", s->names[i]);
	}
	if (!ok_all)
		return -1;
	CoCreateGuid(&s->set_id);
	for (size_t i = 0; i < s->n; i++) {
		CoCreateGuid(&s->snap_id[i]);
		hr = TIMED("BeginPrepareSnapshot", "-",
			   IVssHardwareSnapshotProvider_BeginPrepareSnapshot(
			       p->hw, s->set_id, s->snap_id[i], s->ctx, 1, &s->dev[i], &s->src[i]));
		if (!check(hr == S_OK, "BeginPrepareSnapshot(%s) -> %s", s->names[i], hr_name(hr)))
			return -1;
	}
	return 0;
}

static void print_set(const struct lunset *s)
{
	char a[37];

	guid_array_text(&s->set_id, a);
	printf("@@SET %s\n", a);
	fflush(stdout);
}

/*
 * DoSnapshotSet from EndPrepareSnapshots to PostCommitSnapshots, with
 * the writers' freeze/thaw hooks where VSS freezes and thaws them.
 * upto_commit: stop right after CommitSnapshots (another provider's
 * commit failed; VSS will abort the whole set).
 */
static int commit_set(struct prov *p, struct lunset *s, double max_commit_ms, int upto_commit)
{
	HRESULT hr;

	print_set(s);
	/* the slow work (array snapset prepare) belongs here */
	hr = TIMED("EndPrepareSnapshots", "LUN_SHOW+SNAPSET_PREPARE",
		   IVssProviderCreateSnapshotSet_EndPrepareSnapshots(p->cs, s->set_id));
	if (!check(hr == S_OK, "EndPrepareSnapshots -> %s (%.1f ms)", hr_name(hr), last_ms))
		return -1;
	run_hook("VSS_HOOK_FREEZE", "Freeze", NULL);
	hr = TIMED("PreCommitSnapshots", "VERSION(ping)",
		   IVssProviderCreateSnapshotSet_PreCommitSnapshots(p->cs, s->set_id));
	if (!check(hr == S_OK, "PreCommitSnapshots -> %s", hr_name(hr)))
		return -1;
	/* Flush-and-Hold: one array commit, < 1 s target, 10 s hard limit */
	hr = TIMED("CommitSnapshots", "SNAPSET_COMMIT",
		   IVssProviderCreateSnapshotSet_CommitSnapshots(p->cs, s->set_id));
	if (!check(hr == S_OK, "CommitSnapshots -> %s (%.1f ms)", hr_name(hr), last_ms))
		return -1;
	printf("CommitSnapshots for %lu LUNs: %.1f ms\n", (unsigned long)s->n, last_ms);
	if (max_commit_ms > 0)
		check(last_ms < max_commit_ms,
		      "CommitSnapshots for %lu LUNs took %.1f ms < %.0f ms", (unsigned long)s->n,
		      last_ms, max_commit_ms);
	check(last_ms < 1000, "CommitSnapshots inside the flush-and-hold budget (< 1 s)");
	if (upto_commit)
		return 0;
	hr = TIMED("PostCommitSnapshots", "-",
		   IVssProviderCreateSnapshotSet_PostCommitSnapshots(p->cs, s->set_id, (LONG)s->n));
	if (!check(hr == S_OK, "PostCommitSnapshots -> %s", hr_name(hr)))
		return -1;
	run_hook("VSS_HOOK_THAW", "Thaw", NULL);
	return 0;
}

/*
 * GetTargetLuns: VSS passes zeroed destination structs, one per source
 * LUN; the provider fills what the snapshot LUN WILL report over iSCSI.
 */
static int target_luns(struct prov *p, struct lunset *s)
{
	HRESULT hr;
	char why[128];
	int ok = 1;

	memset(s->dst, 0, sizeof(s->dst));
	hr = TIMED(
	    "GetTargetLuns", "-",
	    IVssHardwareSnapshotProvider_GetTargetLuns(p->hw, (LONG)s->n, s->dev, s->src, s->dst));
	if (!check(hr == S_OK, "GetTargetLuns -> %s", hr_name(hr)))
		return -1;
	s->have_dst = 1;
	for (size_t i = 0; i < s->n; i++) {
		const VDS_LUN_INFORMATION *d = &s->dst[i];
		static const GUID zero;

		/* every pointer member from CoTaskMemAlloc: VSS's stub frees them */
		ok &= check(lun_cotaskmem_owned(d, why, sizeof(why)),
			    "GetTargetLuns[%lu]: memory from CoTaskMemAlloc%s%s", (unsigned long)i,
			    lun_cotaskmem_owned(d, why, sizeof(why)) ? "" : ": ",
			    lun_cotaskmem_owned(d, why, sizeof(why)) ? "" : why);
		ok &= check(d->m_version == VER_VDS_LUN_INFORMATION,
			    "GetTargetLuns[%lu]: m_version = VER_VDS_LUN_INFORMATION",
			    (unsigned long)i);
		ok &= check(!memcmp(&d->m_diskSignature, &zero, sizeof(zero)),
			    "GetTargetLuns[%lu]: m_diskSignature = GUID_NULL", (unsigned long)i);
		/* VSS's uniqueness rule: a type 1/2/3/8 designator, not the origin's */
		ok &= check(
		    lun_has_strong_id(d) && !lun_share_strong_id(d, &s->src[i]),
		    "GetTargetLuns[%lu]: own unique page-0x83 identifier (not the original's)",
		    (unsigned long)i);
		ok &= check(d->m_szSerialNumber && s->src[i].m_szSerialNumber &&
				strcmp(d->m_szSerialNumber, s->src[i].m_szSerialNumber),
			    "GetTargetLuns[%lu]: own unit serial", (unsigned long)i);
	}
	return ok ? 0 : -1;
}

static int final_commit(struct prov *p, struct lunset *s)
{
	/* auto-recovery window; nothing for this provider to do but accept */
	HRESULT hr = TIMED("PreFinalCommitSnapshots", "-",
			   IVssProviderCreateSnapshotSet_PreFinalCommitSnapshots(p->cs, s->set_id));

	check(hr == S_OK, "PreFinalCommitSnapshots -> %s", hr_name(hr));
	hr = TIMED("PostFinalCommitSnapshots", "-",
		   IVssProviderCreateSnapshotSet_PostFinalCommitSnapshots(p->cs, s->set_id));
	return check(hr == S_OK, "PostFinalCommitSnapshots -> %s", hr_name(hr)) ? 0 : -1;
}

/*
 * Import: LocateLuns (map to this host, no rescan), then what VSS's
 * rescan finds (the import hook reads the arrived LUNs over an iSCSI
 * session that was open before), FillInLunInfo for each arrived disk,
 * and VSS's comparison with the GetTargetLuns data.
 */
static int locate_and_import(struct prov *p, struct lunset *s)
{
	VDS_LUN_INFORMATION arrived[MAX_LUNS];
	char args[MAX_LUNS * 40] = "", why[128];
	size_t na = 0, len = 0, matched = 0;
	struct host_out o;
	HRESULT hr;
	double t0;
	int rc;

	hr = TIMED("LocateLuns", "HOST_LIST+MAP",
		   IVssHardwareSnapshotProvider_LocateLuns(p->hw, (LONG)s->n, s->dst));
	if (!check(hr == S_OK, "LocateLuns -> %s (%.1f ms)", hr_name(hr), last_ms))
		return -1;
	if (!getenv("VSS_HOOK_IMPORT") || !*getenv("VSS_HOOK_IMPORT")) {
		note("no VSS_HOOK_IMPORT: arrivals not checked");
		return 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		char serial[256];

		lun_serial(&s->dst[i], serial, sizeof(serial));
		len +=
		    (size_t)snprintf(args + len, sizeof(args) - len, "%s%s", i ? " " : "", serial);
	}
	t0 = now_ms();
	rc = host_run(&o, "%s %s", getenv("VSS_HOOK_IMPORT"), args);
	timeline("Rescan", "host-hook", now_ms() - t0);
	check(rc == 0, "import hook exit %d", rc);
	for (size_t i = 0; i < o.n; i++) {
		if (strncmp(o.lines[i], "LUN ", 4)) {
			note("import: %s", o.lines[i]);
			continue;
		}
		if (na < MAX_LUNS && !parse_ident(o.lines[i], &arrived[na], NULL, 0))
			na++;
	}
	host_out_free(&o);
	check(na == s->n, "%lu snapshot LUNs arrived on the host's open session (want %lu)",
	      (unsigned long)na, (unsigned long)s->n);
	for (size_t a = 0; a < na; a++) {
		VDS_LUN_INFORMATION *l = &arrived[a];
		VDS_INTERCONNECT *ic = l->m_rgInterconnects;
		WCHAR *dev = dev_name("arrived");
		size_t k;
		BOOL ok = FALSE;

		/* the LUN's real identifiers equal what GetTargetLuns promised */
		for (k = 0; k < s->n; k++)
			if (lun_share_strong_id(l, &s->dst[k]))
				break;
		if (!check(k < s->n,
			   "arrived LUN %lu matches a GetTargetLuns entry by page-0x83 id",
			   (unsigned long)a)) {
			CoTaskMemFree(dev);
			continue;
		}
		check(lun_equal(l, &s->dst[k], why, sizeof(why)),
		      "arrived LUN's INQUIRY/VPD (own parser) == GetTargetLuns[%lu]%s%s",
		      (unsigned long)k, lun_equal(l, &s->dst[k], why, sizeof(why)) ? "" : ": ",
		      lun_equal(l, &s->dst[k], why, sizeof(why)) ? "" : why);
		hr = TIMED("FillInLunInfo", "LUN_SHOW",
			   IVssHardwareSnapshotProvider_FillInLunInfo(p->hw, dev, l, &ok));
		check(hr == S_OK && ok, "FillInLunInfo(arrived %lu) -> %s, %s", (unsigned long)a,
		      hr_name(hr), ok ? "TRUE" : "FALSE");
		check(l->m_rgInterconnects == ic, "FillInLunInfo left m_rgInterconnects alone");
		/* VSS's import match: FillInLunInfo output == GetTargetLuns output */
		if (check(lun_equal(l, &s->dst[k], why, sizeof(why)),
			  "FillInLunInfo(arrived) == GetTargetLuns[%lu]%s%s", (unsigned long)k,
			  lun_equal(l, &s->dst[k], why, sizeof(why)) ? "" : ": ",
			  lun_equal(l, &s->dst[k], why, sizeof(why)) ? "" : why))
			matched++;
		lun_free(l);
		CoTaskMemFree(dev);
	}
	return check(matched == s->n,
		     "all %lu snapshot LUNs imported (else VSS_S_SOME_SNAPSHOTS_NOT_IMPORTED)",
		     (unsigned long)s->n)
		   ? 0
		   : -1;
}

/* FillInLunInfo for a LUN of ours must say TRUE; for a foreign one FALSE */
static void fill_unknown(struct prov *p, const struct lunset *s)
{
	VDS_LUN_INFORMATION l;
	BOOL ok = TRUE;
	WCHAR *dev = dev_name("foreign");
	HRESULT hr;

	lun_copy(&l, &s->src[0]);
	CoTaskMemFree(l.m_szVendorId);
	l.m_szVendorId = CoTaskMemAlloc(9);
	memcpy(l.m_szVendorId, "OTHERVND", 9);
	for (ULONG i = 0; i < l.m_deviceIdDescriptor.m_cIdentifiers; i++)
		if (l.m_deviceIdDescriptor.m_rgIdentifiers[i].m_cbIdentifier)
			l.m_deviceIdDescriptor.m_rgIdentifiers[i].m_rgbIdentifier[1] ^= 0x5a;
	hr = IVssHardwareSnapshotProvider_AreLunsSupported(p->hw, 1, 0, &dev, &l, &ok);
	check(hr == S_OK && !ok, "AreLunsSupported(foreign vendor and ids) -> %s, %s (want FALSE)",
	      hr_name(hr), ok ? "TRUE" : "FALSE");
	ok = TRUE;
	hr = IVssHardwareSnapshotProvider_FillInLunInfo(p->hw, dev, &l, &ok);
	check(hr == S_OK && !ok, "FillInLunInfo(foreign LUN) -> %s, %s (want S_OK, FALSE)",
	      hr_name(hr), ok ? "TRUE" : "FALSE");
	lun_free(&l);
	/* an unsupported context: CLIENT_ACCESSIBLE is the system provider's only */
	ok = TRUE;
	hr = IVssHardwareSnapshotProvider_AreLunsSupported(p->hw, 1, 0x1d, (VSS_PWSZ *)&s->dev[0],
							   (VDS_LUN_INFORMATION *)&s->src[0], &ok);
	check(hr == S_OK && !ok,
	      "AreLunsSupported in VSS_CTX_CLIENT_ACCESSIBLE -> %s, %s (want FALSE)", hr_name(hr),
	      ok ? "TRUE" : "FALSE");
	CoTaskMemFree(dev);
}

/*
 * Deletion (3.3): VSS calls FillInLunInfo for the disk, then OnLunEmpty;
 * the provider unmaps and deletes the snapshot LUN.  The disk's data is
 * rebuilt (fresh CoTaskMemAlloc copies) from what GetTargetLuns gave,
 * which scenario 1 showed equals what the disk reports.
 */
static int delete_luns(struct prov *p, struct lunset *s)
{
	int ok = 1;

	for (size_t i = 0; i < s->n; i++) {
		VDS_LUN_INFORMATION l;
		BOOL sup = FALSE;
		HRESULT hr;

		lun_copy(&l, &s->dst[i]);
		hr = TIMED("FillInLunInfo", "LUN_SHOW",
			   IVssHardwareSnapshotProvider_FillInLunInfo(p->hw, s->dev[i], &l, &sup));
		ok &= check(hr == S_OK && sup, "FillInLunInfo before OnLunEmpty (%lu) -> %s, %s",
			    (unsigned long)i, hr_name(hr), sup ? "TRUE" : "FALSE");
		hr = TIMED("OnLunEmpty", "UNMAP+SNAP_DELETE",
			   IVssHardwareSnapshotProvider_OnLunEmpty(p->hw, s->dev[i], &l));
		ok &= check(hr == S_OK, "OnLunEmpty(%lu) -> %s", (unsigned long)i, hr_name(hr));
		lun_free(&l);
	}
	return ok ? 0 : -1;
}

/*
 * Resync (3.5): ResyncLuns(shadow LUNs -> original LUNs) returns an
 * IVssAsync; VSS waits on it.  The copy is the array's (revert), never
 * the host's.
 */
static int resync_luns(struct prov *p, struct lunset *s)
{
	IVssAsync *async = NULL;
	HRESULT hr, st = E_FAIL;
	char args[MAX_LUNS * 130] = "";
	size_t len = 0;
	double t0 = now_ms();

	hr = IVssHardwareSnapshotProviderEx_ResyncLuns(p->hwx, s->dst, s->src, (DWORD)s->n, &async);
	if (!check(hr == S_OK && async, "ResyncLuns -> %s with an IVssAsync", hr_name(hr)))
		return -1;
	hr = IVssAsync_Wait(async, 60000);
	check(hr == S_OK, "IVssAsync::Wait -> %s", hr_name(hr));
	hr = IVssAsync_QueryStatus(async, &st, NULL);
	check(hr == S_OK && st == VSS_S_ASYNC_FINISHED,
	      "IVssAsync::QueryStatus -> %s, status %s (0x%08lx)", hr_name(hr), hr_name(st),
	      (unsigned long)st);
	IVssAsync_Release(async);
	timeline("ResyncLuns", "REVERT", now_ms() - t0);
	for (size_t i = 0; i < s->n; i++)
		len += (size_t)snprintf(args + len, sizeof(args) - len, "%s%s", i ? " " : "",
					s->names[i]);
	run_hook("VSS_HOOK_RESYNC_VERIFY", "ResyncVerify", args);
	return st == VSS_S_ASYNC_FINISHED ? 0 : -1;
}

/* ---- keeping a set between processes (VSS: the Backup Components Document) ---- */

static int save_set(const struct lunset *s, const char *path)
{
	FILE *f = fopen(path, "w");
	char a[37];

	if (!f)
		return -1;
	guid_array_text(&s->set_id, a);
	fprintf(f, "SET %s\n", a);
	for (size_t i = 0; i < s->n; i++) {
		fprintf(f, "NAME %s\nSRC ", s->names[i]);
		lun_write(f, &s->src[i]);
		fprintf(f, "\nDST ");
		lun_write(f, &s->dst[i]);
		fprintf(f, "\n");
	}
	return fclose(f) ? -1 : 0;
}

static int load_set(struct lunset *s, const char *path)
{
	static char line[65536];
	FILE *f = fopen(path, "r");
	int bad = 0;

	memset(s, 0, sizeof(*s));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "NAME ", 5) && s->n < MAX_LUNS) {
			snprintf(s->names[s->n], sizeof(s->names[0]), "%s", line + 5);
			s->dev[s->n] = dev_name(line + 5);
			s->n++;
		} else if (!strncmp(line, "SRC ", 4) && s->n) {
			bad |= lun_read(line + 4, &s->src[s->n - 1]);
		} else if (!strncmp(line, "DST ", 4) && s->n) {
			bad |= lun_read(line + 4, &s->dst[s->n - 1]);
		}
	}
	fclose(f);
	s->have_dst = 1;
	return bad || !s->n ? -1 : 0;
}

/* ---- scenarios ---- */

/* the creation call order of 3.1 through PostFinalCommitSnapshots */
static int create_full(struct prov *p, struct lunset *s, const struct opts *o)
{
	if (add_to_set(p, s) || commit_set(p, s, o->max_commit_ms, 0) || target_luns(p, s))
		return -1;
	return final_commit(p, s);
}

static int sc_guest(struct prov *p, const struct opts *o)
{
	struct lunset s;
	int rc = -1;

	if (identify(&s, o->nnames, o->names))
		goto out;
	s.ctx = o->ctx;
	if (o->negative)
		fill_unknown(p, &s);
	if (create_full(p, &s, o))
		goto out;
	if (o->save)
		check(!save_set(&s, o->save), "GetTargetLuns output kept in %s", o->save);
	if (!o->no_locate && locate_and_import(p, &s))
		goto out;
	if (o->resync && resync_luns(p, &s))
		goto out;
	if (o->del && delete_luns(p, &s))
		goto out;
	rc = 0;
out:
	set_free(&s);
	return rc;
}

static int sc_import(struct prov *p, const struct opts *o)
{
	struct lunset s;
	int rc;

	if (!check(o->load && !load_set(&s, o->load), "kept set read from %s", o->load))
		return -1;
	rc = locate_and_import(p, &s);
	set_free(&s);
	return rc;
}

static int sc_delete(struct prov *p, const struct opts *o)
{
	struct lunset s;
	int rc;

	if (!check(o->load && !load_set(&s, o->load), "kept set read from %s", o->load))
		return -1;
	rc = delete_luns(p, &s);
	set_free(&s);
	return rc;
}

static int sc_resync(struct prov *p, const struct opts *o)
{
	struct lunset s;
	int rc;

	if (!check(o->load && !load_set(&s, o->load), "kept set read from %s", o->load))
		return -1;
	rc = resync_luns(p, &s);
	set_free(&s);
	return rc;
}

/* runner-side query: how many snapshots of the set the array has */
static int array_set_count(const GUID *set)
{
	char a[37];
	struct host_out o;
	int rc, n = -1;

	guid_array_text(set, a);
	rc = host_run(&o, "h_set_count %s", a);
	if (rc == 0 && o.n)
		n = atoi(o.lines[0]);
	host_out_free(&o);
	return n;
}

static void abort_set(struct prov *p, const GUID *set, const char *why)
{
	HRESULT hr = TIMED("AbortSnapshots", "SNAPSET_ABORT",
			   IVssProviderCreateSnapshotSet_AbortSnapshots(p->cs, *set));

	check(hr == S_OK, "AbortSnapshots (%s) -> %s", why, hr_name(hr));
}

static int sc_abort(struct prov *p, const struct opts *o)
{
	struct lunset s;
	GUID old;
	DWORD ev0;
	HRESULT hr;
	char a[37], text[512];

	if (identify(&s, o->nnames, o->names))
		return -1;
	s.ctx = o->ctx;

	/* 0. a bad call still answers its out-parameter: not supported */
	{
		BOOL ok = TRUE;

		hr =
		    IVssHardwareSnapshotProvider_AreLunsSupported(p->hw, 0, s.ctx, NULL, NULL, &ok);
		check(
		    hr == E_INVALIDARG && ok == FALSE,
		    "AreLunsSupported(0 LUNs) -> %s, *pbIsSupported %s (want E_INVALIDARG, FALSE)",
		    hr_name(hr), ok ? "TRUE" : "FALSE");
		ok = TRUE;
		hr = IVssHardwareSnapshotProvider_FillInLunInfo(p->hw, s.dev[0], NULL, &ok);
		check(hr == E_INVALIDARG && ok == FALSE,
		      "FillInLunInfo(NULL LUN) -> %s, *pbIsSupported %s (want E_INVALIDARG, FALSE)",
		      hr_name(hr), ok ? "TRUE" : "FALSE");
	}

	/* 1. AbortSnapshots after CommitSnapshots: no partial commit in VSS;
	 * when another provider's commit fails, VSS aborts the whole set and
	 * this provider's committed snapshots must go */
	note("abort after commit");
	if (add_to_set(p, &s) || commit_set(p, &s, 0, 1))
		goto out;
	check(array_set_count(&s.set_id) == (int)s.n,
	      "the committed set has %lu snapshots on the array", (unsigned long)s.n);
	abort_set(p, &s.set_id, "after commit");
	check(array_set_count(&s.set_id) == 0,
	      "AbortSnapshots after commit: no snapshot of the set left");

	/* 1b. AbortSnapshots after PostCommit and PreFinalCommit, before
	 * PostFinalCommit: VSS aborts a set whose writers failed at thaw; the
	 * set is not created yet, so its snapshots must go too */
	note("abort after PostCommitSnapshots (writers failed at thaw)");
	if (add_to_set(p, &s) || commit_set(p, &s, 0, 0))
		goto out;
	hr = IVssProviderCreateSnapshotSet_PreFinalCommitSnapshots(p->cs, s.set_id);
	check(hr == S_OK, "PreFinalCommitSnapshots -> %s", hr_name(hr));
	check(array_set_count(&s.set_id) == (int)s.n,
	      "the post-committed set has %lu snapshots on the array", (unsigned long)s.n);
	abort_set(p, &s.set_id, "after PostCommit");
	check(array_set_count(&s.set_id) == 0,
	      "AbortSnapshots after PostCommit: no snapshot of the set left");

	/* 2. implicit abort: VSS never signals a failure before DoSnapshotSet;
	 * a BeginPrepareSnapshot with a new set id means the old set is dead */
	note("implicit abort by a new snapshot set id");
	if (add_to_set(p, &s))
		goto out;
	print_set(&s);
	hr = TIMED("EndPrepareSnapshots", "LUN_SHOW+SNAPSET_PREPARE",
		   IVssProviderCreateSnapshotSet_EndPrepareSnapshots(p->cs, s.set_id));
	check(hr == S_OK, "EndPrepareSnapshots (old set, reserved on the array) -> %s",
	      hr_name(hr));
	old = s.set_id;
	if (add_to_set(p, &s)) /* new set id */
		goto out;
	guid_array_text(&old, a);
	check(host_run(NULL, "h_set_aborted %s", a) == 0,
	      "new set id: the old set's array reservation was aborted (audit: snapset abort %s)",
	      a);
	if (commit_set(p, &s, 0, 1))
		goto out;
	check(array_set_count(&s.set_id) == (int)s.n && array_set_count(&old) == 0,
	      "only the new set's snapshots exist");
	abort_set(p, &s.set_id, "cleanup of the new set");

	/* 3. array unreachable during prepare: EndPrepareSnapshots must veto
	 * (VSS_E_PROVIDER_VETO) and log an event, as VSS requires of a veto */
	note("array unreachable during EndPrepareSnapshots");
	if (add_to_set(p, &s))
		goto out;
	print_set(&s);
	ev0 = event_count();
	check(host_run(NULL, "h_daemon_stop") == 0, "array stopped");
	hr = TIMED("EndPrepareSnapshots", "LUN_SHOW+SNAPSET_PREPARE",
		   IVssProviderCreateSnapshotSet_EndPrepareSnapshots(p->cs, s.set_id));
	check(hr == VSS_E_PROVIDER_VETO,
	      "EndPrepareSnapshots with the array down -> %s (want VSS_E_PROVIDER_VETO), %.0f ms",
	      hr_name(hr), last_ms);
	check(event_count() > ev0, "a veto event was recorded (EventCount %lu -> %lu)",
	      (unsigned long)ev0, (unsigned long)event_count());
	last_event(text, sizeof(text));
	note("last event: %s", text);
	check(host_run(NULL, "h_daemon_start") == 0, "array restarted");
	/* VSS calls AbortSnapshots after a failed DoSnapshotSet */
	abort_set(p, &s.set_id, "after the veto");
	check(array_set_count(&s.set_id) == 0, "no snapshot of the vetoed set");
out:
	set_free(&s);
	return check_failures() ? -1 : 0;
}

/* a second VSS thread in the provider: AreLunsSupported, held up by the array */
struct busy_call {
	struct prov *p;
	struct lunset *s;
	HRESULT hr;
};

static DWORD WINAPI busy_thread(void *arg)
{
	struct busy_call *b = arg;
	BOOL ok = FALSE;

	b->hr = IVssHardwareSnapshotProvider_AreLunsSupported(b->p->hw, 1, b->s->ctx, &b->s->dev[0],
							      &b->s->src[0], &ok);
	return 0;
}

/*
 * Every provider method holds the provider's lock across its array
 * calls (30 s I/O timeout).  CommitSnapshots must not wait behind such a
 * call past the flush-and-hold window: it vetoes quickly instead, and
 * the veto gets its event once the window is over.
 */
static void busy_commit(struct prov *p, struct lunset *s, DWORD limit)
{
	struct busy_call b = {p, s, E_FAIL};
	int delay_ms = (int)limit * 3;
	DWORD ev0;
	HANDLE th;
	HRESULT hr;

	note("CommitSnapshots while another call holds the provider (LUN_SHOW delayed)");
	if (add_to_set(p, s))
		return;
	print_set(s);
	hr = TIMED("EndPrepareSnapshots", "LUN_SHOW+SNAPSET_PREPARE",
		   IVssProviderCreateSnapshotSet_EndPrepareSnapshots(p->cs, s->set_id));
	check(hr == S_OK, "EndPrepareSnapshots -> %s", hr_name(hr));
	hr = TIMED("PreCommitSnapshots", "VERSION(ping)",
		   IVssProviderCreateSnapshotSet_PreCommitSnapshots(p->cs, s->set_id));
	check(hr == S_OK, "PreCommitSnapshots -> %s", hr_name(hr));
	check(host_run(NULL, "h_ctl fault delay lun-show --ms %d --count 1", delay_ms) == 0,
	      "array: next LUN_SHOW delayed by %d ms", delay_ms);
	th = CreateThread(NULL, 0, busy_thread, &b, 0, NULL);
	if (!check(th != NULL, "second caller thread started"))
		return;
	Sleep(300); /* it is inside AreLunsSupported now, waiting for the array */
	ev0 = event_count();
	hr = TIMED("CommitSnapshots", "SNAPSET_COMMIT",
		   IVssProviderCreateSnapshotSet_CommitSnapshots(p->cs, s->set_id));
	check(hr == VSS_E_PROVIDER_VETO,
	      "CommitSnapshots while another call holds the provider -> %s (want "
	      "VSS_E_PROVIDER_VETO)",
	      hr_name(hr));
	check(last_ms < limit + 1000.0,
	      "CommitSnapshots did not wait for the other call: %.0f ms (< %lu)", last_ms,
	      (unsigned long)limit + 1000);
	WaitForSingleObject(th, INFINITE);
	CloseHandle(th);
	check(b.hr == S_OK, "the delayed AreLunsSupported -> %s", hr_name(b.hr));
	abort_set(p, &s->set_id, "after the commit that found the provider busy");
	check(event_count() > ev0,
	      "the veto was recorded as an event after the commit "
	      "(EventCount %lu -> %lu)",
	      (unsigned long)ev0, (unsigned long)event_count());
	check(array_set_count(&s->set_id) == 0, "no snapshot of the vetoed set");
	host_run(NULL, "h_ctl fault clear");
}

/*
 * Slow commit: the array delays SNAPSET_COMMIT past the provider's
 * CommitTimeoutMs.  VSS needs CommitSnapshots back well inside the 10 s
 * flush-and-hold: a veto, quickly; then AbortSnapshots must leave no
 * snapshot behind even though the array finishes the commit later.
 */
static int sc_slowcommit(struct prov *p, const struct opts *o)
{
	struct lunset s;
	DWORD ev0, limit = o->commit_limit_ms ? o->commit_limit_ms : 4000;
	HRESULT hr;
	int delay_ms = (int)limit * 3;

	if (identify(&s, o->nnames, o->names))
		return -1;
	s.ctx = o->ctx;
	busy_commit(p, &s, limit);
	note("SNAPSET_COMMIT delayed past CommitTimeoutMs");
	if (add_to_set(p, &s))
		goto out;
	print_set(&s);
	hr = TIMED("EndPrepareSnapshots", "LUN_SHOW+SNAPSET_PREPARE",
		   IVssProviderCreateSnapshotSet_EndPrepareSnapshots(p->cs, s.set_id));
	check(hr == S_OK, "EndPrepareSnapshots -> %s", hr_name(hr));
	hr = TIMED("PreCommitSnapshots", "VERSION(ping)",
		   IVssProviderCreateSnapshotSet_PreCommitSnapshots(p->cs, s.set_id));
	check(hr == S_OK, "PreCommitSnapshots -> %s", hr_name(hr));
	check(host_run(NULL, "h_ctl fault delay snapset-commit --ms %d", delay_ms) == 0,
	      "array: next SNAPSET_COMMIT delayed by %d ms", delay_ms);
	ev0 = event_count();
	hr = TIMED("CommitSnapshots", "SNAPSET_COMMIT",
		   IVssProviderCreateSnapshotSet_CommitSnapshots(p->cs, s.set_id));
	check(hr == VSS_E_PROVIDER_VETO, "slow CommitSnapshots -> %s (want VSS_E_PROVIDER_VETO)",
	      hr_name(hr));
	check(last_ms < limit + 1000.0,
	      "CommitSnapshots gave up in %.0f ms (< CommitTimeoutMs %lu + 1000, well under 10 s)",
	      last_ms, (unsigned long)limit);
	abort_set(p, &s.set_id, "after the failed commit");
	check(event_count() > ev0,
	      "the commit veto was recorded as an event after the commit (EventCount %lu -> %lu)",
	      (unsigned long)ev0, (unsigned long)event_count());
	{
		char text[512];

		last_event(text, sizeof(text));
		note("last event: %s", text);
	}
	/* let the array finish the delayed commit, then look */
	host_run(NULL, "sleep %.1f", (delay_ms + 500) / 1000.0);
	check(array_set_count(&s.set_id) == 0,
	      "after the array's delayed commit finished: no snapshot of the aborted set");
	host_run(NULL, "h_ctl fault clear");
out:
	set_free(&s);
	return check_failures() ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vsscoord.exe guest|import|delete|resync|abort|slowcommit "
		"[--iqn IQN] [--context N] [--save F] [--load F] [--no-locate] [--resync] "
		"[--delete] [--negative] [--max-commit-ms N] [--commit-limit-ms N] [LUN...]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	if (argc < 2)
		usage();
	o->scenario = argv[1];
	o->names = calloc((size_t)argc, sizeof(char *));
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;

		if (!strcmp(a, "--iqn") && more)
			o->iqn = argv[++i];
		else if (!strcmp(a, "--save") && more)
			o->save = argv[++i];
		else if (!strcmp(a, "--load") && more)
			o->load = argv[++i];
		else if (!strcmp(a, "--context") && more)
			o->ctx = strtol(argv[++i], NULL, 0);
		else if (!strcmp(a, "--max-commit-ms") && more)
			o->max_commit_ms = atof(argv[++i]);
		else if (!strcmp(a, "--commit-limit-ms") && more)
			o->commit_limit_ms = (DWORD)atoi(argv[++i]);
		else if (!strcmp(a, "--no-locate"))
			o->no_locate = 1;
		else if (!strcmp(a, "--resync"))
			o->resync = 1;
		else if (!strcmp(a, "--delete"))
			o->del = 1;
		else if (!strcmp(a, "--negative"))
			o->negative = 1;
		else if (a[0] == '-')
			usage();
		else
			o->names[o->nnames++] = argv[i];
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct prov p;
	struct spy_counts base, end;
	int (*fn)(struct prov *, const struct opts *) = NULL;

	parse_args(argc, argv, &o);
	if (!strcmp(o.scenario, "guest") || !strcmp(o.scenario, "create"))
		fn = sc_guest;
	else if (!strcmp(o.scenario, "import"))
		fn = sc_import;
	else if (!strcmp(o.scenario, "delete"))
		fn = sc_delete;
	else if (!strcmp(o.scenario, "resync"))
		fn = sc_resync;
	else if (!strcmp(o.scenario, "abort"))
		fn = sc_abort;
	else if (!strcmp(o.scenario, "slowcommit"))
		fn = sc_slowcommit;
	else
		usage();

	if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
		return 1;
	check(spy_register() == 0, "CoRegisterMallocSpy");
	spy_counts(&base);
	if (o.iqn)
		check(set_iqn(o.iqn) == 0, "InitiatorIqn = %s (the host LocateLuns maps to)",
		      o.iqn);
	if (!prov_open(&p))
		fn(&p, &o);
	prov_close(&p);

	/* Memory: every CoTaskMemAlloc'd block (the provider's out-parameters
	 * included) has been freed by the harness as VSS's stub would */
	spy_counts(&end);
	printf("@@MEM %s allocs=%lu frees=%lu outstanding=%lu baseline=%lu\n", o.scenario,
	       end.allocs - base.allocs, end.frees - base.frees, end.live, base.live);
	check(end.live == base.live, "CoTaskMem: %lu blocks allocated, %lu freed, %lu leaked",
	      end.allocs - base.allocs, end.frees - base.frees, end.live - base.live);
	check(spy_revoke() == 0, "CoRevokeMallocSpy (refused while spied blocks are live)");
	free(o.names);
	CoUninitialize();
	printf("@@END %s failures=%d\n", o.scenario, check_failures());
	fflush(stdout);
	return check_failures() ? 1 : 0;
}

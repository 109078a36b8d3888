/*
 * provider.h: the provider COM object and what dllmain.c, provider.c
 * and resync.c share.  Wine-style COM in C: one heap object with one
 * vtable pointer per interface, impl_from_* helpers to get back to it.
 */
#ifndef ARRAYSIM_PROV_PROVIDER_H
#define ARRAYSIM_PROV_PROVIDER_H

#define COBJMACROS
#define CONST_VTABLE /* vtables are static const */
#include <windows.h>

#include <objbase.h>
#include <vsprov.h>

#include "array_ops.h"
#include "config.h"
#include "snapset.h"

struct client_cfg;

/* live COM objects + LockServer count: DllCanUnloadNow says S_OK at 0 */
extern LONG g_dll_refs;
extern HMODULE g_module;

struct provider {
	IVssHardwareSnapshotProviderEx IVssHardwareSnapshotProviderEx_iface;
	IVssProviderCreateSnapshotSet IVssProviderCreateSnapshotSet_iface;
	IVssProviderNotifications IVssProviderNotifications_iface;
	LONG ref;
	CRITICAL_SECTION cs; /* every method runs under it */

	int cfg_loaded;
	struct prov_config cfg;
	struct client *main_client;   /* everything but commit */
	struct client *commit_client; /* io timeout CommitTimeoutMs, one attempt */
	struct array_ctx arr;	      /* arr.c is main_client, commit_client during commit */
	struct snapset set;

	/* what CommitSnapshots leaves for the next call to report (no I/O in commit) */
	struct {
		int have;
		int32_t hr;
		uint32_t status;
		char msg[256];
		uint8_t set_id[16];
		LONGLONG ticks; /* QueryPerformanceCounter delta around the array call */
	} commit_note;
	/* CommitSnapshots calls that vetoed because another call held cs too
	 * long; written without cs, reported by the next call */
	volatile LONG commit_lock_busy;
};

HRESULT provider_create(REFIID riid, void **out);

/* ResyncLuns' IVssAsync: runs the reverts on a worker thread with its own client */
HRESULT resync_start(const struct prov_config *cfg, const struct vds_lun_info *snaps,
		     const struct vds_lun_info *targets, size_t n, IVssAsync **out);

/* client settings shared by the provider and the resync worker */
void provider_client_cfg(const struct prov_config *cfg, struct client_cfg *cc, int for_commit);

/* array status code -> the HRESULT VSS accepts from a provider */
HRESULT hr_from_array(int rc, int storage_allowed);

/* "{xxxxxxxx-...}" of a 16-byte GUID, for log lines */
void guid_text(const void *guid, char out[39]);

#endif

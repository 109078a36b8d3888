/*
 * fakevss.dll: a TEST DOUBLE of the VSS coordinator's IVssAdmin, for Wine.
 *
 * Wine has no VSS service, so CoCreateInstance(CLSID_VSSCoordinator)
 * fails there with REGDB_E_CLASSNOTREG.  This in-process COM server takes
 * the coordinator's CLSID (DllRegisterServer) so that
 * `arraysim-vss-reg.exe register|unregister` and the MSI's custom actions
 * can be run for real under Wine (make check-msi-wine).
 *
 * It records a registration the way the real coordinator is reported to
 * (docs: /work/shared/reference/vss-provider.md 8.2, third-party layout):
 *   HKLM\SYSTEM\CurrentControlSet\Services\VSS\Providers\{ProviderId}
 *     (Default) = name, Type = DWORD VSS_PROVIDER_TYPE,
 *     Version = version string, VersionId = "{ProviderVersionId}",
 *     CLSID\(Default) = "{ClassId}"
 * and answers with the documented errors: VSS_E_PROVIDER_ALREADY_REGISTERED,
 * VSS_E_PROVIDER_NOT_REGISTERED, E_INVALIDARG for a NULL name or an
 * unknown provider type.  Unlike Windows it accepts VSS_PROV_HARDWARE on
 * any edition and checks no caller rights.  QueryProviders and
 * AbortAllSnapshotsInProgress return E_NOTIMPL.  Never install it on
 * Windows: it would shadow the real coordinator.
 */
#define COBJMACROS
#define CONST_VTABLE
#include <windows.h>

#include <objbase.h>
#include <vsadmin.h>
#include <vss.h>
#include <vsserror.h>

#include <wchar.h>

#define PROVIDERS_KEY	L"SYSTEM\\CurrentControlSet\\Services\\VSS\\Providers\\"
#define COORD_CLSID_KEY L"CLSID\\{E579AB5F-1CC4-44B4-BED9-DE0991FF0623}"

static HINSTANCE fake_module;
static LONG fake_locks; /* live objects + LockServer count, for DllCanUnloadNow */

/* ---- the IVssAdmin object ---- */

struct fake_admin {
	IVssAdmin IVssAdmin_iface;
	LONG ref;
};

static inline struct fake_admin *impl_from_IVssAdmin(IVssAdmin *iface)
{
	return CONTAINING_RECORD(iface, struct fake_admin, IVssAdmin_iface);
}

static HRESULT WINAPI admin_QueryInterface(IVssAdmin *iface, REFIID riid, void **out)
{
	if (!out)
		return E_POINTER;
	if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IVssAdmin)) {
		*out = iface;
		IVssAdmin_AddRef(iface);
		return S_OK;
	}
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG WINAPI admin_AddRef(IVssAdmin *iface)
{
	return InterlockedIncrement(&impl_from_IVssAdmin(iface)->ref);
}

static ULONG WINAPI admin_Release(IVssAdmin *iface)
{
	struct fake_admin *admin = impl_from_IVssAdmin(iface);
	ULONG ref = InterlockedDecrement(&admin->ref);

	if (!ref) {
		HeapFree(GetProcessHeap(), 0, admin);
		InterlockedDecrement(&fake_locks);
	}
	return ref;
}

/* HKLM-relative path of the provider's key: PROVIDERS_KEY{id} */
static BOOL provider_key_path(const VSS_ID *id, WCHAR *path, size_t len)
{
	WCHAR ids[40];

	if (!StringFromGUID2(id, ids, ARRAYSIZE(ids)))
		return FALSE;
	return _snwprintf(path, len, L"%ls%ls", PROVIDERS_KEY, ids) > 0;
}

static LONG set_sz(HKEY key, const WCHAR *name, const WCHAR *val)
{
	return RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)val,
			      (DWORD)((wcslen(val) + 1) * sizeof(WCHAR)));
}

/* the values of a new provider key; the caller deletes the key on failure */
static LONG write_provider(HKEY key, const CLSID *clsid, const WCHAR *name, DWORD type,
			   const WCHAR *version, const VSS_ID *version_id)
{
	WCHAR guid[40];
	HKEY sub;
	LONG rc;

	rc = set_sz(key, NULL, name);
	if (!rc)
		rc = RegSetValueExW(key, L"Type", 0, REG_DWORD, (const BYTE *)&type, sizeof(type));
	if (!rc)
		rc = set_sz(key, L"Version", version ? version : L"");
	if (!rc && StringFromGUID2(version_id, guid, ARRAYSIZE(guid)))
		rc = set_sz(key, L"VersionId", guid);
	if (rc)
		return rc;
	if (!StringFromGUID2(clsid, guid, ARRAYSIZE(guid)))
		return ERROR_INVALID_PARAMETER;
	rc = RegCreateKeyExW(key, L"CLSID", 0, NULL, 0, KEY_WRITE, NULL, &sub, NULL);
	if (rc)
		return rc;
	rc = set_sz(sub, NULL, guid);
	RegCloseKey(sub);
	return rc;
}

static HRESULT WINAPI admin_RegisterProvider(IVssAdmin *iface, VSS_ID provider_id, CLSID clsid,
					     VSS_PWSZ name, VSS_PROVIDER_TYPE type,
					     VSS_PWSZ version, VSS_ID version_id)
{
	WCHAR path[128];
	HKEY key;
	DWORD disp;
	LONG rc;

	if (!name || !*name || type < VSS_PROV_SYSTEM || type > VSS_PROV_FILESHARE)
		return E_INVALIDARG;
	if (!provider_key_path(&provider_id, path, ARRAYSIZE(path)))
		return E_INVALIDARG;
	rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key,
			     &disp);
	if (rc)
		return HRESULT_FROM_WIN32(rc);
	if (disp == REG_OPENED_EXISTING_KEY) {
		RegCloseKey(key);
		return VSS_E_PROVIDER_ALREADY_REGISTERED;
	}
	rc = write_provider(key, &clsid, name, (DWORD)type, version, &version_id);
	RegCloseKey(key);
	if (rc) {
		/* no half-written registration left behind */
		RegDeleteTreeW(HKEY_LOCAL_MACHINE, path);
		return HRESULT_FROM_WIN32(rc);
	}
	return S_OK;
}

static HRESULT WINAPI admin_UnregisterProvider(IVssAdmin *iface, VSS_ID provider_id)
{
	WCHAR path[128];
	LONG rc;

	if (!provider_key_path(&provider_id, path, ARRAYSIZE(path)))
		return E_INVALIDARG;
	/* with a subkey name, RegDeleteTreeW removes that key itself too */
	rc = RegDeleteTreeW(HKEY_LOCAL_MACHINE, path);
	if (rc == ERROR_FILE_NOT_FOUND)
		return VSS_E_PROVIDER_NOT_REGISTERED;
	return rc ? HRESULT_FROM_WIN32(rc) : S_OK;
}

static HRESULT WINAPI admin_QueryProviders(IVssAdmin *iface, IVssEnumObject **out)
{
	if (out)
		*out = NULL;
	return E_NOTIMPL;
}

static HRESULT WINAPI admin_AbortAllSnapshotsInProgress(IVssAdmin *iface)
{
	return E_NOTIMPL;
}

static const IVssAdminVtbl admin_vtbl = {
    admin_QueryInterface,
    admin_AddRef,
    admin_Release,
    admin_RegisterProvider,
    admin_UnregisterProvider,
    admin_QueryProviders,
    admin_AbortAllSnapshotsInProgress,
};

/* ---- class factory (a static singleton, as Wine's builtin DLLs do) ---- */

static HRESULT WINAPI cf_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
	if (!out)
		return E_POINTER;
	if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
		*out = iface;
		return S_OK;
	}
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG WINAPI cf_AddRef(IClassFactory *iface)
{
	return 2;
}

static ULONG WINAPI cf_Release(IClassFactory *iface)
{
	return 1;
}

static HRESULT WINAPI cf_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid,
					void **out)
{
	struct fake_admin *admin;
	HRESULT hr;

	if (!out)
		return E_POINTER;
	*out = NULL;
	if (outer)
		return CLASS_E_NOAGGREGATION;
	admin = HeapAlloc(GetProcessHeap(), 0, sizeof(*admin));
	if (!admin)
		return E_OUTOFMEMORY;
	admin->IVssAdmin_iface.lpVtbl = &admin_vtbl;
	admin->ref = 1;
	InterlockedIncrement(&fake_locks);
	hr = IVssAdmin_QueryInterface(&admin->IVssAdmin_iface, riid, out);
	IVssAdmin_Release(&admin->IVssAdmin_iface);
	return hr;
}

static HRESULT WINAPI cf_LockServer(IClassFactory *iface, BOOL lock)
{
	if (lock)
		InterlockedIncrement(&fake_locks);
	else
		InterlockedDecrement(&fake_locks);
	return S_OK;
}

static const IClassFactoryVtbl cf_vtbl = {
    cf_QueryInterface, cf_AddRef, cf_Release, cf_CreateInstance, cf_LockServer,
};
static IClassFactory fake_factory = {&cf_vtbl};

/* ---- DLL exports ---- */

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, void *reserved)
{
	if (reason == DLL_PROCESS_ATTACH) {
		fake_module = inst;
		DisableThreadLibraryCalls(inst);
	}
	return TRUE;
}

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
	if (!out)
		return E_POINTER;
	*out = NULL;
	if (!IsEqualCLSID(clsid, &CLSID_VSSCoordinator))
		return CLASS_E_CLASSNOTAVAILABLE;
	return IClassFactory_QueryInterface(&fake_factory, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
	return fake_locks ? S_FALSE : S_OK;
}

static LONG set_key_sz(const WCHAR *key, const WCHAR *name, const WCHAR *val)
{
	HKEY k;
	LONG rc = RegCreateKeyExW(HKEY_CLASSES_ROOT, key, 0, NULL, 0, KEY_WRITE, NULL, &k, NULL);

	if (rc)
		return rc;
	rc = set_sz(k, name, val);
	RegCloseKey(k);
	return rc;
}

HRESULT WINAPI DllRegisterServer(void)
{
	WCHAR path[MAX_PATH];
	DWORD n = GetModuleFileNameW(fake_module, path, ARRAYSIZE(path));
	LONG rc;

	if (!n || n >= ARRAYSIZE(path))
		return E_FAIL;
	rc = set_key_sz(COORD_CLSID_KEY, NULL, L"VSS coordinator (arraysim test double)");
	if (!rc)
		rc = set_key_sz(COORD_CLSID_KEY L"\\InprocServer32", NULL, path);
	/* "Both": the reg tool calls from a multithreaded apartment */
	if (!rc)
		rc = set_key_sz(COORD_CLSID_KEY L"\\InprocServer32", L"ThreadingModel", L"Both");
	return rc ? HRESULT_FROM_WIN32(rc) : S_OK;
}

HRESULT WINAPI DllUnregisterServer(void)
{
	LONG rc = RegDeleteTreeW(HKEY_CLASSES_ROOT, COORD_CLSID_KEY);

	return rc && rc != ERROR_FILE_NOT_FOUND ? HRESULT_FROM_WIN32(rc) : S_OK;
}

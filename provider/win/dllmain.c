/*
 * dllmain.c: arraysim-vss.dll entry points: the class factory and COM
 * self-registration.
 *
 * Hosting: an in-process server (InprocServer32, ThreadingModel Both)
 * whose AppID names the system surrogate (DllSurrogate = ""), so VSS's
 * CLSCTX_LOCAL_SERVER activation runs it out of process in dllhost.exe
 * while a test harness may still load it in process.  docs/provider.md
 * explains the choice.  IVssAdmin::RegisterProvider is not done here but
 * by arraysim-vss-reg.exe: Wine has no VSS coordinator, and regsvr32 must
 * keep working there.
 */
#include "provider.h"

#include <olectl.h>

#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "provider_ids.h"

LONG g_dll_refs;
HMODULE g_module;

static const CLSID clsid_provider = ARRAYSIM_CLSID_INIT;

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, void *reserved)
{
	switch (reason) {
	case DLL_PROCESS_ATTACH:
		g_module = inst;
		DisableThreadLibraryCalls(inst);
		evlog_init(inst);
		break;
	case DLL_PROCESS_DETACH:
		if (!reserved) /* FreeLibrary, not process exit: our threads are gone */
			evlog_fini();
		break;
	}
	return TRUE;
}

/* ---- class factory (static; its references lock the DLL) --------------- */

static HRESULT STDMETHODCALLTYPE cf_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
	if (!out)
		return E_POINTER;
	if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
		*out = iface;
		IClassFactory_AddRef(iface);
		return S_OK;
	}
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE cf_AddRef(IClassFactory *iface)
{
	InterlockedIncrement(&g_dll_refs);
	return 2;
}

static ULONG STDMETHODCALLTYPE cf_Release(IClassFactory *iface)
{
	InterlockedDecrement(&g_dll_refs);
	return 1;
}

static HRESULT STDMETHODCALLTYPE cf_CreateInstance(IClassFactory *iface, IUnknown *outer,
						   REFIID riid, void **out)
{
	if (!out)
		return E_POINTER;
	*out = NULL;
	if (outer)
		return CLASS_E_NOAGGREGATION;
	return provider_create(riid, out);
}

static HRESULT STDMETHODCALLTYPE cf_LockServer(IClassFactory *iface, BOOL lock)
{
	if (lock)
		InterlockedIncrement(&g_dll_refs);
	else
		InterlockedDecrement(&g_dll_refs);
	return S_OK;
}

static const IClassFactoryVtbl cf_vtbl = {
    cf_QueryInterface, cf_AddRef, cf_Release, cf_CreateInstance, cf_LockServer,
};

static IClassFactory class_factory = {&cf_vtbl};

HRESULT WINAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, void **out)
{
	if (!out)
		return E_POINTER;
	*out = NULL;
	if (!IsEqualCLSID(rclsid, &clsid_provider))
		return CLASS_E_CLASSNOTAVAILABLE;
	return IClassFactory_QueryInterface(&class_factory, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
	return g_dll_refs == 0 ? S_OK : S_FALSE;
}

/* ---- registration -------------------------------------------------------- */

#define CLSID_KEY L"CLSID\\" ARRAYSIM_CLSID_W
#define APPID_KEY L"AppID\\" ARRAYSIM_APPID_W
#define EVENT_KEY                                                                                  \
	L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" ARRAYSIM_EVENT_SOURCE
#define WIDEN2(x)	 L##x
#define WIDEN(x)	 WIDEN2(x)
#define ARRAYSIM_CLSID_W WIDEN(ARRAYSIM_CLSID_STR)
#define ARRAYSIM_APPID_W WIDEN(ARRAYSIM_APPID_STR)

static LONG set_sz(HKEY root, const WCHAR *key, const WCHAR *name, const WCHAR *val)
{
	HKEY k;
	LONG rc = RegCreateKeyExW(root, key, 0, NULL, 0, KEY_WRITE, NULL, &k, NULL);

	if (rc != ERROR_SUCCESS)
		return rc;
	rc = RegSetValueExW(k, name, 0, REG_SZ, (const BYTE *)val,
			    (DWORD)((wcslen(val) + 1) * sizeof(WCHAR)));
	RegCloseKey(k);
	return rc;
}

static LONG set_dword(HKEY root, const WCHAR *key, const WCHAR *name, DWORD val)
{
	HKEY k;
	LONG rc = RegCreateKeyExW(root, key, 0, NULL, 0, KEY_WRITE, NULL, &k, NULL);

	if (rc != ERROR_SUCCESS)
		return rc;
	rc = RegSetValueExW(k, name, 0, REG_DWORD, (const BYTE *)&val, sizeof(val));
	RegCloseKey(k);
	return rc;
}

HRESULT WINAPI DllRegisterServer(void)
{
	WCHAR path[MAX_PATH];
	DWORD n = GetModuleFileNameW(g_module, path, MAX_PATH);
	LONG rc;

	if (!n || n >= MAX_PATH)
		return SELFREG_E_CLASS;
	rc = set_sz(HKEY_CLASSES_ROOT, CLSID_KEY, NULL, ARRAYSIM_PROVIDER_NAME);
	if (!rc)
		rc = set_sz(HKEY_CLASSES_ROOT, CLSID_KEY, L"AppID", ARRAYSIM_APPID_W);
	if (!rc)
		rc = set_sz(HKEY_CLASSES_ROOT, CLSID_KEY L"\\InprocServer32", NULL, path);
	if (!rc)
		rc = set_sz(HKEY_CLASSES_ROOT, CLSID_KEY L"\\InprocServer32", L"ThreadingModel",
			    L"Both");
	/* empty DllSurrogate: the system's dllhost.exe hosts us out of process */
	if (!rc)
		rc = set_sz(HKEY_CLASSES_ROOT, APPID_KEY, NULL, ARRAYSIM_PROVIDER_NAME);
	if (!rc)
		rc = set_sz(HKEY_CLASSES_ROOT, APPID_KEY, L"DllSurrogate", L"");
	if (rc)
		return SELFREG_E_CLASS;
	rc = set_sz(HKEY_LOCAL_MACHINE, EVENT_KEY, L"EventMessageFile", path);
	if (!rc)
		rc = set_dword(HKEY_LOCAL_MACHINE, EVENT_KEY, L"TypesSupported",
			       EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE |
				   EVENTLOG_INFORMATION_TYPE);
	if (!rc)
		rc = set_dword(HKEY_LOCAL_MACHINE, EVENT_KEY, L"CustomSource", 1);
	return rc ? SELFREG_E_CLASS : S_OK;
}

HRESULT WINAPI DllUnregisterServer(void)
{
	LONG a = RegDeleteTreeW(HKEY_CLASSES_ROOT, CLSID_KEY);
	LONG b = RegDeleteTreeW(HKEY_CLASSES_ROOT, APPID_KEY);
	LONG c = RegDeleteTreeW(HKEY_LOCAL_MACHINE, EVENT_KEY);

	/* the configuration key stays: uninstall/reinstall keeps the array settings */
	if ((a && a != ERROR_FILE_NOT_FOUND) || (b && b != ERROR_FILE_NOT_FOUND) ||
	    (c && c != ERROR_FILE_NOT_FOUND))
		return SELFREG_E_CLASS;
	return S_OK;
}

/*
 * arraysim-vss-reg.exe: register the provider with VSS and configure it.
 *
 *   arraysim-vss-reg register      IVssAdmin::RegisterProvider (VSS_PROV_HARDWARE)
 *   arraysim-vss-reg unregister    IVssAdmin::UnregisterProvider
 *   arraysim-vss-reg config --address A --port P --key-file PATH
 *                           [--iqn IQN] [--trace-file F] [--commit-timeout MS]
 *   arraysim-vss-reg show          print the settings (never the key)
 *
 * COM registration of the DLL is regsvr32's job (DllRegisterServer).
 * Exit codes: 0 done, 1 the operation failed, 2 usage error.
 */
#define COBJMACROS
#include <windows.h>

#include <objbase.h>
#include <vsadmin.h>
#include <vss.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "provider_ids.h"

static const GUID provider_id = ARRAYSIM_PROVIDER_ID_INIT;
static const GUID provider_version_id = ARRAYSIM_PROVIDER_VERSION_ID_INIT;
static const CLSID provider_clsid = ARRAYSIM_CLSID_INIT;

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: arraysim-vss-reg register | unregister | show\n"
	    "       arraysim-vss-reg config [--address A] [--port P] [--key-file PATH]\n"
	    "                               [--iqn IQN] [--trace-file F] [--commit-timeout MS]\n"
	    "  --key-file: 64 hex digits (arraysimd's control.key); stored DPAPI-protected\n"
	    "  --iqn \"\" / --trace-file \"\" remove the override / the trace file\n");
	return 2;
}

static const char *vss_hr_text(HRESULT hr)
{
	switch ((unsigned long)hr) {
	case 0x80042303UL:
		return "the provider is already registered";
	case 0x80042304UL:
		return "the provider is not registered";
	case 0x80042307UL:
		return "the provider is in use";
	case 0x80070005UL:
		return "access denied (run as Administrator)";
	case 0x80070057UL:
		return "invalid argument (hardware providers need a Windows Server edition)";
	case 0x80040154UL:
		return "the VSS coordinator is not available on this system (REGDB_E_CLASSNOTREG)";
	default:
		return "failed";
	}
}

static int with_admin(int reg)
{
	IVssAdmin *admin = NULL;
	HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
	int ret = 1;

	if (FAILED(hr)) {
		fprintf(stderr, "arraysim-vss-reg: CoInitializeEx: 0x%08lX\n", (unsigned long)hr);
		return 1;
	}
	hr = CoCreateInstance(&CLSID_VSSCoordinator, NULL, CLSCTX_ALL, &IID_IVssAdmin,
			      (void **)&admin);
	if (FAILED(hr)) {
		fprintf(stderr,
			"arraysim-vss-reg: cannot reach the VSS coordinator: 0x%08lX (%s)\n",
			(unsigned long)hr, vss_hr_text(hr));
		goto out;
	}
	if (reg)
		hr = IVssAdmin_RegisterProvider(admin, provider_id, provider_clsid,
						(VSS_PWSZ)ARRAYSIM_PROVIDER_NAME, VSS_PROV_HARDWARE,
						(VSS_PWSZ)ARRAYSIM_PROVIDER_VERSION_STR,
						provider_version_id);
	else
		hr = IVssAdmin_UnregisterProvider(admin, provider_id);
	if (FAILED(hr)) {
		fprintf(stderr, "arraysim-vss-reg: %s: 0x%08lX (%s)\n",
			reg ? "RegisterProvider" : "UnregisterProvider", (unsigned long)hr,
			vss_hr_text(hr));
	} else {
		printf("%s provider %s (%s)\n", reg ? "registered" : "unregistered",
		       ARRAYSIM_PROVIDER_ID_STR, reg ? "VSS_PROV_HARDWARE" : "removed from VSS");
		ret = 0;
	}
	IVssAdmin_Release(admin);
out:
	CoUninitialize();
	return ret;
}

static int do_config(int argc, char **argv)
{
	const char *address = NULL, *key_file = NULL, *iqn = NULL, *trace = NULL;
	DWORD port, timeout;
	int have_port = 0, have_timeout = 0;
	uint8_t key[AUTH_KEY_LEN];
	WCHAR wtrace[MAX_PATH];
	DWORD rc;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!v) {
			fprintf(stderr, "arraysim-vss-reg: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--address")) {
			if (!*v || strlen(v) >= sizeof(((struct prov_config *)0)->address)) {
				fprintf(stderr, "arraysim-vss-reg: bad --address\n");
				return 2;
			}
			address = v;
		} else if (!strcmp(a, "--port")) {
			unsigned long p = strtoul(v, &end, 10);

			if (*end || p == 0 || p > 65535) {
				fprintf(stderr, "arraysim-vss-reg: --port must be 1..65535\n");
				return 2;
			}
			port = (DWORD)p;
			have_port = 1;
		} else if (!strcmp(a, "--key-file")) {
			key_file = v;
		} else if (!strcmp(a, "--iqn")) {
			if (strlen(v) >= CFG_IQN_MAX) {
				fprintf(stderr, "arraysim-vss-reg: --iqn longer than 223\n");
				return 2;
			}
			iqn = v;
		} else if (!strcmp(a, "--trace-file")) {
			trace = v;
		} else if (!strcmp(a, "--commit-timeout")) {
			unsigned long t = strtoul(v, &end, 10);

			if (*end || t < 100 || t > 9000) {
				fprintf(stderr, "arraysim-vss-reg: --commit-timeout must be "
						"100..9000 ms (VSS allows 10 s)\n");
				return 2;
			}
			timeout = (DWORD)t;
			have_timeout = 1;
		} else {
			fprintf(stderr, "arraysim-vss-reg: unknown option %s\n", a);
			return usage();
		}
	}
	if (!address && !have_port && !key_file && !iqn && !trace && !have_timeout)
		return usage();
	if (key_file) {
		int e = auth_key_load(key_file, key);

		if (e) {
			fprintf(stderr,
				"arraysim-vss-reg: %s: not a key file (64 hex digits expected): "
				"%s\n",
				key_file, proto_strerror(e));
			return 1;
		}
	}
	if (trace && !MultiByteToWideChar(CP_UTF8, 0, trace, -1, wtrace, MAX_PATH)) {
		fprintf(stderr, "arraysim-vss-reg: --trace-file path too long\n");
		return 2;
	}
	rc = config_store(address, have_port ? &port : NULL, key_file ? key : NULL, iqn,
			  trace ? wtrace : NULL, have_timeout ? &timeout : NULL);
	SecureZeroMemory(key, sizeof(key));
	if (rc) {
		fprintf(stderr, "arraysim-vss-reg: cannot write HKLM\\%ls: Win32 error %lu%s\n",
			ARRAYSIM_REG_KEY, (unsigned long)rc,
			rc == ERROR_ACCESS_DENIED ? " (run as Administrator)" : "");
		return 1;
	}
	printf("configuration written to HKLM\\%ls\n", ARRAYSIM_REG_KEY);
	return 0;
}

/* a REG_DWORD value, 0 if absent or of another type/size */
static int query_dword(HKEY k, const WCHAR *name, DWORD *v)
{
	DWORD type, cb = sizeof(*v);

	return !RegQueryValueExW(k, name, NULL, &type, (BYTE *)v, &cb) && type == REG_DWORD &&
	       cb == sizeof(*v);
}

static void show_status(void)
{
	HKEY k;
	DWORD v, cb, type;
	WCHAR text[2048];

	if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, ARRAYSIM_REG_KEY L"\\" CFG_STATUS_SUBKEY, 0, KEY_READ,
			  &k) != ERROR_SUCCESS) {
		printf("events:       none reported\n");
		return;
	}
	if (query_dword(k, L"EventCount", &v))
		printf("events:       %lu reported\n", (unsigned long)v);
	if (query_dword(k, L"LastEventId", &v))
		printf("last event:   id %lu", (unsigned long)v);
	if (query_dword(k, L"LastEventType", &v))
		printf(", type %lu", (unsigned long)v);
	cb = sizeof(text) - sizeof(WCHAR);
	if (!RegQueryValueExW(k, L"LastEventText", NULL, &type, (BYTE *)text, &cb) &&
	    type == REG_SZ) {
		text[cb / sizeof(WCHAR)] = 0;
		printf(": %ls", text);
	}
	printf("\n");
	RegCloseKey(k);
}

static int do_show(void)
{
	struct prov_config cfg;
	char err[160], iqn[CFG_IQN_MAX];
	DWORD rc = config_load(&cfg, err, sizeof(err));
	DWORD irc;
	int ret = 0;

	printf("key:          HKLM\\%ls\n", ARRAYSIM_REG_KEY);
	if (rc) {
		printf("error:        %s (Win32 error %lu)\n", err, (unsigned long)rc);
		ret = 1;
	}
	printf("address:      %s\n", cfg.address);
	printf("port:         %u\n", cfg.port);
	printf("control key:  %s\n", cfg.have_key ? "set (DPAPI-protected)" : "NOT SET");
	printf("commit timeout: %lu ms\n", (unsigned long)cfg.commit_timeout_ms);
	irc = config_initiator_iqn(&cfg, iqn, sizeof(iqn));
	if (cfg.iqn_override[0])
		printf("initiator:    %s (InitiatorIqn override)\n", cfg.iqn_override);
	else if (!irc)
		printf("initiator:    %s (from the iSCSI initiator)\n", iqn);
	else
		printf("initiator:    unknown (iSCSI initiator: Win32 error %lu; set --iqn)\n",
		       (unsigned long)irc);
	printf("trace file:   %ls\n", cfg.trace_file[0] ? cfg.trace_file : L"(none)");
	show_status();
	config_wipe(&cfg);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "register") && argc == 2)
		return with_admin(1);
	if (!strcmp(argv[1], "unregister") && argc == 2)
		return with_admin(0);
	if (!strcmp(argv[1], "config"))
		return do_config(argc - 2, argv + 2);
	if (!strcmp(argv[1], "show") && argc == 2)
		return do_show();
	return usage();
}

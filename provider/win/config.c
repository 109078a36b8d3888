/*
 * config.c: registry settings and the DPAPI-protected control key.
 */
#include "config.h"

#include <wincrypt.h>

#include <stdio.h>
#include <string.h>

#include "provider_ids.h"

/* binds the DPAPI blob to this use: another program's blob won't decrypt as ours */
static const char key_entropy[] = "arraysim-vss control key v1";

static void set_err(char *err, size_t errsz, const char *msg)
{
	if (err && errsz)
		snprintf(err, errsz, "%s", msg);
}

/* REG_SZ value as UTF-8; ERROR_FILE_NOT_FOUND if absent */
static DWORD read_str(HKEY k, const WCHAR *name, char *out, size_t outsz)
{
	WCHAR w[512];
	DWORD type, cb = sizeof(w) - sizeof(WCHAR);
	LONG rc = RegQueryValueExW(k, name, NULL, &type, (BYTE *)w, &cb);

	if (rc != ERROR_SUCCESS)
		return (DWORD)rc;
	if (type != REG_SZ && type != REG_EXPAND_SZ)
		return ERROR_INVALID_DATATYPE;
	w[cb / sizeof(WCHAR)] = L'\0';
	if (!WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)outsz, NULL, NULL))
		return ERROR_INSUFFICIENT_BUFFER;
	return ERROR_SUCCESS;
}

static DWORD read_dword(HKEY k, const WCHAR *name, DWORD *out)
{
	DWORD type, v, cb = sizeof(v);
	LONG rc = RegQueryValueExW(k, name, NULL, &type, (BYTE *)&v, &cb);

	if (rc != ERROR_SUCCESS)
		return (DWORD)rc;
	if (type != REG_DWORD || cb != sizeof(v))
		return ERROR_INVALID_DATATYPE;
	*out = v;
	return ERROR_SUCCESS;
}

static DWORD read_key(HKEY k, uint8_t key[AUTH_KEY_LEN])
{
	BYTE blob[2048];
	DWORD type, cb = sizeof(blob);
	DATA_BLOB in, out = {0}, ent = {sizeof(key_entropy) - 1, (BYTE *)key_entropy};
	LONG rc = RegQueryValueExW(k, CFG_V_KEY, NULL, &type, blob, &cb);
	DWORD err = ERROR_SUCCESS;

	if (rc != ERROR_SUCCESS)
		return (DWORD)rc;
	if (type != REG_BINARY)
		return ERROR_INVALID_DATATYPE;
	in.cbData = cb;
	in.pbData = blob;
	if (!CryptUnprotectData(&in, NULL, &ent, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN, &out))
		return GetLastError() ? GetLastError() : ERROR_INVALID_DATA;
	if (out.cbData != AUTH_KEY_LEN)
		err = ERROR_INVALID_DATA;
	else
		memcpy(key, out.pbData, AUTH_KEY_LEN);
	SecureZeroMemory(out.pbData, out.cbData);
	LocalFree(out.pbData);
	return err;
}

DWORD config_load(struct prov_config *cfg, char *err, size_t errsz)
{
	HKEY k;
	DWORD v, rc;
	LONG orc;

	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->address, CFG_DEFAULT_ADDRESS);
	cfg->port = CFG_DEFAULT_PORT;
	cfg->commit_timeout_ms = CFG_DEFAULT_COMMIT_TIMEOUT;
	set_err(err, errsz, "");
	orc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, ARRAYSIM_REG_KEY, 0, KEY_READ, &k);
	if (orc == ERROR_FILE_NOT_FOUND)
		return ERROR_SUCCESS; /* all defaults; no key yet */
	if (orc != ERROR_SUCCESS) {
		set_err(err, errsz, "cannot open the configuration key");
		return (DWORD)orc;
	}
	rc = read_str(k, CFG_V_ADDRESS, cfg->address, sizeof(cfg->address));
	if (rc == ERROR_FILE_NOT_FOUND)
		strcpy(cfg->address, CFG_DEFAULT_ADDRESS);
	else if (rc) {
		set_err(err, errsz, "Address is not a usable REG_SZ");
		goto out;
	}
	rc = read_dword(k, CFG_V_PORT, &v);
	if (rc == ERROR_SUCCESS && (v == 0 || v > 65535))
		rc = ERROR_INVALID_DATA;
	if (rc == ERROR_SUCCESS)
		cfg->port = (uint16_t)v;
	else if (rc != ERROR_FILE_NOT_FOUND) {
		set_err(err, errsz, "Port is not a REG_DWORD in 1..65535");
		goto out;
	}
	rc = read_dword(k, CFG_V_COMMIT_TIMEOUT, &v);
	if (rc == ERROR_SUCCESS && (v < 100 || v > 9000))
		rc = ERROR_INVALID_DATA; /* must stay below VSS's 10 s Flush-and-Hold */
	if (rc == ERROR_SUCCESS)
		cfg->commit_timeout_ms = v;
	else if (rc != ERROR_FILE_NOT_FOUND) {
		set_err(err, errsz, "CommitTimeoutMs is not a REG_DWORD in 100..9000");
		goto out;
	}
	rc = read_str(k, CFG_V_IQN, cfg->iqn_override, sizeof(cfg->iqn_override));
	if (rc && rc != ERROR_FILE_NOT_FOUND) {
		set_err(err, errsz, "InitiatorIqn is not a usable REG_SZ");
		goto out;
	}
	{
		DWORD type, cb = sizeof(cfg->trace_file) - sizeof(WCHAR);

		orc = RegQueryValueExW(k, CFG_V_TRACE, NULL, &type, (BYTE *)cfg->trace_file, &cb);
		if (orc == ERROR_SUCCESS && type == REG_SZ)
			cfg->trace_file[cb / sizeof(WCHAR)] = L'\0';
		else
			cfg->trace_file[0] = L'\0';
	}
	rc = read_key(k, cfg->key);
	if (rc == ERROR_SUCCESS)
		cfg->have_key = 1;
	else if (rc == ERROR_FILE_NOT_FOUND)
		rc = ERROR_SUCCESS; /* reported when the client is opened */
	else
		set_err(err, errsz, "ControlKey cannot be unprotected (DPAPI) on this host");
out:
	RegCloseKey(k);
	return rc;
}

void config_wipe(struct prov_config *cfg)
{
	SecureZeroMemory(cfg, sizeof(*cfg));
}

static DWORD put_str(HKEY k, const WCHAR *name, const char *s)
{
	WCHAR w[512];

	if (!MultiByteToWideChar(CP_UTF8, 0, s, -1, w, 512))
		return ERROR_INVALID_PARAMETER;
	return (DWORD)RegSetValueExW(k, name, 0, REG_SZ, (const BYTE *)w,
				     (DWORD)((wcslen(w) + 1) * sizeof(WCHAR)));
}

static DWORD put_dword(HKEY k, const WCHAR *name, DWORD v)
{
	return (DWORD)RegSetValueExW(k, name, 0, REG_DWORD, (const BYTE *)&v, sizeof(v));
}

static DWORD put_key(HKEY k, const uint8_t *key)
{
	DATA_BLOB in = {AUTH_KEY_LEN, (BYTE *)key}, out = {0};
	DATA_BLOB ent = {sizeof(key_entropy) - 1, (BYTE *)key_entropy};
	DWORD rc;

	if (!CryptProtectData(&in, L"arraysim control key", &ent, NULL, NULL,
			      CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN, &out))
		return GetLastError() ? GetLastError() : ERROR_INVALID_DATA;
	rc = (DWORD)RegSetValueExW(k, CFG_V_KEY, 0, REG_BINARY, out.pbData, out.cbData);
	LocalFree(out.pbData);
	return rc;
}

DWORD config_store(const char *address, const DWORD *port, const uint8_t *key, const char *iqn,
		   const WCHAR *trace_file, const DWORD *commit_timeout_ms)
{
	HKEY k;
	DWORD rc = ERROR_SUCCESS;
	LONG orc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, ARRAYSIM_REG_KEY, 0, NULL, 0,
				   KEY_READ | KEY_WRITE, NULL, &k, NULL);

	if (orc != ERROR_SUCCESS)
		return (DWORD)orc;
	if (address)
		rc = put_str(k, CFG_V_ADDRESS, address);
	if (!rc && port)
		rc = put_dword(k, CFG_V_PORT, *port);
	if (!rc && key)
		rc = put_key(k, key);
	if (!rc && iqn)
		rc = *iqn ? put_str(k, CFG_V_IQN, iqn) : (DWORD)RegDeleteValueW(k, CFG_V_IQN);
	if (!rc && trace_file)
		rc =
		    *trace_file
			? (DWORD)RegSetValueExW(k, CFG_V_TRACE, 0, REG_SZ, (const BYTE *)trace_file,
						(DWORD)((wcslen(trace_file) + 1) * sizeof(WCHAR)))
			: (DWORD)RegDeleteValueW(k, CFG_V_TRACE);
	if (!rc && commit_timeout_ms)
		rc = put_dword(k, CFG_V_COMMIT_TIMEOUT, *commit_timeout_ms);
	if (rc == ERROR_FILE_NOT_FOUND)
		rc = ERROR_SUCCESS; /* deleting a value that was not there */
	RegCloseKey(k);
	return rc;
}

typedef HRESULT(WINAPI *get_node_name_fn)(WCHAR *);

DWORD config_initiator_iqn(const struct prov_config *cfg, char *iqn, size_t iqnsz)
{
	WCHAR w[CFG_IQN_MAX + 32];
	HMODULE m;
	get_node_name_fn fn;
	DWORD rc;

	if (cfg->iqn_override[0]) {
		if (strlen(cfg->iqn_override) >= iqnsz)
			return ERROR_INSUFFICIENT_BUFFER;
		strcpy(iqn, cfg->iqn_override);
		return ERROR_SUCCESS;
	}
	m = LoadLibraryExW(L"iscsidsc.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
	if (!m)
		return GetLastError() ? GetLastError() : ERROR_MOD_NOT_FOUND;
	fn = (get_node_name_fn)(void (*)(void))GetProcAddress(m, "GetIScsiInitiatorNodeNameW");
	if (!fn) {
		FreeLibrary(m);
		return ERROR_PROC_NOT_FOUND;
	}
	/* the buffer must hold MAX_ISCSI_NAME_LEN + 1 characters */
	memset(w, 0, sizeof(w));
	rc = (DWORD)fn(w);
	FreeLibrary(m);
	if (rc != ERROR_SUCCESS)
		return rc;
	if (!w[0])
		return ERROR_NOT_FOUND;
	if (!WideCharToMultiByte(CP_UTF8, 0, w, -1, iqn, (int)iqnsz, NULL, NULL))
		return ERROR_INSUFFICIENT_BUFFER;
	return ERROR_SUCCESS;
}

/*
 * config: the provider's registry settings under HKLM\ARRAYSIM_REG_KEY,
 * shared by the provider DLL (read) and arraysim-vss-reg.exe (write,
 * show).  The control key is stored DPAPI-protected with machine scope,
 * so only code running on this host can unprotect it.
 */
#ifndef ARRAYSIM_PROV_CONFIG_H
#define ARRAYSIM_PROV_CONFIG_H

#include <windows.h>

#include <stdint.h>

#include "auth.h"

#define CFG_DEFAULT_ADDRESS	   "127.0.0.1"
#define CFG_DEFAULT_PORT	   3270
#define CFG_DEFAULT_COMMIT_TIMEOUT 4000
#define CFG_IQN_MAX		   224 /* RFC 3720 iSCSI name limit, plus NUL */

/* value names under the key */
#define CFG_V_ADDRESS	     L"Address"
#define CFG_V_PORT	     L"Port"
#define CFG_V_KEY	     L"ControlKey"
#define CFG_V_IQN	     L"InitiatorIqn"
#define CFG_V_TRACE	     L"TraceFile"
#define CFG_V_COMMIT_TIMEOUT L"CommitTimeoutMs"
#define CFG_STATUS_SUBKEY    L"Status"

struct prov_config {
	char address[256];
	uint16_t port;
	int have_key;
	uint8_t key[AUTH_KEY_LEN];
	char iqn_override[CFG_IQN_MAX]; /* empty: ask the iSCSI initiator */
	WCHAR trace_file[MAX_PATH];	/* empty: no trace file */
	DWORD commit_timeout_ms;
};

/*
 * Read the settings; missing values get their defaults.  Returns 0, or
 * a Win32 error for a value that exists but cannot be used (wrong type,
 * key that DPAPI cannot unprotect); err (may be NULL) then names it.
 */
DWORD config_load(struct prov_config *cfg, char *err, size_t errsz);
void config_wipe(struct prov_config *cfg);

/* arraysim-vss-reg config: writes only what is given (NULL = keep) */
DWORD config_store(const char *address, const DWORD *port, const uint8_t *key, const char *iqn,
		   const WCHAR *trace_file, const DWORD *commit_timeout_ms);

/* This host's initiator name: the override, else GetIScsiInitiatorNodeNameW
 * from iscsidsc.dll (loaded on demand, so hosts without it still load us). */
DWORD config_initiator_iqn(const struct prov_config *cfg, char *iqn, size_t iqnsz);

#endif

/*
 * provider_ids: the fixed identities of the arraysim VSS hardware
 * provider.  Shared by the provider DLL, the registration tool, the
 * installers (provider/win/installer) and the Wine harness (tests/wine).
 * Never change a value here: Windows hosts keep them in the registry.
 */
#ifndef ARRAYSIM_PROVIDER_IDS_H
#define ARRAYSIM_PROVIDER_IDS_H

/* one GUID initialiser per line reads better than clang-format's layout */
/* clang-format off */

/* COM class of the provider object */
#define ARRAYSIM_CLSID_STR "{16698416-8915-4203-B336-B90F6358F279}"
#define ARRAYSIM_CLSID_INIT                                                                        \
	{0x16698416, 0x8915, 0x4203, {0xb3, 0x36, 0xb9, 0x0f, 0x63, 0x58, 0xf2, 0x79}}
/* VSS ProviderId (IVssAdmin::RegisterProvider) */
#define ARRAYSIM_PROVIDER_ID_STR "{3A9A740B-F220-4878-BF76-5B54A23C7083}"
#define ARRAYSIM_PROVIDER_ID_INIT                                                                  \
	{0x3a9a740b, 0xf220, 0x4878, {0xbf, 0x76, 0x5b, 0x54, 0xa2, 0x3c, 0x70, 0x83}}
/* VSS ProviderVersionId, with the version string below */
#define ARRAYSIM_PROVIDER_VERSION_ID_STR "{911B518D-6800-4465-987A-21FFD1745F8E}"
#define ARRAYSIM_PROVIDER_VERSION_ID_INIT                                                          \
	{0x911b518d, 0x6800, 0x4465, {0x98, 0x7a, 0x21, 0xff, 0xd1, 0x74, 0x5f, 0x8e}}
/* clang-format on */
#define ARRAYSIM_PROVIDER_VERSION_STR L"1.0.0.0"
/* COM AppID: DllSurrogate, so VSS activates the DLL out of process */
#define ARRAYSIM_APPID_STR "{44A6A736-F8E7-40BD-9D7A-000FDBB7CBC1}"

#define ARRAYSIM_PROVIDER_NAME L"arraysim VSS Hardware Provider"
/* Application event log source */
#define ARRAYSIM_EVENT_SOURCE L"arraysim-vss"
/* HKLM configuration key (Address, Port, ControlKey, InitiatorIqn, TraceFile) */
#define ARRAYSIM_REG_KEY L"SOFTWARE\\arraysim\\VssProvider"

#endif

/*
 * vss_err: the HRESULT values the provider core returns, as portable
 * constants (values from mingw-w64 vsserror.h / winerror.h).  Only codes
 * VSS accepts from a provider are listed; anything else would be turned
 * into VSS_E_UNEXPECTED_PROVIDER_ERROR by VSS.
 */
#ifndef ARRAYSIM_VSS_ERR_H
#define ARRAYSIM_VSS_ERR_H

#include <stdint.h>

#define PROV_S_OK				     ((int32_t)0x00000000)
#define PROV_E_OUTOFMEMORY			     ((int32_t)0x8007000E)
#define PROV_E_INVALIDARG			     ((int32_t)0x80070057)
#define PROV_VSS_E_BAD_STATE			     ((int32_t)0x80042301)
#define PROV_VSS_E_PROVIDER_VETO		     ((int32_t)0x80042306)
#define PROV_VSS_E_OBJECT_NOT_FOUND		     ((int32_t)0x80042308)
#define PROV_VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED ((int32_t)0x80042312)

#endif

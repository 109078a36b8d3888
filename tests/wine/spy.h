/*
 * spy: an IMallocSpy that counts every CoTaskMemAlloc/CoTaskMemFree of
 * the process, so the harness can prove that each block the provider
 * hands out in a VDS_LUN_INFORMATION out-parameter is freed by the
 * caller (as the RPC stub does on Windows) and that nothing leaks.
 */
#ifndef ARRAYSIM_WINE_SPY_H
#define ARRAYSIM_WINE_SPY_H

#include <stddef.h>

struct spy_counts {
	unsigned long allocs; /* blocks allocated since registration */
	unsigned long frees;  /* of those, freed */
	unsigned long live;   /* allocated and not yet freed */
};

/* CoRegisterMallocSpy; 0 on success */
int spy_register(void);
/* CoRevokeMallocSpy; 0 on success (Wine refuses while blocks are live) */
int spy_revoke(void);
void spy_counts(struct spy_counts *out);
/* was p returned by CoTaskMemAlloc and not freed yet? */
int spy_is_live(const void *p);

#endif

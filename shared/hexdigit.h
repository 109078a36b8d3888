/*
 * hexdigit: one hex digit's value, for the parsers of keys, CHAP values
 * and serials (shared/auth.c, array-sim/iscsi/chap.c,
 * array-sim/control/array.c).  Header-only so the iSCSI codec fuzzers,
 * which build chap.c without libproto, get it too.
 */
#ifndef ARRAYSIM_HEXDIGIT_H
#define ARRAYSIM_HEXDIGIT_H

/* 0..15, or -1 when c is not a hex digit (either case) */
static inline int hexdigit_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif

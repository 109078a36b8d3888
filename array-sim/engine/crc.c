#include "crc.h"

#include <isa-l/crc.h>

uint32_t crc32c_block(const void *buf, size_t len, uint32_t salt)
{
	/* crc32_iscsi takes a non-const pointer but does not write through it. */
	return crc32_iscsi((unsigned char *)(uintptr_t)buf, (int)len, salt);
}

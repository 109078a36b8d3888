/* CRC32C (Castagnoli), the checksum of every metadata block and superblock.
 * Backed by ISA-L's crc32_iscsi, which uses SSE4.2/PCLMUL when present. */
#ifndef ARRAYSIM_CRC_H
#define ARRAYSIM_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC32C of buf, seeded with a fixed salt so that an all-zero block never
 * checksums to zero. */
uint32_t crc32c_block(const void *buf, size_t len, uint32_t salt);

#endif

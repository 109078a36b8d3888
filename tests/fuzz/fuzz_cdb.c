/*
 * fuzz_cdb: libFuzzer target for the SCSI core's CDB parsing and
 * execution (array-sim/scsi/).
 *
 * A small array is built once on a RAM pool: a 1 MiB LUN (512-byte
 * blocks) at LUN 0 and a snapshot of it at LUN 1, mapped to one host with
 * two initiators.  Each input gets a fresh SCSI context with two nexuses
 * (so unit attentions, reservations and mode pages start over; the data
 * and APTPL records in the pool carry over) and runs up to MAX_CMDS
 * commands.  Nothing may crash, hang, leak or trip a sanitizer, and every
 * response must respect the buffers and lengths of the contract.
 *
 * Input, repeated:
 *   u8 flags      bit 0: nexus 2; bits 1-2: LUN 0, 1, 2 (unmapped), 16383;
 *                 bit 3: no data-in buffer
 *   u8 cdb_len    (mod 33)
 *   cdb_len bytes
 *   be16 data-out length, then that many bytes (truncated to the input)
 *   be16 data-in buffer size (expected transfer length)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../array-sim/scsi/scsi.h"
#include "bdev.h"

#define MAX_CMDS 8

static struct bdev *dev;
static struct pool *pool;
static struct array *arr;

static void die(const char *what, int r)
{
	fprintf(stderr, "fuzz_cdb: %s: %d\n", what, r);
	abort();
}

static void build_once(void)
{
	struct pool_create_opts co = {.chunk_size = 64 << 10};
	struct lun_info l;
	uint64_t sid;
	int r;

	if ((r = bdev_mem_create(16 << 20, &dev)))
		die("bdev_mem_create", r);
	if ((r = pool_create(dev, &co)))
		die("pool_create", r);
	if ((r = pool_open(dev, NULL, &pool)))
		die("pool_open", r);
	if ((r = array_open(pool, &arr)))
		die("array_open", r);
	if ((r = array_lun_create(arr, "lun0", 1 << 20, 512, &l)))
		die("lun", r);
	if ((r = vol_snapshot(pool, l.id, "snap", &sid)))
		die("snapshot", r);
	if ((r = array_host_create(arr, "h", "iqn.2024-01.org.fuzz:a")))
		die("host", r);
	if ((r = array_host_add_iqn(arr, "h", "iqn.2024-01.org.fuzz:b")))
		die("iqn", r);
	if ((r = array_map(arr, "lun0", "h", 0, NULL)) ||
	    (r = array_map(arr, "snap", "h", 1, NULL)))
		die("map", r);
}

static uint16_t get16(const uint8_t **p, size_t *n)
{
	uint16_t v = 0;

	if (*n >= 2) {
		v = (uint16_t)((*p)[0] << 8 | (*p)[1]);
		*p += 2;
		*n -= 2;
	} else {
		*n = 0;
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t luns[4] = {0, 1, 2, 16383};
	struct scsi_nexus *nx[2];
	struct scsi_ctx *s;
	unsigned cmds = 0;

	if (!arr)
		build_once();
	if (scsi_create(arr, &s))
		abort();
	if (scsi_nexus_open(s, "iqn.2024-01.org.fuzz:a", "iqn.2024-01.org.fuzz:a,i,0x400000000001",
			    "iqn.2024-01.org.fuzz:t,t,0x1", 1, &nx[0]) ||
	    scsi_nexus_open(s, "iqn.2024-01.org.fuzz:b", "iqn.2024-01.org.fuzz:b,i,0x400000000002",
			    "iqn.2024-01.org.fuzz:t,t,0x2", 2, &nx[1]))
		abort();
	while (size >= 2 && cmds++ < MAX_CMDS) {
		uint8_t flags = data[0];
		unsigned cdb_len = data[1] % (SCSI_MAX_CDB + 1);
		struct scsi_cmd c;
		uint16_t dlen, ilen;
		uint8_t *din = NULL;
		int64_t want;

		data += 2;
		size -= 2;
		if (cdb_len > size)
			cdb_len = (unsigned)size;
		memset(&c, 0, sizeof(c));
		memcpy(c.cdb, data, cdb_len);
		c.cdb_len = cdb_len;
		data += cdb_len;
		size -= cdb_len;
		dlen = get16(&data, &size);
		if (dlen > size)
			dlen = (uint16_t)size;
		c.data_out = dlen ? data : NULL;
		c.data_out_len = dlen;
		data += dlen;
		size -= dlen;
		ilen = get16(&data, &size);
		c.lun = luns[(flags >> 1) & 3];
		c.exp_xfer_len = ilen;
		if (!(flags & 8) && ilen) {
			din = malloc(ilen);
			if (!din)
				abort();
			c.data_in = din;
		}
		/* The fabric's helpers must cope with anything too. */
		want = scsi_cdb_data_out_len(c.cdb, c.cdb_len, 512);
		(void)want;
		(void)scsi_lun_block_size(nx[flags & 1], c.lun);
		scsi_execute(nx[flags & 1], &c);
		if (c.data_in_len > c.exp_xfer_len || (!din && c.data_in_len))
			abort();
		if (c.sense_len > SCSI_SENSE_MAX ||
		    (c.status == SAM_STAT_CHECK_CONDITION) != (c.sense_len != 0))
			abort();
		free(din);
	}
	(void)scsi_nexus_has_ua(nx[0]);
	scsi_tmf(nx[0], SCSI_TMF_LUN_RESET, 0);
	scsi_nexus_close(nx[0]);
	scsi_nexus_close(nx[1]);
	scsi_destroy(s);
	return 0;
}

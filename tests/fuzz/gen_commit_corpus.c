/*
 * Writes seed inputs for fuzz_commit_reply into a directory: a max byte
 * then a SNAPSET_COMMIT reply payload as arraysimd builds it (put_snap in
 * array-sim/control/ctl_ops.c), for the LUNs vol0/vol1 the fuzzer has
 * "prepared".  Usage: gen_commit_corpus DIR
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"

static void snap(struct proto_buf *b, const char *name, const char *origin, uint8_t naa_byte)
{
	uint8_t naa[16], id[16];
	long m = proto_list_begin(b, PROTO_TAG_SNAP);

	memset(naa, naa_byte, sizeof(naa));
	memset(id, naa_byte ^ 0x5a, sizeof(id));
	proto_put_guid(b, PROTO_TAG_SNAP_ID, id);
	proto_put_str(b, PROTO_TAG_SNAP_NAME, name);
	proto_put_str(b, PROTO_TAG_LUN_NAME, origin);
	proto_put_u8(b, PROTO_TAG_SNAP_STATE, PROTO_SNAP_COMMITTED);
	proto_put_str(b, PROTO_TAG_LUN_SERIAL, "0d5021ece05d6c2f3cdb9c0b70f32479");
	proto_put_bytes(b, PROTO_TAG_LUN_NAA, naa, 16);
	proto_put_u64(b, PROTO_TAG_LUN_SIZE, 16u << 20);
	proto_list_end(b, m);
}

static int write_seed(const char *dir, const char *name, uint8_t max, const struct proto_buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&max, 1, 1, f) != 1 || (b->len && fwrite(b->data, b->len, 1, f) != 1))
		return 1;
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	struct proto_buf b;
	uint8_t set[16];
	int rc = 0;

	if (argc != 2)
		return 2;
	memset(set, 0x11, sizeof(set));
	proto_buf_init(&b);
	proto_put_status(&b, PROTO_OK, "");
	proto_put_guid(&b, PROTO_TAG_SNAPSET_ID, set);
	snap(&b, "vol0@1111111111111111", "vol0", 0x70);
	snap(&b, "vol1@1111111111111111", "vol1", 0x71);
	rc |= write_seed(argv[1], "two-snaps", 64, &b);
	rc |= write_seed(argv[1], "two-snaps-room-for-one", 1, &b);
	proto_buf_reset(&b);
	snap(&b, "other@1111111111111111", "other", 0x72);
	rc |= write_seed(argv[1], "unknown-origin", 64, &b);
	proto_buf_reset(&b);
	rc |= write_seed(argv[1], "empty", 64, &b);
	proto_buf_free(&b);
	return rc;
}

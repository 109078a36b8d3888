/*
 * libFuzzer target for the provider's parser of the SNAPSET_COMMIT reply
 * (array_commit_targets in provider/core/array_ops.c): the TLV records it
 * turns into the snapshot LUN identities GetTargetLuns hands to VSS.  The
 * reply comes from an authenticated array, but a wrong or truncated one
 * must still end in PROTO_EPROTO/EOVERFLOW, never an overread or a
 * target without its NUL-terminated name and serial.
 *
 * Input: u8 max (how many targets fit, 0..64), then the reply payload.
 * Two LUNs are "prepared" (names vol0 and vol1) so origins can resolve.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct array_ctx a;
	static struct snapset_target out[SNAPSET_MAX_LUNS];
	size_t max, n = 0;
	uint8_t *payload;
	int rc;

	if (size < 1)
		return 0;
	max = data[0] % (SNAPSET_MAX_LUNS + 1);
	memset(&a, 0, sizeof(a));
	a.n_refs = 2;
	memset(a.refs[0].naa, 0x60, 16);
	strcpy(a.refs[0].name, "vol0");
	memset(a.refs[1].naa, 0x61, 16);
	strcpy(a.refs[1].name, "vol1");
	payload = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees overreads */
	if (!payload)
		abort();
	memcpy(payload, data + 1, size - 1);
	rc = array_commit_targets(&a, payload, size - 1, out, max, &n);
	if (rc == 0) {
		if (n > max)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!memchr(out[i].name, '\0', sizeof(out[i].name)) ||
			    !memchr(out[i].serial, '\0', sizeof(out[i].serial)) || !out[i].name[0])
				abort();
	} else if (!memchr(a.last_msg, '\0', sizeof(a.last_msg)) || !a.last_msg[0]) {
		abort(); /* a failure always says why, for the event log */
	}
	free(payload);
	return 0;
}

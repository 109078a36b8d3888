/*
 * fuzz_pdu: libFuzzer target for the iSCSI PDU codec (array-sim/iscsi/
 * pdu.c) and the text splitter used on Text/Login data segments.
 *
 * Input: a byte stream of PDUs as they would arrive on a connection.  The
 * loop walks it the way conn.c's rx state machine does: BHS, checks
 * (login and full-feature limits), AHS walk, header digest, data segment
 * and padding, data digest, text split - stopping where the connection
 * would be dropped.  Nothing may crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../array-sim/iscsi/pdu.h"
#include "../../array-sim/iscsi/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	int login = size > 0 && (data[0] & 1); /* start in login phase or FFP */
	int digests = size > 0 && (data[0] & 2);

	if (size)
		off = 1;
	while (size - off >= ISCSI_BHS_LEN) {
		const uint8_t *h = data + off;
		struct iscsi_rx_limits lim = {.max_dsl = login ? 8192 : 262144, .login = login};
		uint8_t ext[16];
		unsigned ext_len;
		int bidi, chk;
		uint32_t dsl, ahs, hd = digests ? 4 : 0, dd, need;
		volatile uint64_t sink = 0;

		chk = iscsi_bhs_check(h, &lim);
		if (chk < 0)
			break; /* the connection would be dropped */
		ahs = bhs_ahs_len(h);
		dsl = bhs_dsl(h);
		dd = digests && dsl ? 4 : 0;
		need = ISCSI_BHS_LEN + ahs + hd;
		if (size - off < need)
			break;
		(void)iscsi_ahs_parse(h + ISCSI_BHS_LEN, ahs, ext, sizeof(ext), &ext_len, &bidi);
		if (hd)
			sink +=
			    iscsi_crc32c(h, ISCSI_BHS_LEN + ahs) == iscsi_digest_get(h + need - 4);
		sink += iscsi_lun_decode(bhs_lun(h)) + bhs_itt(h) + bhs_cmdsn(h) +
			bhs_expstatsn(h) + bhs_ttt(h) + bhs_datasn(h) + bhs_buffer_offset(h) +
			login_isid(h) + login_tsih(h) + login_cid(h) + login_csg(h) + login_nsg(h);
		off += need;
		if (size - off < (size_t)iscsi_pad4(dsl) + dd)
			break;
		if (dd)
			sink += iscsi_crc32c2(data + off, dsl, data + off + dsl,
					      iscsi_pad4(dsl) - dsl) ==
				iscsi_digest_get(data + off + iscsi_pad4(dsl));
		if (!chk &&
		    (bhs_opcode(h) == ISCSI_OP_TEXT_REQ || bhs_opcode(h) == ISCSI_OP_LOGIN_REQ)) {
			/* text segments are split in place in a copy with a
			 * trailing NUL, as conn.c does */
			char *t = malloc(dsl + 1);
			struct iscsi_kv kv[ISCSI_KV_MAX];

			if (!t)
				break;
			memcpy(t, data + off, dsl);
			t[dsl] = '\0';
			sink += (uint64_t)iscsi_text_split(t, dsl, kv, ISCSI_KV_MAX);
			free(t);
		}
		off += iscsi_pad4(dsl) + dd;
		if (bhs_opcode(h) == ISCSI_OP_LOGIN_REQ && (bhs_flags(h) & 0x83) == 0x83)
			login = 0; /* transit to full feature phase */
		(void)sink;
	}
	return 0;
}

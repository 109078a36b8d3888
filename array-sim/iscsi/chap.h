/*
 * chap: CHAP for iSCSI login (RFC 7143 12.1.3, RFC 1994), MD5 only
 * (CHAP_A=5).  Binary values travel as 0x hex or 0b base64 (RFC 7143
 * 6.1 "binary-value").  Pure computation plus OpenSSL's MD5 and RNG.
 */
#ifndef ARRAYSIM_ISCSI_CHAP_H
#define ARRAYSIM_ISCSI_CHAP_H

#include <stddef.h>
#include <stdint.h>

#define CHAP_MD5_LEN	   16
#define CHAP_CHALLENGE_LEN 16	/* what we send: 128 bits, as LIO and tgt */
#define CHAP_CHALLENGE_MAX 1024 /* what we take from the initiator (mutual) */
#define CHAP_SECRET_MIN	   12	/* RFC 7143 12.1.3: at least 96 bits */

/* Decode a 0x/0X hex or 0b/0B base64 binary value into out (at most max
 * bytes).  Returns the length, or -1 when malformed, empty or longer than
 * max. */
int chap_decode(const char *s, uint8_t *out, size_t max);
/* "0x" + lowercase hex; out needs 2 * n + 3 bytes.  Returns 0 or -1. */
int chap_encode_hex(const uint8_t *b, size_t n, char *out, size_t outsz);

/* RFC 1994 4.1: MD5(identifier || secret || challenge). 0 or -1. */
int chap_md5(uint8_t id, const void *secret, size_t slen, const uint8_t *chal, size_t clen,
	     uint8_t out[CHAP_MD5_LEN]);

/* Does the CHAP_A list (comma separated numbers) contain 5 (MD5)? */
int chap_a_has_md5(const char *list);

/* Fill buf with len cryptographically random bytes.  0 or -1. */
int chap_random(void *buf, size_t len);

/* Constant-time compare of two 16-byte digests: 1 equal. */
int chap_digest_equal(const uint8_t *a, const uint8_t *b);

#endif

/*
 * chap: binary-value codecs and the CHAP MD5 response (RFC 1994, RFC 7143
 * 12.1.3).
 */
#include "chap.h"
#include "hexdigit.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int decode_hex(const char *s, uint8_t *out, size_t max)
{
	size_t l = strlen(s), n = 0, i = 0;

	if (l == 0)
		return -1;
	/* RFC 7143 6.1: an odd number of hex digits has an implied leading
	 * zero nibble. */
	if (l & 1) {
		int v = hexdigit_val(s[0]);

		if (v < 0 || max < 1)
			return -1;
		out[n++] = (uint8_t)v;
		i = 1;
	}
	for (; i < l; i += 2) {
		int hi = hexdigit_val(s[i]), lo = hexdigit_val(s[i + 1]);

		if (hi < 0 || lo < 0 || n >= max)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return (int)n;
}

static int decode_b64(const char *s, uint8_t *out, size_t max)
{
	size_t l = strlen(s), n = 0;
	uint32_t acc = 0;
	unsigned bits = 0, pad = 0;

	if (l == 0 || l % 4)
		return -1;
	for (size_t i = 0; i < l; i++) {
		int v;

		if (s[i] == '=') {
			/* padding only at the end, at most two */
			if (i < l - 2 || ++pad > 2)
				return -1;
			continue;
		}
		if (pad)
			return -1;
		v = b64val(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (n == 0)
		return -1;
	return (int)n;
}

int chap_decode(const char *s, uint8_t *out, size_t max)
{
	if (s[0] != '0')
		return -1;
	if (s[1] == 'x' || s[1] == 'X')
		return decode_hex(s + 2, out, max);
	if (s[1] == 'b' || s[1] == 'B')
		return decode_b64(s + 2, out, max);
	return -1;
}

int chap_encode_hex(const uint8_t *b, size_t n, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";

	if (outsz < 2 * n + 3)
		return -1;
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = digits[b[i] >> 4];
		out[3 + 2 * i] = digits[b[i] & 15];
	}
	out[2 + 2 * n] = '\0';
	return 0;
}

int chap_md5(uint8_t id, const void *secret, size_t slen, const uint8_t *chal, size_t clen,
	     uint8_t out[CHAP_MD5_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned olen = 0;
	int ok;

	if (!c)
		return -1;
	ok = EVP_DigestInit_ex(c, EVP_md5(), NULL) && EVP_DigestUpdate(c, &id, 1) &&
	     EVP_DigestUpdate(c, secret, slen) && EVP_DigestUpdate(c, chal, clen) &&
	     EVP_DigestFinal_ex(c, out, &olen) && olen == CHAP_MD5_LEN;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

int chap_a_has_md5(const char *list)
{
	const char *s = list;

	while (*s) {
		size_t l = strcspn(s, ",");

		if (l == 1 && s[0] == '5')
			return 1;
		s += l;
		if (*s == ',')
			s++;
	}
	return 0;
}

int chap_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int chap_digest_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (unsigned i = 0; i < CHAP_MD5_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

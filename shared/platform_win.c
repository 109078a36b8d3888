/*
 * platform_win.c: Winsock 2 and BCrypt (CNG).  Link with -lws2_32
 * -lbcrypt.  Compiles to nothing elsewhere.
 */
#ifdef _WIN32

#include "platform.h"
#include "proto.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <bcrypt.h>
#include <stdio.h>
#include <string.h>

#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS ((NTSTATUS)0)
#endif

static volatile LONG net_ready;

int plat_net_init(void)
{
	WSADATA wsa;

	/* WSAStartup is refcounted; one successful call per process suffices */
	if (InterlockedCompareExchange(&net_ready, 1, 0) != 0)
		return 0;
	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
		InterlockedExchange(&net_ready, 0);
		return -PROTO_EIO;
	}
	return 0;
}

/* 1 ready, 0 timeout, negative error */
static int wait_sock(SOCKET s, int for_write, int timeout_ms)
{
	fd_set rs, ws, es;
	struct timeval tv, *tvp = NULL;
	int rc;

	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	FD_SET(s, for_write ? &ws : &rs);
	FD_SET(s, &es); /* a failed non-blocking connect shows up here */
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		tvp = &tv;
	}
	rc = select(0, &rs, &ws, &es, tvp);
	if (rc == SOCKET_ERROR)
		return -PROTO_EIO;
	return rc > 0 ? 1 : 0;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, SOCKET *out)
{
	SOCKET s;
	u_long nb = 1;
	int rc, err = 0, elen = sizeof(err);
	BOOL one = TRUE;

	s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (s == INVALID_SOCKET)
		return -PROTO_ECONNECT;
	ioctlsocket(s, FIONBIO, &nb);
	rc = connect(s, ai->ai_addr, (int)ai->ai_addrlen);
	if (rc == SOCKET_ERROR && WSAGetLastError() != WSAEWOULDBLOCK) {
		closesocket(s);
		return -PROTO_ECONNECT;
	}
	if (rc == SOCKET_ERROR) {
		rc = wait_sock(s, 1, timeout_ms);
		if (rc <= 0) {
			closesocket(s);
			return rc == 0 ? -PROTO_ETIMEDOUT : rc;
		}
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &elen) != 0 || err) {
			closesocket(s);
			return -PROTO_ECONNECT;
		}
	}
	nb = 0;
	ioctlsocket(s, FIONBIO, &nb);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
	*out = s;
	return 0;
}

int plat_connect(const char *host, uint16_t port, int timeout_ms, plat_sock *out)
{
	struct addrinfo hints, *res, *ai;
	char svc[8];
	SOCKET s = INVALID_SOCKET;
	int rc = plat_net_init();

	if (rc)
		return rc;
	rc = -PROTO_ECONNECT;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	if (getaddrinfo(host, svc, &hints, &res) != 0)
		return -PROTO_ECONNECT;
	for (ai = res; ai; ai = ai->ai_next) {
		rc = connect_one(ai, timeout_ms, &s);
		if (rc == 0)
			break;
	}
	freeaddrinfo(res);
	if (rc == 0)
		*out = (plat_sock)s;
	return rc;
}

int plat_listen(const char *host, uint16_t port, plat_sock *out, uint16_t *bound)
{
	struct addrinfo hints, *res;
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	char svc[8];
	SOCKET s;
	int rc = plat_net_init();

	if (rc)
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	if (getaddrinfo(host ? host : "127.0.0.1", svc, &hints, &res) != 0)
		return -PROTO_EINVAL;
	s = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (s == INVALID_SOCKET) {
		freeaddrinfo(res);
		return -PROTO_EIO;
	}
	if (bind(s, res->ai_addr, (int)res->ai_addrlen) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) != 0) {
		freeaddrinfo(res);
		closesocket(s);
		return -PROTO_EIO;
	}
	freeaddrinfo(res);
	if (bound)
		*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port);
	*out = (plat_sock)s;
	return 0;
}

int plat_accept(plat_sock ls, plat_sock *out)
{
	SOCKET s = accept((SOCKET)ls, NULL, NULL);

	if (s == INVALID_SOCKET)
		return -PROTO_EIO;
	*out = (plat_sock)s;
	return 0;
}

void plat_close(plat_sock s)
{
	if (s != PLAT_SOCK_INVALID)
		closesocket((SOCKET)s);
}

void plat_shutdown(plat_sock s)
{
	if (s != PLAT_SOCK_INVALID)
		shutdown((SOCKET)s, SD_BOTH);
}

static int wsa_err(void)
{
	int e = WSAGetLastError();

	return e == WSAECONNRESET || e == WSAECONNABORTED || e == WSAESHUTDOWN ? -PROTO_ECLOSED
									       : -PROTO_EIO;
}

int plat_send_all(plat_sock s, const void *buf, size_t n, int timeout_ms)
{
	uint64_t end = plat_deadline(timeout_ms);
	int left;
	const char *p = buf;
	int k, rc, chunk;

	while (n) {
		left = plat_time_left(end);
		if (left < 0)
			return -PROTO_ETIMEDOUT;
		rc = wait_sock((SOCKET)s, 1, left);
		if (rc <= 0)
			return rc == 0 ? -PROTO_ETIMEDOUT : rc;
		chunk = n > 0x40000000 ? 0x40000000 : (int)n;
		k = send((SOCKET)s, p, chunk, 0);
		if (k == SOCKET_ERROR)
			return wsa_err();
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int plat_recv_all(plat_sock s, void *buf, size_t n, int timeout_ms)
{
	uint64_t end = plat_deadline(timeout_ms);
	int left;
	char *p = buf;
	int k, rc, chunk;

	while (n) {
		left = plat_time_left(end);
		if (left < 0)
			return -PROTO_ETIMEDOUT;
		rc = wait_sock((SOCKET)s, 0, left);
		if (rc <= 0)
			return rc == 0 ? -PROTO_ETIMEDOUT : rc;
		chunk = n > 0x40000000 ? 0x40000000 : (int)n;
		k = recv((SOCKET)s, p, chunk, 0);
		if (k == 0)
			return -PROTO_ECLOSED;
		if (k == SOCKET_ERROR)
			return wsa_err();
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int plat_random(void *buf, size_t n)
{
	if (n > 0xffffffffu ||
	    BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != STATUS_SUCCESS)
		return -PROTO_EINTERNAL;
	return 0;
}

int plat_hmac_sha256(const uint8_t *key, size_t keylen, const struct plat_iov *iov, int niov,
		     uint8_t out[PLAT_SHA256_LEN])
{
	BCRYPT_ALG_HANDLE alg = NULL;
	BCRYPT_HASH_HANDLE h = NULL;
	int rc = -PROTO_EINTERNAL;

	if (keylen > 0xffffffffu)
		return rc;
	if (BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL,
					BCRYPT_ALG_HANDLE_HMAC_FLAG) != STATUS_SUCCESS)
		return rc;
	/* NULL object buffer: CNG allocates it (Windows 7 and later) */
	if (BCryptCreateHash(alg, &h, NULL, 0, (PUCHAR)key, (ULONG)keylen, 0) != STATUS_SUCCESS)
		goto out;
	for (int i = 0; i < niov; i++) {
		if (iov[i].n > 0xffffffffu ||
		    (iov[i].n &&
		     BCryptHashData(h, (PUCHAR)iov[i].p, (ULONG)iov[i].n, 0) != STATUS_SUCCESS))
			goto out;
	}
	if (BCryptFinishHash(h, out, PLAT_SHA256_LEN, 0) != STATUS_SUCCESS)
		goto out;
	rc = 0;
out:
	if (h)
		BCryptDestroyHash(h);
	BCryptCloseAlgorithmProvider(alg, 0);
	return rc;
}

int plat_memcmp_ct(const void *a, const void *b, size_t n)
{
	/* volatile: keep the compiler from turning this into an early-exit memcmp */
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d != 0;
}

void plat_wipe(void *p, size_t n)
{
	SecureZeroMemory(p, n);
}

uint64_t plat_now_ms(void)
{
	return (uint64_t)GetTickCount64();
}

void plat_sleep_ms(unsigned ms)
{
	Sleep(ms);
}

#else
/* ISO C forbids an empty translation unit */
typedef int platform_win_unused;
#endif

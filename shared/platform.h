/*
 * platform: the few OS services the protocol code needs, implemented in
 * platform_posix.c (sockets + OpenSSL libcrypto) and platform_win.c
 * (Winsock + BCrypt).  Each .c compiles to nothing on the other OS.
 *
 * All functions return 0 or a negative PROTO_E* code (see proto.h), so
 * callers never see errno or WSAGetLastError values.
 */
#ifndef ARRAYSIM_PLATFORM_H
#define ARRAYSIM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* a socket handle: int fd on POSIX, SOCKET (an integer handle) on Windows */
typedef uintptr_t plat_sock;
#define PLAT_SOCK_INVALID ((plat_sock) ~(uintptr_t)0)

#define PLAT_SHA256_LEN 32

struct plat_iov {
	const void *p;
	size_t n;
};

/* once per process (WSAStartup on Windows); safe to call repeatedly */
int plat_net_init(void);

/*
 * Connect over TCP with a timeout (ms, <= 0 means the OS default).
 * ECONNECT when refused or unresolvable, ETIMEDOUT on timeout.
 */
int plat_connect(const char *host, uint16_t port, int timeout_ms, plat_sock *out);
/* listen on host (NULL = loopback) and port (0 = any); *bound gets the port */
int plat_listen(const char *host, uint16_t port, plat_sock *out, uint16_t *bound);
int plat_accept(plat_sock ls, plat_sock *out);
void plat_close(plat_sock s);
/* shut both directions so a blocked peer thread wakes up */
void plat_shutdown(plat_sock s);

/*
 * Send or receive exactly n bytes, waiting at most timeout_ms for each
 * chunk (<= 0: no timeout).  ECLOSED on orderly close before n bytes,
 * ETIMEDOUT, EIO otherwise.
 */
int plat_send_all(plat_sock s, const void *buf, size_t n, int timeout_ms);
int plat_recv_all(plat_sock s, void *buf, size_t n, int timeout_ms);

/* cryptographically strong random bytes */
int plat_random(void *buf, size_t n);

/* HMAC-SHA256 over the concatenation of iov[0..niov) */
int plat_hmac_sha256(const uint8_t *key, size_t keylen, const struct plat_iov *iov, int niov,
		     uint8_t out[PLAT_SHA256_LEN]);

/* 0 when equal; time depends on n only, never on the data */
int plat_memcmp_ct(const void *a, const void *b, size_t n);

/* best-effort wipe the compiler may not elide */
void plat_wipe(void *p, size_t n);

uint64_t plat_now_ms(void); /* monotonic */
void plat_sleep_ms(unsigned ms);

/*
 * Deadlines for the *_all functions and the client's round trips: a
 * timeout bounds a whole transfer, not each wait, so a peer that trickles
 * a byte now and then cannot stretch a call (the provider's commit runs
 * under VSS's 10 s Flush-and-Hold).  timeout_ms <= 0 means no limit:
 * plat_deadline() returns 0 and plat_time_left() 0 (wait without limit).
 */
static inline uint64_t plat_deadline(int timeout_ms)
{
	return timeout_ms > 0 ? plat_now_ms() + (uint64_t)timeout_ms : 0;
}

/* ms left until end for the next wait (>= 1), or -1 when it has passed */
static inline int plat_time_left(uint64_t end)
{
	uint64_t now;

	if (!end)
		return 0;
	now = plat_now_ms();
	return now >= end ? -1 : (int)(end - now);
}

#endif

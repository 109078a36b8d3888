/*
 * platform_posix.c: POSIX sockets and OpenSSL libcrypto (3.x EVP_MAC).
 * Compiles to nothing on Windows so every shared .c file can be built wholesale.
 */
#ifndef _WIN32

#include "platform.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

int plat_net_init(void)
{
	return 0;
}

/* wait for fd readiness; 1 ready, 0 timeout, negative error */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	do
		rc = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -PROTO_EIO;
	return rc;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *out)
{
	int fd, fl, rc, err = 0, one = 1;
	socklen_t elen = sizeof(err);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -PROTO_ECONNECT;
	/* non-blocking only for the connect, so the timeout is ours */
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc < 0 && errno != EINPROGRESS) {
		close(fd);
		return -PROTO_ECONNECT;
	}
	if (rc < 0) {
		rc = wait_fd(fd, POLLOUT, timeout_ms);
		if (rc <= 0) {
			close(fd);
			return rc == 0 ? -PROTO_ETIMEDOUT : rc;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
			close(fd);
			return err == ETIMEDOUT ? -PROTO_ETIMEDOUT : -PROTO_ECONNECT;
		}
	}
	fcntl(fd, F_SETFL, fl);
	/* request/reply traffic: Nagle would add a delay to every call */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = fd;
	return 0;
}

int plat_connect(const char *host, uint16_t port, int timeout_ms, plat_sock *out)
{
	struct addrinfo hints, *res, *ai;
	char svc[8];
	int rc = -PROTO_ECONNECT, fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	if (getaddrinfo(host, svc, &hints, &res) != 0)
		return -PROTO_ECONNECT;
	for (ai = res; ai; ai = ai->ai_next) {
		rc = connect_one(ai, timeout_ms, &fd);
		if (rc == 0)
			break;
	}
	freeaddrinfo(res);
	if (rc == 0)
		*out = (plat_sock)fd;
	return rc;
}

int plat_listen(const char *host, uint16_t port, plat_sock *out, uint16_t *bound)
{
	struct addrinfo hints, *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char svc[8];
	int fd, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	if (getaddrinfo(host ? host : "127.0.0.1", svc, &hints, &res) != 0)
		return -PROTO_EINVAL;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0) {
		freeaddrinfo(res);
		return -PROTO_EIO;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		freeaddrinfo(res);
		close(fd);
		return -PROTO_EIO;
	}
	freeaddrinfo(res);
	if (bound)
		*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port);
	*out = (plat_sock)fd;
	return 0;
}

int plat_accept(plat_sock ls, plat_sock *out)
{
	int fd;

	do
		fd = accept4((int)ls, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -PROTO_EIO;
	*out = (plat_sock)fd;
	return 0;
}

void plat_close(plat_sock s)
{
	if (s != PLAT_SOCK_INVALID)
		close((int)s);
}

void plat_shutdown(plat_sock s)
{
	if (s != PLAT_SOCK_INVALID)
		shutdown((int)s, SHUT_RDWR);
}

int plat_send_all(plat_sock s, const void *buf, size_t n, int timeout_ms)
{
	uint64_t end = plat_deadline(timeout_ms);
	int left;
	const uint8_t *p = buf;
	ssize_t k;
	int rc;

	while (n) {
		left = plat_time_left(end);
		if (left < 0)
			return -PROTO_ETIMEDOUT;
		rc = wait_fd((int)s, POLLOUT, left);
		if (rc <= 0)
			return rc == 0 ? -PROTO_ETIMEDOUT : rc;
		/* MSG_NOSIGNAL: a dead peer is an error code, not SIGPIPE */
		k = send((int)s, p, n, MSG_NOSIGNAL);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return errno == EPIPE || errno == ECONNRESET ? -PROTO_ECLOSED : -PROTO_EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int plat_recv_all(plat_sock s, void *buf, size_t n, int timeout_ms)
{
	uint64_t end = plat_deadline(timeout_ms);
	int left;
	uint8_t *p = buf;
	ssize_t k;
	int rc;

	while (n) {
		left = plat_time_left(end);
		if (left < 0)
			return -PROTO_ETIMEDOUT;
		rc = wait_fd((int)s, POLLIN, left);
		if (rc <= 0)
			return rc == 0 ? -PROTO_ETIMEDOUT : rc;
		k = recv((int)s, p, n, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return -PROTO_ECLOSED;
		if (k < 0)
			return -PROTO_EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int plat_random(void *buf, size_t n)
{
	if (n > (size_t)0x7fffffff || RAND_bytes(buf, (int)n) != 1)
		return -PROTO_EINTERNAL;
	return 0;
}

int plat_hmac_sha256(const uint8_t *key, size_t keylen, const struct plat_iov *iov, int niov,
		     uint8_t out[PLAT_SHA256_LEN])
{
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int rc = -PROTO_EINTERNAL;
	char digest[] = "SHA256";

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return rc;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, keylen, params))
		goto out;
	for (int i = 0; i < niov; i++)
		if (iov[i].n && !EVP_MAC_update(ctx, iov[i].p, iov[i].n))
			goto out;
	if (!EVP_MAC_final(ctx, out, &outl, PLAT_SHA256_LEN) || outl != PLAT_SHA256_LEN)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int plat_memcmp_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) ? 1 : 0;
}

void plat_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

uint64_t plat_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void plat_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#else
/* ISO C forbids an empty translation unit */
typedef int platform_posix_unused;
#endif

/*
 * fwd: connect stdin/stdout to 127.0.0.1:PORT, both ways, until either
 * side closes.  QEMU runs one per guest connection for
 * "guestfwd=tcp:10.0.2.100:3260-cmd:fwd PORT" (the plain tcp: chardev form
 * of guestfwd carries only one connection, and an initiator reconnects).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Copy what is readable on from to to; 0 at EOF or error. */
static int pump(int from, int to)
{
	char buf[65536];
	ssize_t r = read(from, buf, sizeof(buf));
	if (r < 0 && errno == EINTR)
		return 1;
	if (r <= 0)
		return 0;
	for (char *p = buf; r > 0;) {
		ssize_t w = write(to, p, (size_t)r);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		p += w;
		r -= w;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fwd PORT\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, by design */
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("fwd: connect 127.0.0.1");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = s, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(0, s))
			break;
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(s, 1))
			break;
	}
	return 0;
}

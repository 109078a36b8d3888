/*
 * vmchan: run one shell script in the arraysim test guest over its
 * virtio-serial command port (QEMU chardev: a unix socket server).
 *
 *   vmchan SOCKET TIMEOUT_S < script
 *
 * Sends "ID BASE64(script)\n", copies everything the guest answers to
 * stdout up to the line "@@ARRAYSIM-END ID RC", and exits with RC.  Output
 * left over from an earlier, abandoned command carries another ID and is
 * skipped.  Exit 124: no answer within TIMEOUT_S; 125: cannot connect or
 * the guest went away.  The guest side is vm-images/linux-guest/init.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define END_TAG "@@ARRAYSIM-END "

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0, r;
	char *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	*len = n;
	return buf;
}

static char *base64(const unsigned char *in, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
	size_t i;
	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < len) {
		unsigned v = in[i] << 16 | (i + 1 < len ? in[i + 1] << 8 : 0);
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = 0;
	return out;
}

/* QEMU creates the socket a moment after it starts: retry until the deadline. */
static int connect_until(const char *path, double deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vmchan: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (now_s() > deadline) {
			fprintf(stderr, "vmchan: connect %s: %s\n", path, strerror(errno));
			return -1;
		}
		usleep(50000);
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vmchan SOCKET TIMEOUT_S < script\n");
		return 2;
	}
	double deadline = now_s() + atof(argv[2]);
	size_t slen;
	char *script = read_all(stdin, &slen);
	char *b64 = script ? base64((unsigned char *)script, slen) : NULL;
	if (!b64)
		return 125;

	char id[32], tag[64];
	snprintf(id, sizeof(id), "c%ld%d", (long)time(NULL), (int)getpid());
	size_t taglen = (size_t)snprintf(tag, sizeof(tag), END_TAG "%s ", id);

	int fd = connect_until(argv[1], deadline);
	if (fd < 0)
		return 125;
	size_t mlen = strlen(id) + strlen(b64) + 3;
	char *msg = malloc(mlen);
	snprintf(msg, mlen, "%s %s\n", id, b64);
	if (write_all(fd, msg, strlen(msg)) < 0) {
		perror("vmchan: write");
		return 125;
	}

	/* Line by line: pass lines through, stop at our end tag. */
	char line[65536];
	size_t have = 0;
	for (;;) {
		char *nl;
		while ((nl = memchr(line, '\n', have)) != NULL) {
			size_t l = (size_t)(nl - line) + 1;
			if (l > taglen && memcmp(line, tag, taglen) == 0) {
				fflush(stdout);
				return atoi(line + taglen);
			}
			if (!(l > sizeof(END_TAG) - 1 &&
			      memcmp(line, END_TAG, sizeof(END_TAG) - 1) == 0))
				fwrite(line, 1, l, stdout);
			memmove(line, line + l, have - l);
			have -= l;
		}
		if (have == sizeof(line)) { /* a very long line: pass it on */
			fwrite(line, 1, have, stdout);
			have = 0;
		}
		int left = (int)((deadline - now_s()) * 1000);
		if (left <= 0) {
			fprintf(stderr, "vmchan: no answer within %s s\n", argv[2]);
			return 124;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, left) <= 0)
			continue;
		ssize_t r = read(fd, line + have, sizeof(line) - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vmchan: the guest closed the channel\n");
			return 125;
		}
		have += (size_t)r;
	}
}

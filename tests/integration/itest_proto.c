/*
 * itest_proto: protocol-level checks against a live arraysimd that the
 * CLI cannot make: replayed and tampered sealed frames, the same request
 * id sent twice (with and without F_RETRY, and after a dropped
 * connection), and a connected client surviving "fault drop-connections".
 *
 *   itest_proto PORT KEYFILE CHECK [NAME]
 *
 * CHECK: noauth | replay | tamper | retry | reqid0 | snapset | retry-drop | retry-timeout |
 * dropconn Prints "PASS: ..." / "FAIL: ..." lines; exit status 1 if any failed. Frames are built
 * with proto.h and sealed with auth.h exactly as the client library does, so the only difference
 * from a good client is the one thing under test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client.h"
#include "platform.h"
#include "proto.h"

#define IO_MS 5000

static int read_ms = IO_MS; /* reply wait; shorter where a hang is the bug */

static uint16_t port;
static uint8_t key[AUTH_KEY_LEN];
static int failed;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failed = 1;
}

/* ---- a hand-driven session ------------------------------------------------ */

struct raw {
	plat_sock s;
	struct auth_ctx a;
};

static int hs_round(struct raw *r, uint16_t type, const struct proto_buf *pl, uint8_t **frame,
		    size_t *len)
{
	struct proto_buf out;
	int rc;

	proto_buf_init(&out);
	rc = proto_frame_build(&out, type, 0, 1000 + type, pl->data, pl->len);
	if (!rc)
		rc = net_send_frame(r->s, out.data, out.len, IO_MS);
	proto_buf_free(&out);
	return rc ? rc : net_recv_frame(r->s, IO_MS, frame, len);
}

static int raw_open(struct raw *r)
{
	struct proto_buf pl;
	struct proto_frame f;
	uint8_t *fr = NULL;
	size_t len;
	int rc;

	rc = plat_connect("127.0.0.1", port, IO_MS, &r->s);
	if (rc)
		return rc;
	auth_init(&r->a, 0, key);
	proto_buf_init(&pl);
	rc = auth_client_hello(&r->a, "itest_proto", &pl);
	if (!rc)
		rc = hs_round(r, PROTO_MSG_AUTH_HELLO, &pl, &fr, &len);
	if (!rc)
		rc = proto_frame_decode(fr, len, &f);
	if (!rc) {
		proto_buf_reset(&pl);
		rc = auth_client_proof(&r->a, f.payload, f.payload_len, &pl);
	}
	free(fr);
	fr = NULL;
	if (!rc)
		rc = hs_round(r, PROTO_MSG_AUTH_PROOF, &pl, &fr, &len);
	if (!rc)
		rc = auth_client_confirm(&r->a, fr, len);
	free(fr);
	proto_buf_free(&pl);
	return rc;
}

static void raw_close(struct raw *r)
{
	plat_close(r->s);
	auth_wipe(&r->a);
}

/* A sealed request frame, as client.c builds it. */
static int seal(struct raw *r, uint16_t type, uint8_t flags, uint64_t reqid,
		const struct proto_buf *pl, struct proto_buf *out)
{
	int rc;

	proto_buf_init(out);
	rc = proto_frame_build(out, type, flags | PROTO_F_MAC, reqid, pl->data, pl->len);
	return rc ? rc : auth_seal(&r->a.sess, out->data, out->len);
}

/* Read one reply.  *sealed: it verified under the session (else it is
 * the unsealed error a server sends before closing).  Returns its status
 * or a negative transport error. */
static int read_reply(struct raw *r, int *sealed, uint8_t *frame_out, size_t *flen)
{
	struct proto_frame f;
	uint8_t *fr = NULL;
	uint32_t st = 0;
	size_t len;
	int rc = net_recv_frame(r->s, read_ms, &fr, &len);

	if (rc)
		return rc;
	*sealed = 0;
	rc = proto_frame_decode(fr, len, &f);
	if (!rc && (f.hdr.flags & PROTO_F_MAC)) {
		rc = auth_open(&r->a.sess, fr, len);
		*sealed = !rc;
	}
	if (!rc)
		rc = proto_get_status(f.payload, f.payload_len, &st, NULL, 0);
	if (!rc && frame_out && flen && f.payload_len <= *flen) {
		memcpy(frame_out, f.payload, f.payload_len);
		*flen = f.payload_len;
	}
	free(fr);
	return rc ? rc : (int)st;
}

static void lun_create_fields(struct proto_buf *pl, const char *name)
{
	proto_buf_init(pl);
	proto_put_str(pl, PROTO_TAG_LUN_NAME, name);
	proto_put_u64(pl, PROTO_TAG_LUN_SIZE, 1ull << 30);
}

/* ---- state, seen through the client library ----------------------------- */

static struct client *lib_open(int io_ms)
{
	struct client_cfg cfg = {.host = "127.0.0.1", .port = port, .client_name = "itest_lib"};
	struct client *c = NULL;

	memcpy(cfg.key, key, sizeof(key));
	cfg.io_timeout_ms = io_ms;
	cfg.max_attempts = 4;
	cfg.retry_delay_ms = 50;
	if (client_open(&cfg, &c))
		return NULL;
	return c;
}

/* how many LUNs (volumes, clones) are called name; -1 on error */
static int lun_count(const char *name)
{
	struct client *c = lib_open(IO_MS);
	struct client_reply rep;
	struct proto_iter it, sub;
	struct proto_field f, g;
	char buf[128];
	int n = 0;

	if (!c || client_call(c, PROTO_MSG_LUN_LIST, client_new_reqid(c), NULL, &rep)) {
		client_close(c);
		return -1;
	}
	proto_iter_init(&it, rep.payload, rep.payload_len);
	while (proto_iter_next(&it, &f) > 0) {
		if (f.tag != PROTO_TAG_LUN || proto_field_list(&f, &sub))
			continue;
		if (!proto_find(sub.p, sub.left, PROTO_TAG_LUN_NAME, &g) &&
		    !proto_field_str(&g, buf, sizeof(buf)) && !strcmp(buf, name))
			n++;
	}
	client_reply_free(&rep);
	client_close(c);
	return n;
}

/* ---- checks ----------------------------------------------------------------- */

/* Resend a captured sealed frame on the same connection (sequence number
 * already used: EREPLAY) and into a new connection (other session keys:
 * EBADMAC).  Both must be refused and the connection closed. */
static void t_replay(const char *name)
{
	struct proto_buf pl, fr, del;
	struct raw r, r2;
	int sealed, st, before;
	char other[80];

	if (raw_open(&r)) {
		check(0, "replay: handshake");
		return;
	}
	lun_create_fields(&pl, name);
	seal(&r, PROTO_MSG_LUN_CREATE, 0, client_new_reqid(NULL), &pl, &fr);
	net_send_frame(r.s, fr.data, fr.len, IO_MS);
	st = read_reply(&r, &sealed, NULL, NULL);
	check(st == PROTO_OK && sealed, "replay: original LUN_CREATE %s accepted (status %d)", name,
	      st);
	/* delete it, so a replayed create that got through would show */
	proto_buf_init(&del);
	proto_put_str(&del, PROTO_TAG_LUN_NAME, name);
	{
		struct proto_buf f2;

		seal(&r, PROTO_MSG_LUN_DELETE, 0, client_new_reqid(NULL), &del, &f2);
		net_send_frame(r.s, f2.data, f2.len, IO_MS);
		st = read_reply(&r, &sealed, NULL, NULL);
		proto_buf_free(&f2);
	}
	check(st == PROTO_OK, "replay: LUN_DELETE %s accepted", name);
	before = lun_count(name);
	net_send_frame(r.s, fr.data, fr.len, IO_MS);
	st = read_reply(&r, &sealed, NULL, NULL);
	check(!sealed && st == PROTO_EREPLAY,
	      "replay: same frame again on its connection refused unsealed with EREPLAY (got %d)",
	      st);
	st = read_reply(&r, &sealed, NULL, NULL);
	check(st == -PROTO_ECLOSED || st == -PROTO_EIO,
	      "replay: server closed the connection (read: %d)", st);
	raw_close(&r);

	if (raw_open(&r2)) {
		check(0, "replay: second handshake");
	} else {
		net_send_frame(r2.s, fr.data, fr.len, IO_MS);
		st = read_reply(&r2, &sealed, NULL, NULL);
		check(!sealed && (st == PROTO_EBADMAC || st == -PROTO_ECLOSED),
		      "replay: frame from another session refused (EBADMAC, got %d)", st);
		st = read_reply(&r2, &sealed, NULL, NULL);
		check(st == -PROTO_ECLOSED || st == -PROTO_EIO,
		      "replay: server closed that connection too (read: %d)", st);
		raw_close(&r2);
	}
	snprintf(other, sizeof(other), "%s", name);
	check(before == 0 && lun_count(other) == 0,
	      "replay: state unchanged, LUN %s still absent after the replays", name);
	proto_buf_free(&pl);
	proto_buf_free(&fr);
	proto_buf_free(&del);
}

/* Before the handshake the array takes nothing but AUTH_HELLO: a request
 * (unsealed, or sealed with a made-up key) gets EAUTH and a close. */
static void t_noauth(const char *name)
{
	struct proto_buf pl, fr;
	struct raw r;
	int sealed, st;

	lun_create_fields(&pl, name);
	if (plat_connect("127.0.0.1", port, IO_MS, &r.s)) {
		check(0, "noauth: connect");
		return;
	}
	auth_init(&r.a, 0, key);
	proto_buf_init(&fr);
	proto_frame_build(&fr, PROTO_MSG_LUN_CREATE, 0, client_new_reqid(NULL), pl.data, pl.len);
	net_send_frame(r.s, fr.data, fr.len, IO_MS);
	st = read_reply(&r, &sealed, NULL, NULL);
	check(!sealed && st == PROTO_EAUTH,
	      "noauth: LUN_CREATE before the handshake refused with EAUTH (got %d)", st);
	st = read_reply(&r, &sealed, NULL, NULL);
	check(st == -PROTO_ECLOSED || st == -PROTO_EIO, "noauth: connection closed (read: %d)", st);
	raw_close(&r);
	check(lun_count(name) == 0, "noauth: no LUN %s was created", name);
	proto_buf_free(&pl);
	proto_buf_free(&fr);
}

/* Flip one bit of a sealed frame: in the payload (the LUN name), or in
 * the header (flags, seq).  Each must be refused with EBADMAC and close. */
static void t_tamper(const char *name)
{
	static const struct {
		const char *what;
		size_t off; /* from the frame start; SIZE_MAX: the name's first byte */
		uint8_t bit;
	} cases[] = {
	    {"payload (LUN name)", (size_t)-1, 0x01},
	    {"header reqid", PROTO_OFF_REQID + 7, 0x01},
	    {"header seq", PROTO_OFF_SEQ + 7, 0x02},
	    {"MAC", (size_t)-2, 0x80},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_buf pl, fr;
		struct raw r;
		int sealed, st;
		char n2[80];
		size_t off;

		if (raw_open(&r)) {
			check(0, "tamper: handshake");
			return;
		}
		snprintf(n2, sizeof(n2), "%s%zu", name, i);
		lun_create_fields(&pl, n2);
		seal(&r, PROTO_MSG_LUN_CREATE, 0, client_new_reqid(NULL), &pl, &fr);
		off = cases[i].off;
		if (off == (size_t)-1) /* first field is LUN_NAME: value after 8-byte field hdr */
			off = PROTO_HDR_LEN + PROTO_FIELD_HDR_LEN;
		else if (off == (size_t)-2)
			off = fr.len - 1;
		fr.data[off] ^= cases[i].bit;
		net_send_frame(r.s, fr.data, fr.len, IO_MS);
		st = read_reply(&r, &sealed, NULL, NULL);
		check(!sealed && st == PROTO_EBADMAC,
		      "tamper: bit flipped in %s refused unsealed with EBADMAC (got %d)",
		      cases[i].what, st);
		st = read_reply(&r, &sealed, NULL, NULL);
		check(st == -PROTO_ECLOSED || st == -PROTO_EIO,
		      "tamper: connection closed after the %s flip (read: %d)", cases[i].what, st);
		raw_close(&r);
		check(lun_count(n2) == 0, "tamper: no LUN %s was created", n2);
		/* the payload flip changes the name's first letter */
		n2[0] ^= 0x01;
		if (i == 0)
			check(lun_count(n2) == 0, "tamper: nor LUN %s (the flipped name)", n2);
		proto_buf_free(&pl);
		proto_buf_free(&fr);
	}
}

static int lun_uuid(const uint8_t *pl, size_t len, uint8_t u[16])
{
	struct proto_field f, g;
	struct proto_iter sub;

	if (proto_find(pl, len, PROTO_TAG_LUN, &f) || proto_field_list(&f, &sub) ||
	    proto_find(sub.p, sub.left, PROTO_TAG_SNAP_ID, &g))
		return -1;
	return proto_field_guid(&g, u);
}

/* The same request id twice through the library (no F_RETRY), then again
 * on a raw session with F_RETRY: one LUN, the first reply every time. */
static void t_retry(const char *name)
{
	struct client *c = lib_open(IO_MS);
	struct client_reply a, b;
	struct proto_buf pl, fr;
	uint8_t ua[16], ub[16], uc[16], pbuf[4096];
	size_t plen = sizeof(pbuf);
	uint64_t id;
	struct raw r;
	int sealed, st;

	if (!c) {
		check(0, "retry: connect");
		return;
	}
	id = client_new_reqid(c);
	lun_create_fields(&pl, name);
	st = client_call(c, PROTO_MSG_LUN_CREATE, id, &pl, &a);
	check(!st && a.status == PROTO_OK, "retry: LUN_CREATE %s (reqid %016llx) OK", name,
	      (unsigned long long)id);
	st = client_call(c, PROTO_MSG_LUN_CREATE, id, &pl, &b);
	check(!st && b.status == PROTO_OK && !lun_uuid(a.payload, a.payload_len, ua) &&
		  !lun_uuid(b.payload, b.payload_len, ub) && !memcmp(ua, ub, 16),
	      "retry: same id again answered from the cache: OK with the same LUN uuid "
	      "(status %u)",
	      b.status);
	client_reply_free(&a);
	client_reply_free(&b);
	client_close(c);
	if (raw_open(&r)) {
		check(0, "retry: raw handshake");
	} else {
		seal(&r, PROTO_MSG_LUN_CREATE, PROTO_F_RETRY, id, &pl, &fr);
		net_send_frame(r.s, fr.data, fr.len, IO_MS);
		st = read_reply(&r, &sealed, pbuf, &plen);
		check(st == PROTO_OK && sealed && !lun_uuid(pbuf, plen, uc) && !memcmp(ua, uc, 16),
		      "retry: F_RETRY on a new connection: same outcome (status %d)", st);
		proto_buf_free(&fr);
		raw_close(&r);
	}
	check(lun_count(name) == 1, "retry: exactly one LUN %s exists (%d)", name, lun_count(name));
	proto_buf_free(&pl);
}

/* Request id 0 is reserved (spec section 6): EINVAL, nothing created. */
static void t_reqid0(const char *name)
{
	struct proto_buf pl, fr;
	struct raw r;
	int sealed, st;

	lun_create_fields(&pl, name);
	if (raw_open(&r)) {
		check(0, "reqid0: handshake");
		return;
	}
	seal(&r, PROTO_MSG_LUN_CREATE, 0, 0, &pl, &fr);
	net_send_frame(r.s, fr.data, fr.len, IO_MS);
	read_ms = 2000; /* ETIMEDOUT here: the server hung on the request */
	st = read_reply(&r, &sealed, NULL, NULL);
	read_ms = IO_MS;
	check(st == PROTO_EINVAL,
	      "reqid0: LUN_CREATE with request id 0 refused with EINVAL (got %d)", st);
	raw_close(&r);
	check(lun_count(name) == 0, "reqid0: no LUN %s was created", name);
	proto_buf_free(&pl);
	proto_buf_free(&fr);
}

/* One library call under a fresh id; the reply status, or -1. */
static int lib_status(struct client *c, uint16_t type, const struct proto_buf *pl, int *nsnaps)
{
	struct client_reply rep;
	struct proto_iter it;
	struct proto_field f;
	int st;

	if (client_call(c, type, client_new_reqid(c), pl, &rep))
		return -1;
	st = (int)rep.status;
	if (nsnaps) {
		*nsnaps = 0;
		proto_iter_init(&it, rep.payload, rep.payload_len);
		while (proto_iter_next(&it, &f) > 0)
			*nsnaps += f.tag == PROTO_TAG_SNAP;
	}
	client_reply_free(&rep);
	return st;
}

/* The snapshot-set id is a second, durable idempotency key (spec section
 * 6): PREPARE of a prepared set with the same LUNs, COMMIT of a committed
 * set and ABORT of an unknown or aborted set succeed, under new request
 * ids, and report the current state.  NAME must be an existing LUN. */
static void t_snapset(const char *name)
{
	struct client *c = lib_open(IO_MS);
	struct proto_buf prep, id;
	uint8_t set[16];
	int st, n = 0;

	if (!c) {
		check(0, "snapset: connect");
		return;
	}
	plat_random(set, sizeof(set));
	proto_buf_init(&prep);
	proto_put_guid(&prep, PROTO_TAG_SNAPSET_ID, set);
	proto_put_str(&prep, PROTO_TAG_LUN_NAME, name);
	proto_buf_init(&id);
	proto_put_guid(&id, PROTO_TAG_SNAPSET_ID, set);
	st = lib_status(c, PROTO_MSG_SNAPSET_PREPARE, &prep, NULL);
	check(st == PROTO_OK, "snapset: PREPARE of LUN %s (status %d)", name, st);
	st = lib_status(c, PROTO_MSG_SNAPSET_PREPARE, &prep, NULL);
	check(st == PROTO_OK, "snapset: PREPARE again, same set and LUNs, new request id: OK (%d)",
	      st);
	st = lib_status(c, PROTO_MSG_SNAPSET_COMMIT, &id, &n);
	check(st == PROTO_OK && n == 1, "snapset: COMMIT: OK with 1 SNAP record (%d, %d)", st, n);
	st = lib_status(c, PROTO_MSG_SNAPSET_COMMIT, &id, &n);
	check(st == PROTO_OK && n == 1,
	      "snapset: COMMIT of the committed set, new request id: OK with its SNAP record "
	      "(status %d, %d records)",
	      st, n);
	st = lib_status(c, PROTO_MSG_SNAPSET_ABORT, &id, NULL);
	check(st == PROTO_OK, "snapset: ABORT of the committed set: OK (%d)", st);
	st = lib_status(c, PROTO_MSG_SNAPSET_ABORT, &id, NULL);
	check(st == PROTO_OK, "snapset: ABORT again (an aborted set), new request id: OK (%d)", st);
	plat_random(set, sizeof(set));
	proto_buf_reset(&id);
	proto_put_guid(&id, PROTO_TAG_SNAPSET_ID, set);
	st = lib_status(c, PROTO_MSG_SNAPSET_ABORT, &id, NULL);
	check(st == PROTO_OK, "snapset: ABORT of an unknown set: OK (%d)", st);
	st = lib_status(c, PROTO_MSG_SNAPSET_COMMIT, &id, NULL);
	check(st == PROTO_ENOENT || st == PROTO_ESTATE,
	      "snapset: COMMIT of an unknown set fails (ENOENT/ESTATE: %d)", st);
	client_close(c);
	proto_buf_free(&prep);
	proto_buf_free(&id);
}

/* Send a create and drop the connection before the reply; resend the id
 * with F_RETRY on a new one: OK (not EEXIST), and one LUN. */
static void t_retry_drop(const char *name)
{
	struct proto_buf pl, fr;
	uint64_t id = client_new_reqid(NULL);
	struct raw r;
	int sealed, st;

	lun_create_fields(&pl, name);
	if (raw_open(&r)) {
		check(0, "retry-drop: handshake");
		return;
	}
	seal(&r, PROTO_MSG_LUN_CREATE, 0, id, &pl, &fr);
	net_send_frame(r.s, fr.data, fr.len, IO_MS);
	proto_buf_free(&fr);
	raw_close(&r); /* the reply is lost */
	if (raw_open(&r)) {
		check(0, "retry-drop: second handshake");
		return;
	}
	seal(&r, PROTO_MSG_LUN_CREATE, PROTO_F_RETRY, id, &pl, &fr);
	net_send_frame(r.s, fr.data, fr.len, IO_MS);
	st = read_reply(&r, &sealed, NULL, NULL);
	check(st == PROTO_OK && sealed,
	      "retry-drop: resend after a dropped connection returns the first outcome OK (got %d)",
	      st);
	proto_buf_free(&fr);
	/* a new id for the same name must now see the LUN */
	seal(&r, PROTO_MSG_LUN_CREATE, 0, client_new_reqid(NULL), &pl, &fr);
	net_send_frame(r.s, fr.data, fr.len, IO_MS);
	st = read_reply(&r, &sealed, NULL, NULL);
	check(st == PROTO_EEXIST, "retry-drop: a new request id for %s gets EEXIST (got %d)", name,
	      st);
	proto_buf_free(&fr);
	raw_close(&r);
	check(lun_count(name) == 1, "retry-drop: exactly one LUN %s", name);
	proto_buf_free(&pl);
}

/* The library's own retry: the first attempt times out (the array delays
 * LUN_CREATE, armed by the caller: fault delay lun-create --ms 1500), the
 * library reconnects and resends the same id; the array waits for the
 * first execution and answers with its outcome. */
static void t_retry_timeout(const char *name)
{
	struct client *c = lib_open(600);
	struct client_reply rep;
	struct proto_buf pl;
	int st;

	if (!c) {
		check(0, "retry-timeout: connect");
		return;
	}
	lun_create_fields(&pl, name);
	st = client_call(c, PROTO_MSG_LUN_CREATE, client_new_reqid(c), &pl, &rep);
	check(!st && rep.status == PROTO_OK && rep.attempts >= 2,
	      "retry-timeout: LUN_CREATE through a timed-out connection: rc %d status %u after "
	      "%d attempts",
	      st, rep.status, rep.attempts);
	client_reply_free(&rep);
	client_close(c);
	check(lun_count(name) == 1, "retry-timeout: exactly one LUN %s", name);
	proto_buf_free(&pl);
}

/* Client A is connected; B asks the array to drop every other control
 * connection; A's next call either reconnects transparently or fails
 * cleanly (it must not hang or crash). */
static void t_dropconn(void)
{
	struct client *a = lib_open(IO_MS), *b = lib_open(IO_MS);
	struct client_reply rep;
	struct proto_buf pl;
	int st;

	if (!a || !b) {
		check(0, "dropconn: connect");
		client_close(a);
		client_close(b);
		return;
	}
	st = client_call(a, PROTO_MSG_POOL_STATUS, client_new_reqid(a), NULL, &rep);
	check(!st && rep.status == PROTO_OK && rep.attempts == 1, "dropconn: A works before");
	client_reply_free(&rep);
	proto_buf_init(&pl);
	proto_put_u8(&pl, PROTO_TAG_FAULT_ACTION, PROTO_FAULT_DROP_CONN);
	st = client_call(b, PROTO_MSG_FAULT_INJECT, client_new_reqid(b), &pl, &rep);
	check(!st && rep.status == PROTO_OK, "dropconn: B's fault drop-connections OK");
	client_reply_free(&rep);
	plat_sleep_ms(100);
	st = client_call(a, PROTO_MSG_POOL_STATUS, client_new_reqid(a), NULL, &rep);
	check(!st && rep.status == PROTO_OK && rep.attempts >= 2,
	      "dropconn: A's next call reconnected transparently (rc %d, %d attempts)", st,
	      rep.attempts);
	client_reply_free(&rep);
	st = client_call(b, PROTO_MSG_POOL_STATUS, client_new_reqid(b), NULL, &rep);
	check(!st && rep.status == PROTO_OK,
	      "dropconn: B (closed after its reply) reconnects too (%d attempts)", rep.attempts);
	client_reply_free(&rep);
	client_close(a);
	client_close(b);
	proto_buf_free(&pl);
}

int main(int argc, char **argv)
{
	unsigned long p;
	const char *name;

	if (argc < 4) {
		fprintf(stderr, "usage: itest_proto PORT KEYFILE "
				"noauth|replay|tamper|retry|reqid0|snapset|retry-drop|retry-"
				"timeout|dropconn [NAME]\n");
		return 2;
	}
	p = strtoul(argv[1], NULL, 10);
	if (!p || p > 65535 || auth_key_load(argv[2], key)) {
		fprintf(stderr, "itest_proto: bad port or key file\n");
		return 2;
	}
	port = (uint16_t)p;
	plat_net_init();
	name = argc > 4 ? argv[4] : "itest";
	if (!strcmp(argv[3], "replay"))
		t_replay(name);
	else if (!strcmp(argv[3], "noauth"))
		t_noauth(name);
	else if (!strcmp(argv[3], "tamper"))
		t_tamper(name);
	else if (!strcmp(argv[3], "retry"))
		t_retry(name);
	else if (!strcmp(argv[3], "snapset"))
		t_snapset(name);
	else if (!strcmp(argv[3], "reqid0"))
		t_reqid0(name);
	else if (!strcmp(argv[3], "retry-drop"))
		t_retry_drop(name);
	else if (!strcmp(argv[3], "retry-timeout"))
		t_retry_timeout(name);
	else if (!strcmp(argv[3], "dropconn"))
		t_dropconn();
	else {
		fprintf(stderr, "itest_proto: unknown check %s\n", argv[3]);
		return 2;
	}
	return failed;
}

/*
 * test_client: client.c against a tiny in-test server thread on
 * 127.0.0.1 (port 0) speaking the same codec.  Covers connect +
 * handshake, a call, reconnect-and-retry under the same request id,
 * wrong key, and the server refusing unauthenticated requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include <cmocka.h>

#include "auth.h"
#include "client.h"
#include "platform.h"
#include "proto.h"

static const uint8_t key[AUTH_KEY_LEN] = {0xde, 0xad, 0xbe, 0xef, 1,  2,  3,  4,  5,  6,  7,
					  8,	9,    10,   11,	  12, 13, 14, 15, 16, 17, 18,
					  19,	20,   21,   22,	  23, 24, 25, 26, 27, 28};

struct server {
	plat_sock ls;
	uint16_t port;
	pthread_t thr;
	pthread_mutex_t mu;
	int stop;
	int drop_next;	    /* close without replying to the next request */
	int conns;	    /* connections accepted */
	int auth_failures;  /* handshakes refused */
	uint64_t reqids[8]; /* request ids of non-handshake requests seen */
	uint8_t flags[8];
	int nreq;
};

static int send_reply(plat_sock s, struct auth_ctx *a, const struct proto_frame *req,
		      const struct proto_buf *pl, int sealed)
{
	struct proto_buf fr;
	int rc;

	proto_buf_init(&fr);
	rc = proto_frame_build(&fr, req->hdr.type, PROTO_F_REPLY | (sealed ? PROTO_F_MAC : 0),
			       req->hdr.reqid, pl->data, pl->len);
	if (!rc && sealed)
		rc = auth_seal(&a->sess, fr.data, fr.len);
	if (!rc)
		rc = net_send_frame(s, fr.data, fr.len, 2000);
	proto_buf_free(&fr);
	return rc;
}

/* the request handlers the test needs; anything else is ENOTSUP */
static void handle(const struct proto_frame *f, struct proto_buf *pl)
{
	char name[64];

	switch (f->hdr.type) {
	case PROTO_MSG_VERSION:
		proto_put_status(pl, PROTO_OK, "");
		proto_put_u32(pl, PROTO_TAG_PROTO_VERSION, PROTO_VERSION);
		proto_put_u64(pl, PROTO_TAG_CAPS, PROTO_CAP_IDEMPOTENCY);
		proto_put_str(pl, PROTO_TAG_SOFTWARE, "test-server");
		break;
	case PROTO_MSG_LUN_SHOW:
		if (proto_get_str(f->payload, f->payload_len, PROTO_TAG_LUN_NAME, name,
				  sizeof(name)) == 0)
			proto_put_status(pl, PROTO_ENOENT, "no such LUN");
		else
			proto_put_status(pl, PROTO_EINVAL, "LUN_NAME required");
		break;
	default:
		proto_put_status(pl, PROTO_ENOTSUP, "not in this test");
	}
}

static void serve_conn(struct server *sv, plat_sock s)
{
	struct auth_ctx a;
	struct proto_buf pl;
	struct proto_frame f;
	uint8_t *frame;
	size_t len;
	int rc;

	auth_init(&a, 1, key);
	proto_buf_init(&pl);
	while (net_recv_frame(s, 5000, &frame, &len) == 0) {
		proto_buf_reset(&pl);
		rc = proto_frame_decode(frame, len, &f);
		if (!rc)
			rc = auth_check_frame(&a, &f.hdr);
		if (!rc && (f.hdr.flags & PROTO_F_MAC))
			rc = auth_open(&a.sess, frame, len);
		if (rc) {
			/* refuse, unsealed, then hang up: nothing else is allowed */
			proto_put_status(&pl, rc == -PROTO_EAUTH ? PROTO_EAUTH : PROTO_EPROTO,
					 proto_strerror(rc));
			send_reply(s, &a, &f, &pl, 0);
			free(frame);
			break;
		}
		if (f.hdr.type == PROTO_MSG_AUTH_HELLO) {
			rc = auth_server_challenge(&a, f.payload, f.payload_len, &pl);
		} else if (f.hdr.type == PROTO_MSG_AUTH_PROOF) {
			rc = auth_server_verify(&a, f.payload, f.payload_len);
			if (!rc) {
				proto_put_status(&pl, PROTO_OK, "");
				rc = send_reply(s, &a, &f, &pl, 1);
			} else {
				pthread_mutex_lock(&sv->mu);
				sv->auth_failures++;
				pthread_mutex_unlock(&sv->mu);
				proto_buf_reset(&pl);
				proto_put_status(&pl, PROTO_EAUTH, "bad proof");
				send_reply(s, &a, &f, &pl, 0);
			}
			free(frame);
			if (rc)
				break;
			continue;
		} else {
			int drop;

			pthread_mutex_lock(&sv->mu);
			if (sv->nreq < 8) {
				sv->reqids[sv->nreq] = f.hdr.reqid;
				sv->flags[sv->nreq++] = f.hdr.flags;
			}
			drop = sv->drop_next;
			sv->drop_next = 0;
			pthread_mutex_unlock(&sv->mu);
			if (drop) {
				free(frame);
				break;
			}
			handle(&f, &pl);
		}
		if (rc) {
			free(frame);
			break;
		}
		rc = send_reply(s, &a, &f, &pl, a.state == AUTH_DONE);
		free(frame);
		if (rc)
			break;
	}
	proto_buf_free(&pl);
	auth_wipe(&a);
	plat_close(s);
}

static void *server_main(void *arg)
{
	struct server *sv = arg;
	plat_sock s;

	for (;;) {
		if (plat_accept(sv->ls, &s))
			break;
		pthread_mutex_lock(&sv->mu);
		sv->conns++;
		if (sv->stop) {
			pthread_mutex_unlock(&sv->mu);
			plat_close(s);
			break;
		}
		pthread_mutex_unlock(&sv->mu);
		serve_conn(sv, s);
	}
	return NULL;
}

static int setup(void **state)
{
	struct server *sv = calloc(1, sizeof(*sv));

	assert_non_null(sv);
	pthread_mutex_init(&sv->mu, NULL);
	assert_int_equal(plat_listen("127.0.0.1", 0, &sv->ls, &sv->port), 0);
	assert_int_not_equal(sv->port, 0);
	assert_int_equal(pthread_create(&sv->thr, NULL, server_main, sv), 0);
	*state = sv;
	return 0;
}

static int teardown(void **state)
{
	struct server *sv = *state;
	plat_sock s;

	pthread_mutex_lock(&sv->mu);
	sv->stop = 1;
	pthread_mutex_unlock(&sv->mu);
	/* wake the accept with one last connection */
	if (plat_connect("127.0.0.1", sv->port, 1000, &s) == 0)
		plat_close(s);
	pthread_join(sv->thr, NULL);
	plat_close(sv->ls);
	pthread_mutex_destroy(&sv->mu);
	free(sv);
	return 0;
}

static struct client_cfg cfg_for(struct server *sv, const uint8_t *k)
{
	struct client_cfg cfg = {.host = "127.0.0.1",
				 .port = sv->port,
				 .client_name = "unit",
				 .io_timeout_ms = 3000,
				 .retry_delay_ms = 10};

	memcpy(cfg.key, k, AUTH_KEY_LEN);
	return cfg;
}

static void test_call(void **state)
{
	struct server *sv = *state;
	struct client_cfg cfg = cfg_for(sv, key);
	struct client *c;
	struct client_reply rep;
	struct proto_buf req;
	char sw[32];
	uint64_t id;

	assert_int_equal(client_open(&cfg, &c), 0);
	id = client_new_reqid(c);
	assert_true(id != 0 && id != client_new_reqid(c));
	assert_int_equal(client_call(c, PROTO_MSG_VERSION, id, NULL, &rep), 0);
	assert_int_equal(rep.status, PROTO_OK);
	assert_true(rep.reqid == id);
	assert_int_equal(rep.attempts, 1);
	assert_int_equal(
	    proto_get_str(rep.payload, rep.payload_len, PROTO_TAG_SOFTWARE, sw, sizeof(sw)), 0);
	assert_string_equal(sw, "test-server");
	client_reply_free(&rep);

	/* an error reply is a successful call carrying code and message */
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, "nope");
	assert_int_equal(client_call(c, PROTO_MSG_LUN_SHOW, client_new_reqid(c), &req, &rep), 0);
	assert_int_equal(rep.status, PROTO_ENOENT);
	assert_string_equal(rep.msg, "no such LUN");
	client_reply_free(&rep);
	proto_buf_free(&req);

	/* handshake types cannot be sent as ordinary calls */
	assert_int_equal(client_call(c, PROTO_MSG_AUTH_HELLO, 1, NULL, &rep), -PROTO_EINVAL);
	client_close(c);
}

static void test_retry_same_reqid(void **state)
{
	struct server *sv = *state;
	struct client_cfg cfg = cfg_for(sv, key);
	struct client *c;
	struct client_reply rep;
	uint64_t id;
	int conns, base;

	assert_int_equal(client_open(&cfg, &c), 0);
	pthread_mutex_lock(&sv->mu);
	sv->drop_next = 1;
	base = sv->nreq;
	conns = sv->conns;
	pthread_mutex_unlock(&sv->mu);

	id = client_new_reqid(c);
	assert_int_equal(client_call(c, PROTO_MSG_VERSION, id, NULL, &rep), 0);
	assert_int_equal(rep.status, PROTO_OK);
	assert_int_equal(rep.attempts, 2);

	pthread_mutex_lock(&sv->mu);
	assert_int_equal(sv->nreq, base + 2);
	assert_true(sv->reqids[base] == id && sv->reqids[base + 1] == id);
	assert_int_equal(sv->flags[base] & PROTO_F_RETRY, 0);
	assert_int_equal(sv->flags[base + 1] & PROTO_F_RETRY, PROTO_F_RETRY);
	assert_int_equal(sv->conns, conns + 1); /* it reconnected */
	pthread_mutex_unlock(&sv->mu);
	client_reply_free(&rep);

	/* the next call goes out fresh, on the new connection */
	assert_int_equal(client_call(c, PROTO_MSG_VERSION, client_new_reqid(c), NULL, &rep), 0);
	assert_int_equal(rep.attempts, 1);
	client_reply_free(&rep);
	client_close(c);
}

static void test_wrong_key(void **state)
{
	struct server *sv = *state;
	uint8_t bad[AUTH_KEY_LEN];
	struct client_cfg cfg;
	struct client *c = NULL;

	memset(bad, 0x42, sizeof(bad));
	cfg = cfg_for(sv, bad);
	assert_int_equal(client_open(&cfg, &c), -PROTO_EAUTH);
	assert_null(c);
}

static void test_unauthenticated_refused(void **state)
{
	struct server *sv = *state;
	struct proto_buf fr;
	struct proto_frame f;
	plat_sock s;
	uint8_t *frame, *again;
	size_t len;
	uint32_t st;

	assert_int_equal(plat_connect("127.0.0.1", sv->port, 1000, &s), 0);
	proto_buf_init(&fr);
	assert_int_equal(proto_frame_build(&fr, PROTO_MSG_LUN_DELETE, 0, 77, NULL, 0), 0);
	assert_int_equal(net_send_frame(s, fr.data, fr.len, 1000), 0);
	assert_int_equal(net_recv_frame(s, 3000, &frame, &len), 0);
	assert_int_equal(proto_frame_decode(frame, len, &f), 0);
	assert_int_equal(proto_get_status(f.payload, f.payload_len, &st, NULL, 0), 0);
	assert_int_equal(st, PROTO_EAUTH);
	assert_true(f.hdr.reqid == 77);
	/* and the server hung up */
	assert_int_equal(net_recv_frame(s, 3000, &again, &len), -PROTO_ECLOSED);
	free(frame);
	proto_buf_free(&fr);
	plat_close(s);
}

/* oversize and garbage headers are refused from the 32 header bytes alone */
static void test_recv_refuses_before_alloc(void **state)
{
	static const uint8_t versions[2] = {PROTO_VERSION, 9};
	uint8_t hdr[PROTO_HDR_LEN], *frame = NULL;
	plat_sock ls, a, b;
	uint16_t port;
	size_t len;

	(void)state;
	assert_int_equal(plat_listen("127.0.0.1", 0, &ls, &port), 0);
	assert_int_equal(plat_connect("127.0.0.1", port, 1000, &a), 0);
	assert_int_equal(plat_accept(ls, &b), 0);
	memset(hdr, 0, sizeof(hdr));
	proto_be32_put(hdr + PROTO_OFF_MAGIC, PROTO_MAGIC);
	proto_be32_put(hdr + PROTO_OFF_LEN, 0xfffffff0u);
	for (int i = 0; i < 2; i++) {
		hdr[PROTO_OFF_VERSION] = versions[i];
		assert_int_equal(plat_send_all(a, hdr, sizeof(hdr), 1000), 0);
		assert_int_equal(net_recv_frame(b, 1000, &frame, &len),
				 i ? -PROTO_EVERSION : -PROTO_ETOOBIG);
		assert_null(frame);
	}
	/* a peer that stalls mid-header times out */
	assert_int_equal(plat_send_all(a, hdr, 10, 1000), 0);
	assert_int_equal(net_recv_frame(b, 200, &frame, &len), -PROTO_ETIMEDOUT);
	plat_close(a);
	plat_close(b);
	plat_close(ls);
}

struct trickle {
	plat_sock s;
	volatile int stop;
};

static void *trickle_main(void *arg)
{
	struct trickle *t = arg;
	uint8_t byte = 0;

	for (int i = 0; i < 64 && !t->stop; i++) {
		usleep(50 * 1000);
		if (plat_send_all(t->s, &byte, 1, 1000))
			break;
	}
	return NULL;
}

/* A peer that sends a byte now and then must not stretch a receive past
 * its timeout: the bound is for the whole frame (the provider's commit
 * relies on it to stay inside VSS's Flush-and-Hold window). */
static void test_recv_timeout_is_a_deadline(void **state)
{
	uint8_t hdr[PROTO_HDR_LEN], *frame = NULL;
	plat_sock ls, a, b;
	uint16_t port;
	struct trickle tr = {0};
	pthread_t th;
	uint64_t t0, ms;
	size_t len;
	int rc = 0;

	(void)state;
	assert_int_equal(plat_listen("127.0.0.1", 0, &ls, &port), 0);
	assert_int_equal(plat_connect("127.0.0.1", port, 1000, &a), 0);
	assert_int_equal(plat_accept(ls, &b), 0);
	memset(hdr, 0, sizeof(hdr));
	proto_be32_put(hdr + PROTO_OFF_MAGIC, PROTO_MAGIC);
	hdr[PROTO_OFF_VERSION] = PROTO_VERSION;
	proto_be32_put(hdr + PROTO_OFF_LEN, PROTO_HDR_LEN + 64);
	assert_int_equal(plat_send_all(a, hdr, sizeof(hdr), 1000), 0);
	t0 = plat_now_ms();
	/* 64 payload bytes due, one arrives every 50 ms */
	tr.s = a;
	assert_int_equal(pthread_create(&th, NULL, trickle_main, &tr), 0);
	rc = net_recv_frame(b, 400, &frame, &len);
	ms = plat_now_ms() - t0;
	assert_int_equal(rc, -PROTO_ETIMEDOUT);
	assert_null(frame);
	/* before the fix each byte restarted the 400 ms wait: about 3.2 s */
	assert_true(ms < 1000);
	tr.stop = 1;
	pthread_join(th, NULL);
	plat_close(a);
	plat_close(b);
	plat_close(ls);
}

static void test_connect_refused(void **state)
{
	struct client_cfg cfg;
	struct client *c = NULL;
	plat_sock ls;
	uint16_t port;

	(void)state;
	/* a port that was just free: bind, note, close */
	assert_int_equal(plat_listen("127.0.0.1", 0, &ls, &port), 0);
	plat_close(ls);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = port;
	assert_int_equal(client_open(&cfg, &c), -PROTO_ECONNECT);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_call),
	    cmocka_unit_test(test_retry_same_reqid),
	    cmocka_unit_test(test_wrong_key),
	    cmocka_unit_test(test_unauthenticated_refused),
	    cmocka_unit_test(test_recv_refuses_before_alloc),
	    cmocka_unit_test(test_recv_timeout_is_a_deadline),
	    cmocka_unit_test(test_connect_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

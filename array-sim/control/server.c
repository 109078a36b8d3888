/*
 * Control server: listener, connection threads, authentication, the
 * idempotency cache, the audit log and the fault table.  The operations
 * themselves are in ctl_ops.c.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "client.h"
#include "log.h"
#include "platform.h"

#define IO_TIMEOUT_MS 30000
#define IDEM_MAX      4096  /* replies kept for retries */
#define AUDIT_MAX     10000 /* audit records kept in memory */

struct conn {
	struct ctl_server *srv;
	plat_sock sock;
	pthread_t thread;
	uint64_t id;
	char peer[64];
	char name[64];
	uint64_t since_ms;
	int authed;
	struct conn *next;
};

struct idem {
	uint64_t reqid;
	uint16_t type;
	int done;
	uint8_t *reply; /* payload */
	size_t len;
};

struct fault {
	uint64_t id;
	uint8_t action;
	uint32_t op, count, delay_ms, err;
};

struct audit_rec {
	uint64_t seq, time_ns, reqid;
	uint16_t type;
	uint32_t result;
	char actor[128];
	char text[512];
};

struct ctl_server {
	struct ctl_server_cfg cfg;
	plat_sock ls;
	uint16_t port;
	pthread_t acceptor;
	int wake[2];
	volatile int stopping;

	pthread_mutex_t lock; /* connections, cache, faults, audit */
	pthread_cond_t idem_cond;
	pthread_mutex_t op_lock; /* serialises operations */
	struct conn *conns;
	unsigned nr_conns;
	uint64_t next_conn;

	struct idem idem[IDEM_MAX];
	unsigned idem_next;

	struct fault *faults;
	size_t nr_faults;
	uint64_t next_fault;

	struct audit_rec *audit; /* ring */
	uint64_t audit_seq;	 /* records written so far */
	FILE *audit_file;

	void (*lister)(void *ctx, struct proto_buf *rep);
	void *lister_ctx;
};

/* ---- audit ------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void audit(struct ctl_server *s, const struct ctl_req *req, uint64_t reqid, int status)
{
	struct audit_rec *a;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&s->lock);
	a = &s->audit[s->audit_seq % AUDIT_MAX];
	a->seq = ++s->audit_seq;
	a->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	a->reqid = reqid;
	a->type = req->type;
	a->result = (uint32_t)status;
	snprintf(a->actor, sizeof(a->actor), "%s", req->actor);
	snprintf(a->text, sizeof(a->text), "%s", req->text);
	if (s->audit_file) {
		const struct proto_msg_desc *d = proto_msg_lookup(req->type);

		fprintf(s->audit_file,
			"{\"seq\":%llu,\"time_ns\":%llu,\"actor\":", (unsigned long long)a->seq,
			(unsigned long long)a->time_ns);
		json_str(s->audit_file, a->actor);
		fprintf(s->audit_file, ",\"op\":\"%s\",\"text\":", d ? d->name : "?");
		json_str(s->audit_file, a->text);
		fprintf(s->audit_file, ",\"result\":\"%s\",\"reqid\":\"%016llx\"}\n",
			proto_strerror(status), (unsigned long long)reqid);
		fflush(s->audit_file);
	}
	pthread_mutex_unlock(&s->lock);
	log_msg(status ? LOG_LVL_WARN : LOG_LVL_INFO, "audit: %s %s: %s -> %s", req->actor,
		proto_msg_lookup(req->type) ? proto_msg_lookup(req->type)->name : "?", req->text,
		proto_strerror(status));
}

/* Sequence numbers go on across restarts: start after the last record in
 * the audit file (the in-memory ring starts empty; older records are in
 * the file). */
static uint64_t audit_last_seq(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	unsigned long long seq, last = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "{\"seq\":%llu,", &seq) == 1 && seq > last)
			last = seq;
	fclose(f);
	return last;
}

void ctl_audit_read(struct ctl_server *s, uint64_t from, uint32_t max, struct proto_buf *rep)
{
	uint64_t first, seq, last = 0;

	if (!max || max > 1000)
		max = 1000;
	pthread_mutex_lock(&s->lock);
	first = s->audit_seq > AUDIT_MAX ? s->audit_seq - AUDIT_MAX + 1 : 1;
	seq = from > first ? from : first;
	for (; seq <= s->audit_seq && max; seq++, max--) {
		const struct audit_rec *a = &s->audit[(seq - 1) % AUDIT_MAX];
		long m = proto_list_begin(rep, PROTO_TAG_AUDIT);

		proto_put_u64(rep, PROTO_TAG_AUDIT_SEQ, a->seq);
		proto_put_u64(rep, PROTO_TAG_CREATED, a->time_ns);
		proto_put_str(rep, PROTO_TAG_ACTOR, a->actor);
		proto_put_u32(rep, PROTO_TAG_MSG_TYPE, a->type);
		proto_put_str(rep, PROTO_TAG_TEXT, a->text);
		proto_put_u32(rep, PROTO_TAG_RESULT, a->result);
		proto_put_u64(rep, PROTO_TAG_REQ_ID, a->reqid);
		proto_list_end(rep, m);
		last = seq;
	}
	proto_put_u64(rep, PROTO_TAG_CURSOR, last ? last + 1 : seq);
	proto_put_u8(rep, PROTO_TAG_MORE, seq <= s->audit_seq);
	pthread_mutex_unlock(&s->lock);
}

/* ---- faults ------------------------------------------------------------------ */

int ctl_fault_add(struct ctl_server *s, uint8_t action, uint32_t op, uint32_t count,
		  uint32_t delay_ms, uint32_t err, uint64_t *id)
{
	struct fault *f;

	pthread_mutex_lock(&s->lock);
	f = realloc(s->faults, (s->nr_faults + 1) * sizeof(*f));
	if (!f) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	s->faults = f;
	f = &s->faults[s->nr_faults++];
	*f = (struct fault){.id = ++s->next_fault,
			    .action = action,
			    .op = op,
			    .count = count,
			    .delay_ms = delay_ms,
			    .err = err ? err : PROTO_EFAULT_INJECTED};
	*id = f->id;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int ctl_fault_clear(struct ctl_server *s, uint64_t id)
{
	int found = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nr_faults;) {
		if (!id || s->faults[i].id == id) {
			s->faults[i] = s->faults[--s->nr_faults];
			found = 1;
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return found || !id ? 0 : -ENOENT;
}

void ctl_fault_list(struct ctl_server *s, struct proto_buf *rep)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nr_faults; i++) {
		const struct fault *f = &s->faults[i];
		long m = proto_list_begin(rep, PROTO_TAG_FAULT);

		proto_put_u64(rep, PROTO_TAG_FAULT_ID, f->id);
		proto_put_u8(rep, PROTO_TAG_FAULT_ACTION, f->action);
		proto_put_u32(rep, PROTO_TAG_FAULT_OP, f->op);
		proto_put_u32(rep, PROTO_TAG_FAULT_COUNT, f->count);
		proto_put_u32(rep, PROTO_TAG_DELAY_MS, f->delay_ms);
		proto_put_u32(rep, PROTO_TAG_FAULT_ERROR, f->err);
		proto_list_end(rep, m);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Consume the first armed DELAY/FAIL fault matching op; count 0 = sticky. */
void ctl_fault_take(struct ctl_server *s, uint32_t op, uint32_t *delay_ms, uint32_t *err)
{
	*delay_ms = 0;
	*err = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nr_faults; i++) {
		struct fault *f = &s->faults[i];

		if ((f->action != PROTO_FAULT_DELAY && f->action != PROTO_FAULT_FAIL) ||
		    (f->op != op && f->op != PROTO_FOP_ANY))
			continue;
		if (f->action == PROTO_FAULT_DELAY)
			*delay_ms = f->delay_ms;
		else
			*err = f->err;
		if (f->count && !--f->count)
			s->faults[i] = s->faults[--s->nr_faults];
		break;
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- sessions ------------------------------------------------------------------ */

void ctl_server_set_session_lister(struct ctl_server *s,
				   void (*fn)(void *ctx, struct proto_buf *rep), void *ctx)
{
	pthread_mutex_lock(&s->lock);
	s->lister = fn;
	s->lister_ctx = ctx;
	pthread_mutex_unlock(&s->lock);
}

void ctl_sessions(struct ctl_server *s, struct proto_buf *rep)
{
	uint64_t now = plat_now_ms();

	pthread_mutex_lock(&s->lock);
	for (struct conn *c = s->conns; c; c = c->next) {
		long m = proto_list_begin(rep, PROTO_TAG_SESSION);

		proto_put_u64(rep, PROTO_TAG_SESSION_ID, c->id);
		proto_put_u8(rep, PROTO_TAG_SESSION_KIND, PROTO_SESS_CONTROL);
		proto_put_str(rep, PROTO_TAG_PEER_ADDR, c->peer);
		proto_put_str(rep, PROTO_TAG_CLIENT_NAME, c->name);
		proto_put_u64(rep, PROTO_TAG_LENGTH, now - c->since_ms); /* age, ms */
		proto_list_end(rep, m);
	}
	if (s->lister)
		s->lister(s->lister_ctx, rep);
	pthread_mutex_unlock(&s->lock);
}

/* ---- idempotency cache ------------------------------------------------------------ */

/* Request id 0 is reserved (never cached, refused before this). */
static struct idem *idem_find(struct ctl_server *s, uint64_t reqid)
{
	for (unsigned i = 0; reqid && i < IDEM_MAX; i++)
		if (s->idem[i].reqid == reqid)
			return &s->idem[i];
	return NULL;
}

/* Claim reqid: 1 = we run it; 0 = *cached holds the first outcome (we
 * waited if the first attempt was still running); -1 = the id belongs to
 * a request of another type (the client reused it: refuse). */
static int idem_claim(struct ctl_server *s, uint64_t reqid, uint16_t type, uint8_t **reply,
		      size_t *len)
{
	struct idem *e;

	pthread_mutex_lock(&s->lock);
	while ((e = idem_find(s, reqid)) && !e->done)
		pthread_cond_wait(&s->idem_cond, &s->lock);
	if (e && e->type != type) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	if (e) {
		*reply = malloc(e->len);
		if (*reply) {
			memcpy(*reply, e->reply, e->len);
			*len = e->len;
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
	}
	e = &s->idem[s->idem_next++ % IDEM_MAX];
	free(e->reply);
	*e = (struct idem){.reqid = reqid, .type = type};
	pthread_mutex_unlock(&s->lock);
	return 1;
}

static void idem_done(struct ctl_server *s, uint64_t reqid, const uint8_t *reply, size_t len)
{
	struct idem *e;

	pthread_mutex_lock(&s->lock);
	e = idem_find(s, reqid);
	if (e && !e->done) {
		e->reply = malloc(len ? len : 1);
		if (e->reply) {
			memcpy(e->reply, reply, len);
			e->len = len;
			e->done = 1;
		} else {
			e->reqid = 0; /* could not keep it: forget the claim */
		}
	}
	pthread_cond_broadcast(&s->idem_cond);
	pthread_mutex_unlock(&s->lock);
}

/* ---- one connection ------------------------------------------------------------------ */

static int send_reply(struct conn *c, struct auth_ctx *a, uint16_t type, uint64_t reqid,
		      const struct proto_buf *pl, int sealed)
{
	struct proto_buf out;
	int r;

	proto_buf_init(&out);
	r = proto_frame_build(&out, type, PROTO_F_REPLY | (sealed ? PROTO_F_MAC : 0), reqid,
			      pl->data, pl->len);
	if (!r && sealed)
		r = auth_seal(&a->sess, out.data, out.len);
	if (!r)
		r = net_send_frame(c->sock, out.data, out.len, IO_TIMEOUT_MS);
	proto_buf_free(&out);
	return r;
}

static void send_error(struct conn *c, struct auth_ctx *a, uint16_t type, uint64_t reqid, int code,
		       const char *msg, int sealed)
{
	struct proto_buf pl;

	proto_buf_init(&pl);
	proto_put_status(&pl, code, msg);
	send_reply(c, a, type, reqid, &pl, sealed);
	proto_buf_free(&pl);
}

/* Handshake messages: unsealed, and the only thing an unauthenticated
 * peer may send.  Returns 0 to go on, <0 to close. */
static int handle_auth(struct conn *c, struct auth_ctx *a, const struct proto_frame *f)
{
	struct proto_buf rep;
	int r;

	proto_buf_init(&rep);
	if (f->hdr.type == PROTO_MSG_AUTH_HELLO) {
		if (proto_get_str(f->payload, f->payload_len, PROTO_TAG_CLIENT_NAME, c->name,
				  sizeof(c->name)))
			snprintf(c->name, sizeof(c->name), "anonymous");
		r = auth_server_challenge(a, f->payload, f->payload_len, &rep);
	} else {
		r = auth_server_verify(a, f->payload, f->payload_len);
		if (!r)
			proto_put_status(&rep, PROTO_OK, "");
	}
	if (r) {
		proto_buf_reset(&rep);
		proto_put_status(&rep, PROTO_EAUTH, "authentication failed");
	}
	/* The final reply of the handshake is sealed: it proves the server
	 * derived the same session keys (the client checks it). */
	send_reply(c, a, f->hdr.type, f->hdr.reqid, &rep, !r && a->state == AUTH_DONE);
	proto_buf_free(&rep);
	if (r) {
		log_msg(LOG_LVL_WARN, "control: %s: authentication failed", c->peer);
		return -1;
	}
	c->authed = a->state == AUTH_DONE;
	return 0;
}

static void drop_others(struct ctl_server *s, struct conn *self)
{
	pthread_mutex_lock(&s->lock);
	for (struct conn *c = s->conns; c; c = c->next)
		if (c != self)
			plat_shutdown(c->sock);
	pthread_mutex_unlock(&s->lock);
}

static int handle_request(struct conn *c, struct auth_ctx *a, const struct proto_frame *f)
{
	struct ctl_server *s = c->srv;
	struct ctl_req req = {.srv = s,
			      .array = s->cfg.array,
			      .type = f->hdr.type,
			      .payload = f->payload,
			      .len = f->payload_len};
	char actor[160];
	struct proto_buf rep;
	uint8_t *cached = NULL;
	size_t clen = 0;
	int mut = ctl_mutating(f->hdr.type), status, r;

	snprintf(actor, sizeof(actor), "%s@%s", c->name, c->peer);
	req.actor = actor;
	if (!f->hdr.reqid) {
		/* Spec section 6: 0 is reserved, so retries can be told apart. */
		send_error(c, a, f->hdr.type, 0, PROTO_EINVAL, "request id 0 is reserved", 1);
		return 0;
	}
	proto_buf_init(&rep);
	r = mut ? idem_claim(s, f->hdr.reqid, f->hdr.type, &cached, &clen) : 1;
	if (r < 0) {
		send_error(c, a, f->hdr.type, f->hdr.reqid, PROTO_EINVAL,
			   "request id already used for another operation", 1);
		return 0;
	}
	if (!r) {
		/* A retry of something already done: same outcome, no action. */
		r = proto_buf_append(&rep, cached, clen);
		free(cached);
		if (!r)
			r = send_reply(c, a, f->hdr.type, f->hdr.reqid, &rep, 1);
		proto_buf_free(&rep);
		return r;
	}
	pthread_mutex_lock(&s->op_lock);
	status = ctl_dispatch(&req, &rep);
	pthread_mutex_unlock(&s->op_lock);
	if (rep.err) {
		proto_buf_reset(&rep);
		status = PROTO_ETOOBIG;
		proto_put_status(&rep, status, "reply too large; page with CURSOR/MAX_ENTRIES");
	}
	if (mut) {
		idem_done(s, f->hdr.reqid, rep.data, rep.len);
		audit(s, &req, f->hdr.reqid, status);
	}
	r = send_reply(c, a, f->hdr.type, f->hdr.reqid, &rep, 1);
	proto_buf_free(&rep);
	if (req.drop_conns) {
		drop_others(s, c);
		return -1; /* and this one, after the reply */
	}
	return r;
}

static void conn_serve(struct conn *c)
{
	struct ctl_server *s = c->srv;
	struct auth_ctx a;

	auth_init(&a, 1, s->cfg.key);
	while (!s->stopping) {
		struct pollfd pfd = {.fd = (int)c->sock, .events = POLLIN};
		struct proto_frame f;
		uint8_t *frame = NULL;
		size_t len;
		int r;

		r = poll(&pfd, 1, 500);
		if (r == 0 || (r < 0 && errno == EINTR))
			continue; /* idle: look at s->stopping again */
		if (r < 0)
			break;
		r = net_recv_frame(c->sock, IO_TIMEOUT_MS, &frame, &len);
		if (r) {
			if (r == -PROTO_ETOOBIG || r == -PROTO_EVERSION || r == -PROTO_EPROTO)
				send_error(c, &a, 0, 0, -r, "bad frame", 0);
			break;
		}
		r = proto_frame_decode(frame, len, &f);
		if (!r)
			r = auth_check_frame(&a, &f.hdr);
		if (!r && (f.hdr.flags & PROTO_F_MAC))
			r = auth_open(&a.sess, frame, len); /* MAC, then sequence */
		if (!r)
			r = proto_fields_validate(f.payload, f.payload_len);
		if (r) {
			/* Unauthenticated, tampered, replayed or malformed: say
			 * why (unsealed: we cannot trust the session) and close. */
			log_msg(LOG_LVL_WARN, "control: %s: refused frame type %u: %s", c->peer,
				f.hdr.type, proto_strerror(r));
			send_error(c, &a, f.hdr.type, f.hdr.reqid, -r, proto_strerror(r), 0);
			free(frame);
			break;
		}
		if (f.hdr.type == PROTO_MSG_AUTH_HELLO || f.hdr.type == PROTO_MSG_AUTH_PROOF)
			r = handle_auth(c, &a, &f);
		else
			r = handle_request(c, &a, &f);
		free(frame);
		if (r)
			break;
	}
	auth_wipe(&a);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct ctl_server *s = c->srv;

	conn_serve(c);
	pthread_mutex_lock(&s->lock);
	for (struct conn **pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	s->nr_conns--;
	pthread_mutex_unlock(&s->lock);
	plat_close(c->sock);
	log_msg(LOG_LVL_DEBUG, "control: %s closed", c->peer);
	free(c);
	return NULL;
}

static void *acceptor_main(void *arg)
{
	struct ctl_server *s = arg;

	while (!s->stopping) {
		struct pollfd pfd[2] = {{.fd = (int)s->ls, .events = POLLIN},
					{.fd = s->wake[0], .events = POLLIN}};
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		struct conn *c;
		int fd;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (s->stopping)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept(s->ls, (struct sockaddr *)&sa, &sl);
		if (fd < 0)
			continue;
		c = calloc(1, sizeof(*c));
		pthread_mutex_lock(&s->lock);
		if (!c || s->nr_conns >= s->cfg.max_conns) {
			pthread_mutex_unlock(&s->lock);
			log_msg(LOG_LVL_WARN, "control: connection limit reached, refusing");
			close(fd);
			free(c);
			continue;
		}
		c->srv = s;
		c->sock = (plat_sock)fd;
		c->id = ++s->next_conn;
		c->since_ms = plat_now_ms();
		inet_ntop(AF_INET, &sa.sin_addr, c->peer, sizeof(c->peer));
		snprintf(c->peer + strlen(c->peer), sizeof(c->peer) - strlen(c->peer), ":%u",
			 ntohs(sa.sin_port));
		c->next = s->conns;
		s->conns = c;
		s->nr_conns++;
		if (pthread_create(&c->thread, NULL, conn_main, c)) {
			s->conns = c->next;
			s->nr_conns--;
			pthread_mutex_unlock(&s->lock);
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(c->thread);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int ctl_server_start(const struct ctl_server_cfg *cfg, struct ctl_server **out)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->ls = PLAT_SOCK_INVALID;
	if (!s->cfg.max_conns)
		s->cfg.max_conns = 64;
	s->audit = calloc(AUDIT_MAX, sizeof(*s->audit));
	if (!s->audit || pipe(s->wake)) {
		free(s->audit);
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->op_lock, NULL);
	pthread_cond_init(&s->idem_cond, NULL);
	if (cfg->audit_path) {
		s->audit_seq = audit_last_seq(cfg->audit_path);
		s->audit_file = fopen(cfg->audit_path, "a");
		if (!s->audit_file)
			log_msg(LOG_LVL_WARN, "control: cannot open audit log %s: %s",
				cfg->audit_path, strerror(errno));
	}
	plat_net_init();
	r = plat_listen(cfg->addr, cfg->port, &s->ls, &s->port);
	if (r) {
		log_msg(LOG_LVL_ERR, "control: cannot listen on %s:%u: %s", cfg->addr, cfg->port,
			proto_strerror(r));
		ctl_server_stop(s);
		return -EADDRINUSE;
	}
	if (pthread_create(&s->acceptor, NULL, acceptor_main, s)) {
		plat_close(s->ls);
		s->ls = PLAT_SOCK_INVALID;
		ctl_server_stop(s);
		return -ENOMEM;
	}
	log_msg(LOG_LVL_INFO, "control: listening on %s:%u", cfg->addr, s->port);
	*out = s;
	return 0;
}

uint16_t ctl_server_port(struct ctl_server *s)
{
	return s->port;
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	s->stopping = 1;
	if (s->ls != PLAT_SOCK_INVALID && s->port) {
		if (write(s->wake[1], "x", 1) < 0) {
			/* the acceptor also wakes on its own poll errors */
		}
		pthread_join(s->acceptor, NULL);
		plat_close(s->ls);
	}
	/* Wake the connection threads and wait for them to go. */
	for (;;) {
		pthread_mutex_lock(&s->lock);
		for (struct conn *c = s->conns; c; c = c->next)
			plat_shutdown(c->sock);
		if (!s->nr_conns) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_unlock(&s->lock);
		usleep(10000);
	}
	for (unsigned i = 0; i < IDEM_MAX; i++)
		free(s->idem[i].reply);
	if (s->audit_file)
		fclose(s->audit_file);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s->faults);
	free(s->audit);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->op_lock);
	pthread_cond_destroy(&s->idem_cond);
	free(s);
}

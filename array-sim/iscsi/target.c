/*
 * target: portals, event loops, accept and the session registry.
 *
 * Threads: N loops (one per online CPU by default), each an epoll set
 * with its own connections, an eventfd for hand-offs and kicks, and a
 * one-second tick for pings and login timeouts (redis ae / tgt style).
 * Loop 0 also owns the listening sockets and deals accepted connections
 * round-robin; a connection never changes loop, so nothing on the data
 * path takes a lock.  Connections that die during an epoll batch are
 * destroyed after the batch, so a later event of the same batch never
 * sees freed memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iscsi_int.h"
#include "proto.h"

#define EV_BATCH 64

double iscsi_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int host_lookup_array(void *ctx, const char *iqn, struct host_info *out)
{
	return array_host_by_iqn(ctx, iqn, out);
}

/* ---- registry --------------------------------------------------------------------- */

void target_register(struct iscsi_target *t, struct iscsi_conn *c)
{
	pthread_mutex_lock(&t->lock);
	/* RFC 7143 6.3.5 session reinstatement: a new session (TSIH 0)
	 * with the same initiator name and ISID replaces the old one.  Its
	 * connection belongs to another loop, so we only shut its socket;
	 * that loop sees EOF and closes it (docs/iscsi.md: the old nexus
	 * may close a moment after the new one opens). */
	for (struct iscsi_conn *s = t->sessions; s; s = s->sess_next)
		if (!c->discovery && !s->discovery && s->isid == c->isid &&
		    !strcasecmp(s->initiator, c->initiator))
			shutdown(s->fd, SHUT_RDWR);
	/* TSIH: non-zero and unique among live sessions (11.12.6) */
	for (unsigned tries = 0; tries < 65536; tries++) {
		struct iscsi_conn *s;
		uint16_t cand = t->next_tsih++;

		if (!cand)
			continue;
		for (s = t->sessions; s && s->tsih != cand; s = s->sess_next)
			;
		if (!s) {
			c->tsih = cand;
			break;
		}
	}
	c->sess_prev = NULL;
	c->sess_next = t->sessions;
	if (t->sessions)
		t->sessions->sess_prev = c;
	t->sessions = c;
	c->registered = 1;
	pthread_mutex_unlock(&t->lock);
	atomic_fetch_add(&t->st.sessions_now, 1);
}

void target_unregister(struct iscsi_target *t, struct iscsi_conn *c)
{
	pthread_mutex_lock(&t->lock);
	if (c->sess_prev)
		c->sess_prev->sess_next = c->sess_next;
	else
		t->sessions = c->sess_next;
	if (c->sess_next)
		c->sess_next->sess_prev = c->sess_prev;
	c->registered = 0;
	pthread_mutex_unlock(&t->lock);
	atomic_fetch_sub(&t->st.sessions_now, 1);
}

void iscsi_target_sessions(void *target, struct proto_buf *rep)
{
	struct iscsi_target *t = target;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	for (struct iscsi_conn *s = t->sessions; s; s = s->sess_next) {
		long m = proto_list_begin(rep, PROTO_TAG_SESSION);

		proto_put_u64(rep, PROTO_TAG_SESSION_ID, s->isid << 16 | s->tsih);
		proto_put_u8(rep, PROTO_TAG_SESSION_KIND, PROTO_SESS_ISCSI);
		proto_put_str(rep, PROTO_TAG_PEER_ADDR, s->peer);
		proto_put_str(rep, PROTO_TAG_CLIENT_NAME, s->initiator);
		proto_list_end(rep, m);
	}
	pthread_mutex_unlock(&t->lock);
}

void iscsi_target_get_stats(struct iscsi_target *t, struct iscsi_target_stats *st)
{
	st->accepted = atomic_load(&t->st.accepted);
	st->logins_ok = atomic_load(&t->st.logins_ok);
	st->logins_failed = atomic_load(&t->st.logins_failed);
	st->sessions_now = atomic_load(&t->st.sessions_now);
	st->pdus_rx = atomic_load(&t->st.pdus_rx);
	st->pdus_tx = atomic_load(&t->st.pdus_tx);
	st->rejects = atomic_load(&t->st.rejects);
	st->digest_errors = atomic_load(&t->st.digest_errors);
	st->dropped = atomic_load(&t->st.dropped);
}

uint16_t iscsi_target_port(struct iscsi_target *t, unsigned i)
{
	return i < t->nr_portals ? t->portals[i].port : 0;
}

/* ---- accept ----------------------------------------------------------------------- */

static void wake(struct iscsi_loop *l)
{
	uint64_t one = 1;

	if (write(l->evfd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: a wake-up is pending anyway */
	}
}

static void adopt(struct iscsi_loop *l, int fd, unsigned portal)
{
	struct iscsi_conn *c = conn_create(l, fd, portal);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!c) {
		close(fd);
		atomic_fetch_sub(&l->t->nconns, 1);
		return;
	}
	if (!getpeername(fd, (struct sockaddr *)&ss, &sl)) {
		char a[INET6_ADDRSTRLEN] = "?";

		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			snprintf(c->peer, sizeof(c->peer), "%s:%u", a, ntohs(s4->sin_port));
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(c->peer, sizeof(c->peer), "[%s]:%u", a, ntohs(s6->sin6_port));
		}
	}
}

static void do_accept(struct iscsi_loop *l0, unsigned portal)
{
	struct iscsi_target *t = l0->t;

	for (;;) {
		int fd = accept4(t->portals[portal].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct iscsi_loop *l;
		int one = 1;

		if (fd < 0)
			return; /* EAGAIN, or a transient error: level-triggered */
		if (atomic_fetch_add(&t->nconns, 1) >= t->cfg.max_connections) {
			/* over the limit: no login at all */
			atomic_fetch_sub(&t->nconns, 1);
			close(fd);
			continue;
		}
		atomic_fetch_add(&t->st.accepted, 1);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		l = &t->loops[t->rr++ % t->nr_loops];
		if (l == l0) {
			adopt(l, fd, portal);
			continue;
		}
		pthread_mutex_lock(&l->qlock);
		if (l->qlen == l->qcap) {
			unsigned ncap = l->qcap ? l->qcap * 2 : 16;
			void *nq = realloc(l->q, ncap * sizeof(*l->q));

			if (!nq) {
				pthread_mutex_unlock(&l->qlock);
				close(fd);
				atomic_fetch_sub(&t->nconns, 1);
				continue;
			}
			l->q = nq;
			l->qcap = ncap;
		}
		l->q[l->qlen].fd = fd;
		l->q[l->qlen].portal = portal;
		l->qlen++;
		pthread_mutex_unlock(&l->qlock);
		wake(l);
	}
}

/* ---- loops ------------------------------------------------------------------------ */

static void on_wake(struct iscsi_loop *l)
{
	uint64_t v;

	if (read(l->evfd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
	for (;;) {
		int fd;
		unsigned portal;

		pthread_mutex_lock(&l->qlock);
		if (!l->qlen) {
			pthread_mutex_unlock(&l->qlock);
			break;
		}
		fd = l->q[--l->qlen].fd;
		portal = l->q[l->qlen].portal;
		pthread_mutex_unlock(&l->qlock);
		adopt(l, fd, portal);
	}
	if (atomic_exchange(&l->kick, 0) && l->t->cfg.async_events)
		for (struct iscsi_conn *c = l->conns; c; c = c->next)
			sess_async_ua(c);
}

static void reap(struct iscsi_loop *l)
{
	struct iscsi_conn *c = l->conns;

	while (c) {
		struct iscsi_conn *next = c->next;

		if (c->phase == PH_DEAD)
			conn_destroy(c);
		c = next;
	}
}

static void tick(struct iscsi_loop *l, double now)
{
	for (struct iscsi_conn *c = l->conns; c; c = c->next) {
		if (c->phase == PH_LOGIN && now - c->born > ISCSI_LOGIN_TIMEOUT_S)
			conn_fatal(c, "login timeout");
		else
			sess_ping(c, now);
	}
}

static void *loop_main(void *arg)
{
	struct iscsi_loop *l = arg;
	struct iscsi_target *t = l->t;
	struct epoll_event ev[EV_BATCH];
	double next_tick = iscsi_now() + 1;

	while (!atomic_load(&t->stopping)) {
		int n = epoll_wait(l->epfd, ev, EV_BATCH, l->again ? 0 : 1000), dead = 0;
		struct iscsi_conn *again = l->again;
		double now;

		l->again = NULL;
		/* connections that stopped at their rx budget with PDUs
		 * staged; any of them may also be in ev[] below, which is
		 * harmless */
		while (again) {
			struct iscsi_conn *c = again;

			again = c->again_next;
			c->again = 0;
			if (c->phase != PH_DEAD)
				conn_on_event(c, EPOLLIN);
			dead |= c->phase == PH_DEAD;
		}

		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p == &l->evfd) {
				on_wake(l);
			} else if (p >= (void *)&t->portals[0] &&
				   p < (void *)&t->portals[ISCSI_MAX_PORTALS]) {
				do_accept(l, (unsigned)((char *)p - (char *)&t->portals[0]) /
						 sizeof(t->portals[0]));
			} else {
				struct iscsi_conn *c = p;

				if (c->phase != PH_DEAD)
					conn_on_event(c, ev[i].events);
				dead |= c->phase == PH_DEAD;
			}
		}
		now = iscsi_now();
		if (now >= next_tick) {
			tick(l, now);
			next_tick = now + 1;
			dead = 1;
		}
		if (dead)
			reap(l);
	}
	while (l->conns) {
		l->conns->phase = PH_DEAD;
		conn_destroy(l->conns);
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------------------ */

static int listen_portal(struct iscsi_target *t, unsigned i, const struct iscsi_portal *p)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *addr = p->addr && *p->addr ? p->addr : "0.0.0.0";
	uint16_t port = p->port ? p->port : 3260;
	int fd, one = 1, fam;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		fam = AF_INET;
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
		t->portals[i].wildcard = !strcmp(addr, "0.0.0.0");
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		fam = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
		t->portals[i].wildcard = !strcmp(addr, "::");
	} else {
		return -EINVAL;
	}
	fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 1024)) {
		int e = -errno;

		close(fd);
		return e;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	t->portals[i].port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(t->portals[i].addr, sizeof(t->portals[i].addr), "%s", addr);
	t->portals[i].fd = fd;
	return 0;
}

static void free_target(struct iscsi_target *t)
{
	for (unsigned i = 0; i < t->nr_portals; i++)
		if (t->portals[i].fd >= 0)
			close(t->portals[i].fd);
	for (unsigned i = 0; t->loops && i < t->nr_loops; i++) {
		struct iscsi_loop *l = &t->loops[i];

		for (unsigned j = 0; j < l->qlen; j++)
			close(l->q[j].fd);
		free(l->q);
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->evfd >= 0)
			close(l->evfd);
		pthread_mutex_destroy(&l->qlock);
	}
	free(t->loops);
	pthread_mutex_destroy(&t->lock);
	free(t->target_iqn);
	free(t);
}

int iscsi_target_start(const struct iscsi_target_cfg *cfg, struct iscsi_target **out)
{
	struct iscsi_target *t;
	unsigned started = 0;
	long cpus;
	int r = 0;

	if (!cfg->target_iqn || !*cfg->target_iqn || strlen(cfg->target_iqn) > ARRAY_IQN_MAX ||
	    cfg->nr_portals > ISCSI_MAX_PORTALS || (!cfg->array && !cfg->host_lookup))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->cfg = *cfg;
	t->target_iqn = strdup(cfg->target_iqn);
	t->next_tsih = 1;
	if (!t->cfg.max_connections)
		t->cfg.max_connections = 1024;
	if (!t->cfg.cmd_window)
		t->cfg.cmd_window = 128;
	if (!t->cfg.nop_interval_s)
		t->cfg.nop_interval_s = 10;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	t->nr_loops = cfg->threads ? cfg->threads : cpus > 0 ? (unsigned)cpus : 1;
	t->env.target_iqn = t->target_iqn;
	t->env.tpgt = ISCSI_TPGT;
	t->env.require_chap = cfg->require_chap;
	iscsi_params_target_offer(&t->env.offer);
	t->env.host_lookup = cfg->host_lookup ? cfg->host_lookup : host_lookup_array;
	t->env.ctx = cfg->host_lookup ? cfg->host_lookup_ctx : cfg->array;
	t->loops = calloc(t->nr_loops, sizeof(*t->loops));
	if (!t->target_iqn || !t->loops) {
		free(t->loops);
		t->loops = NULL;
		t->nr_loops = 0;
		free_target(t);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < ISCSI_MAX_PORTALS; i++)
		t->portals[i].fd = -1;
	for (unsigned i = 0; i < t->nr_loops; i++) {
		/* free_target() may run before the loops are set up */
		t->loops[i].epfd = t->loops[i].evfd = -1;
		pthread_mutex_init(&t->loops[i].qlock, NULL);
	}
	t->nr_portals = cfg->nr_portals ? cfg->nr_portals : 1;
	for (unsigned i = 0; i < t->nr_portals && !r; i++) {
		struct iscsi_portal def = {"127.0.0.1", 3260};

		r = listen_portal(t, i, cfg->nr_portals ? &cfg->portals[i] : &def);
	}
	for (unsigned i = 0; i < t->nr_loops; i++) {
		struct iscsi_loop *l = &t->loops[i];

		l->t = t;
		l->idx = i;
		l->epfd = epoll_create1(EPOLL_CLOEXEC);
		l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (!r && (l->epfd < 0 || l->evfd < 0))
			r = -errno;
		if (!r) {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->evfd};

			if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev))
				r = -errno;
		}
	}
	for (unsigned i = 0; i < t->nr_portals && !r; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->portals[i]};

		if (epoll_ctl(t->loops[0].epfd, EPOLL_CTL_ADD, t->portals[i].fd, &ev))
			r = -errno;
	}
	for (; started < t->nr_loops && !r; started++)
		r = -pthread_create(&t->loops[started].thread, NULL, loop_main, &t->loops[started]);
	if (r) {
		if (started)
			started--; /* the failed one did not start */
		atomic_store(&t->stopping, 1);
		for (unsigned i = 0; i < started; i++) {
			wake(&t->loops[i]);
			pthread_join(t->loops[i].thread, NULL);
		}
		free_target(t);
		return r;
	}
	*out = t;
	return 0;
}

void iscsi_target_stop(struct iscsi_target *t)
{
	if (!t)
		return;
	atomic_store(&t->stopping, 1);
	for (unsigned i = 0; i < t->nr_loops; i++)
		wake(&t->loops[i]);
	for (unsigned i = 0; i < t->nr_loops; i++)
		pthread_join(t->loops[i].thread, NULL);
	free_target(t);
}

void iscsi_target_kick(struct iscsi_target *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nr_loops; i++) {
		atomic_store(&t->loops[i].kick, 1);
		wake(&t->loops[i]);
	}
}

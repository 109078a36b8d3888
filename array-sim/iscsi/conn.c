/*
 * conn: one connection's socket I/O.  Non-blocking socket, level-
 * triggered epoll, explicit rx and tx state machines (tgt's IOSTATE_*):
 *
 *   rx: RX_BHS -> RX_AHS_HD -> RX_DATA -> RX_TAIL -> dispatch -> RX_BHS
 *
 * Small reads go through a 64 KiB staging buffer (one read() usually
 * yields many PDUs); a large data segment (Data-Out, immediate data) is
 * read straight into the command's buffer once the staged bytes are used
 * up, so write data is copied at most once for the part that was staged.
 *
 *   tx: a FIFO of struct txpdu; conn_flush() writev()s header, data,
 *   padding and digest of as many PDUs as the socket takes, remembering
 *   the offset into the first one.  EPOLLOUT is armed only while the
 *   queue is not empty after a flush.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi_int.h"

/* ---- tx ------------------------------------------------------------------ */

struct txpdu *conn_tx_alloc(struct iscsi_conn *c)
{
	struct txpdu *x = c->txfree;

	if (x)
		c->txfree = x->next;
	else
		x = malloc(sizeof(*x));
	if (!x)
		return NULL;
	memset(x->hdr, 0, ISCSI_BHS_LEN);
	x->next = NULL;
	x->hlen = ISCSI_BHS_LEN;
	x->tlen = 0;
	x->data = NULL;
	x->dlen = 0;
	x->owned = NULL;
	x->release = NULL;
	x->close_after = 0;
	return x;
}

static void tx_put(struct iscsi_conn *c, struct txpdu *x)
{
	free(x->owned);
	if (x->release)
		cmd_release(c, x->release);
	x->next = c->txfree;
	c->txfree = x;
}

void conn_tx_queue(struct iscsi_conn *c, struct txpdu *x)
{
	uint32_t pad = iscsi_pad4(x->dlen) - x->dlen;

	bhs_set_dsl(x->hdr, x->dlen);
	/* RFC 7143 11.2.4 / 13.1: digests cover the BHS (we send no AHS)
	 * and the data plus its padding; they are on only in full feature
	 * phase. */
	if (c->hd) {
		iscsi_digest_put(x->hdr + ISCSI_BHS_LEN, iscsi_crc32c(x->hdr, ISCSI_BHS_LEN));
		x->hlen = ISCSI_BHS_LEN + ISCSI_DIGEST_LEN;
	}
	memset(x->tail, 0, pad);
	x->tlen = (uint8_t)pad;
	if (x->dlen && c->dd) {
		iscsi_digest_put(x->tail + pad, iscsi_crc32c2(x->data, x->dlen, x->tail, pad));
		x->tlen = (uint8_t)(pad + ISCSI_DIGEST_LEN);
	}
	c->tx_bytes += x->hlen + x->dlen + x->tlen;
	if (c->txq_tail)
		c->txq_tail->next = x;
	else
		c->txq = x;
	c->txq_tail = x;
	atomic_fetch_add_explicit(&c->loop->t->st.pdus_tx, 1, memory_order_relaxed);
}

/* Build the iovec of the queue from the current offset. */
static int tx_iov(struct iscsi_conn *c, struct iovec *iov)
{
	uint32_t skip = c->tx_off;
	int n = 0;

	for (struct txpdu *x = c->txq; x && n + 3 <= ISCSI_IOV_MAX; x = x->next) {
		const void *part[3] = {x->hdr, x->data, x->tail};
		uint32_t plen[3] = {x->hlen, x->dlen, x->tlen};

		for (int i = 0; i < 3; i++) {
			if (skip >= plen[i]) {
				skip -= plen[i];
				continue;
			}
			iov[n].iov_base = (uint8_t *)(uintptr_t)part[i] + skip;
			iov[n].iov_len = plen[i] - skip;
			skip = 0;
			n++;
		}
	}
	return n;
}

/* Staged bytes are invisible to epoll: have the loop run our rx again
 * (after a budget stop, or when back-pressure lifts). */
static void rx_again(struct iscsi_conn *c)
{
	if (c->send > c->sbeg && !c->again && c->phase < PH_LOGOUT) {
		c->again = 1;
		c->again_next = c->loop->again;
		c->loop->again = c;
	}
}

/* Write what the socket takes.  0 when the queue is empty, 1 when some
 * is left (EPOLLOUT armed), -1 on a dead socket. */
int conn_flush(struct iscsi_conn *c)
{
	struct iovec iov[ISCSI_IOV_MAX];

	while (c->txq) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)tx_iov(c, iov)};
		/* writev semantics without SIGPIPE on a peer that left */
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		c->tx_off += (uint32_t)w;
		c->tx_bytes -= (uint64_t)w;
		while (c->txq) {
			struct txpdu *x = c->txq;
			uint32_t len = x->hlen + x->dlen + x->tlen;

			if (c->tx_off < len)
				break;
			c->tx_off -= len;
			c->txq = x->next;
			if (!c->txq)
				c->txq_tail = NULL;
			if (x->close_after)
				c->phase = PH_DEAD;
			tx_put(c, x);
		}
	}
	if (c->txq) {
		uint32_t m = c->epoll_mask | EPOLLOUT;

		if (c->tx_bytes <= ISCSI_TX_HIGH / 2 && !(m & EPOLLIN)) {
			m |= EPOLLIN;
			rx_again(c); /* back-pressure lifted */
		}
		conn_set_epoll(c, m);
		return 1;
	}
	if (!(c->epoll_mask & EPOLLIN))
		rx_again(c); /* back-pressure lifted */
	conn_set_epoll(c, (c->epoll_mask & ~(uint32_t)EPOLLOUT) | EPOLLIN);
	return 0;
}

void conn_set_epoll(struct iscsi_conn *c, uint32_t mask)
{
	struct epoll_event ev = {.events = mask, .data.ptr = c};

	if (mask == c->epoll_mask)
		return;
	if (epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->epoll_mask = mask;
}

/* ---- rx ------------------------------------------------------------------ */

/* Get need bytes into dst (NULL: drop them), resuming at *got.  1 done,
 * 0 would block, -1 EOF or error. */
static int fill(struct iscsi_conn *c, uint8_t *dst, uint32_t need, uint32_t *got)
{
	while (*got < need) {
		uint32_t avail = c->send - c->sbeg, want = need - *got;
		ssize_t r;

		if (avail) {
			uint32_t n = avail < want ? avail : want;

			if (dst)
				memcpy(dst + *got, c->stage + c->sbeg, n);
			c->sbeg += n;
			*got += n;
			continue;
		}
		c->sbeg = c->send = 0;
		if (dst && want >= ISCSI_DIRECT_MIN)
			r = read(c->fd, dst + *got, want); /* straight into place */
		else
			r = read(c->fd, c->stage, ISCSI_STAGE_SIZE);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (r == 0)
			return -1;
		c->last_rx = iscsi_now();
		if (dst && want >= ISCSI_DIRECT_MIN)
			*got += (uint32_t)r;
		else
			c->send = (uint32_t)r;
	}
	return 1;
}

void conn_fatal(struct iscsi_conn *c, const char *why)
{
	(void)why;
	if (c->phase != PH_DEAD)
		atomic_fetch_add_explicit(&c->loop->t->st.dropped, 1, memory_order_relaxed);
	c->phase = PH_DEAD;
}

/* The header (BHS, AHS, header digest) is complete: decide where its data
 * segment goes. */
static void rx_header(struct iscsi_conn *c)
{
	unsigned op = bhs_opcode(c->hdr);
	uint32_t dsl = bhs_dsl(c->hdr);

	c->dst = NULL;
	c->dneed = dsl;
	c->dgot = 0;
	c->tneed = (iscsi_pad4(dsl) - dsl) + (dsl && c->dd ? ISCSI_DIGEST_LEN : 0);
	c->tgot = 0;
	c->rx_cmd = NULL;
	if (c->rej_reason)
		return; /* skipped, then rejected */
	switch (op) {
	case ISCSI_OP_SCSI_CMD:
		cmd_rx_scsi_hdr(c);
		break;
	case ISCSI_OP_DATA_OUT:
		cmd_rx_data_out_hdr(c);
		break;
	default:
		/* NOP-Out, Text, Login: bounded by bhs_check (max_dsl) */
		c->dst = (uint8_t *)c->small;
		break;
	}
}

static void rx_dispatch(struct iscsi_conn *c, int ddigest_bad)
{
	unsigned op = bhs_opcode(c->hdr);

	atomic_fetch_add_explicit(&c->loop->t->st.pdus_rx, 1, memory_order_relaxed);
	if (c->rej_reason) {
		sess_reject(c, c->hdr, c->rej_reason, c->rej_close);
		c->rej_reason = 0;
		c->rej_close = 0;
		return;
	}
	if (ddigest_bad) {
		atomic_fetch_add_explicit(&c->loop->t->st.digest_errors, 1, memory_order_relaxed);
		/* RFC 7143 7.8 / 11.17: a data digest error is answered with
		 * a Reject; at ERL 0 the task cannot be recovered, so the
		 * connection goes (after the Reject is sent). */
		sess_reject(c, c->hdr, ISCSI_REJ_DATA_DIGEST,
			    op == ISCSI_OP_SCSI_CMD || op == ISCSI_OP_DATA_OUT);
		if (c->rx_cmd && op == ISCSI_OP_SCSI_CMD)
			cmd_release(c, c->rx_cmd);
		return;
	}
	if (c->small && c->dst == (uint8_t *)c->small)
		c->small[c->dneed] = '\0'; /* text is split in place */
	if (c->phase == PH_LOGIN) {
		sess_login_pdu(c);
		return;
	}
	if (c->phase != PH_FFP)
		return; /* logging out: nothing more is read */
	switch (op) {
	case ISCSI_OP_NOP_OUT:
		sess_nop_out(c);
		break;
	case ISCSI_OP_SCSI_CMD:
		cmd_rx_scsi_done(c, 0);
		break;
	case ISCSI_OP_DATA_OUT:
		cmd_rx_data_out_done(c, 0);
		break;
	case ISCSI_OP_TMF_REQ:
		sess_tmf(c);
		break;
	case ISCSI_OP_TEXT_REQ:
		sess_text(c);
		break;
	case ISCSI_OP_LOGOUT_REQ:
		sess_logout(c);
		break;
	default:
		sess_reject(c, c->hdr, ISCSI_REJ_NOT_SUPPORTED, 0);
		break;
	}
}

/* Run the rx state machine for up to a budget of PDUs. */
static void conn_rx(struct iscsi_conn *c)
{
	for (int budget = ISCSI_RX_BUDGET; budget > 0 && c->phase < PH_LOGOUT;) {
		int r = 1;

		/* back-pressure: an initiator that does not read its
		 * responses stops being read (EPOLLIN is dropped until the
		 * queue drains, see conn_flush) */
		if (c->tx_bytes > ISCSI_TX_HIGH) {
			conn_set_epoll(c, c->epoll_mask & ~(uint32_t)EPOLLIN);
			return;
		}
		switch (c->rx) {
		case RX_BHS:
			r = fill(c, c->hdr, ISCSI_BHS_LEN, &c->hgot);
			if (r <= 0)
				break;
			{
				struct iscsi_rx_limits lim = {
				    .max_dsl =
					c->phase == PH_LOGIN ? ISCSI_LOGIN_DSL : c->p.max_recv_dsl,
				    .login = c->phase == PH_LOGIN,
				};
				int chk = iscsi_bhs_check(c->hdr, &lim);

				if (chk < 0) {
					/* lengths we will not read past, or a
					 * non-login PDU during login: drop
					 * before allocating anything */
					conn_fatal(c, "bad header");
					return;
				}
				c->rej_reason = (unsigned)chk;
			}
			c->hneed =
			    ISCSI_BHS_LEN + bhs_ahs_len(c->hdr) + (c->hd ? ISCSI_DIGEST_LEN : 0);
			c->rx = RX_AHS_HD;
			/* fall through */
		case RX_AHS_HD:
			r = fill(c, c->hdr, c->hneed, &c->hgot);
			if (r <= 0)
				break;
			if (c->hd) {
				uint32_t hl = c->hneed - ISCSI_DIGEST_LEN;

				if (iscsi_digest_get(c->hdr + hl) != iscsi_crc32c(c->hdr, hl)) {
					/* RFC 7143 7.8: at ERL 0 a header
					 * digest error is a connection
					 * failure (the lengths are suspect) */
					atomic_fetch_add_explicit(&c->loop->t->st.digest_errors, 1,
								  memory_order_relaxed);
					conn_fatal(c, "header digest");
					return;
				}
			}
			rx_header(c);
			if (c->phase == PH_DEAD)
				return;
			c->rx = RX_DATA;
			/* fall through */
		case RX_DATA:
			r = fill(c, c->dst, c->dneed, &c->dgot);
			if (r <= 0)
				break;
			c->rx = RX_TAIL;
			/* fall through */
		case RX_TAIL: {
			int bad = 0;

			r = fill(c, c->tail, c->tneed, &c->tgot);
			if (r <= 0)
				break;
			if (c->dd && c->dneed && c->dst) {
				uint32_t pad = iscsi_pad4(c->dneed) - c->dneed;

				bad = iscsi_digest_get(c->tail + pad) !=
				      iscsi_crc32c2(c->dst, c->dneed, c->tail, pad);
			}
			c->rx = RX_BHS;
			c->hgot = 0;
			budget--;
			rx_dispatch(c, bad);
			break;
		}
		}
		if (r < 0) {
			conn_fatal(c, "eof");
			return;
		}
		if (r == 0)
			return;
	}
	/* Out of budget with whole PDUs already staged: the socket may be
	 * empty, so epoll would not call us again; the loop must. */
	rx_again(c);
}

void conn_on_event(struct iscsi_conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		if (!(events & EPOLLIN))
			conn_fatal(c, "hangup");
	}
	if ((events & EPOLLIN) && c->phase != PH_DEAD)
		conn_rx(c);
	if (c->phase != PH_DEAD && conn_flush(c) < 0)
		conn_fatal(c, "write");
	if (c->phase == PH_LOGOUT && !c->txq)
		c->phase = PH_DEAD;
	/* a dead connection is destroyed by the loop after this batch */
}

struct iscsi_conn *conn_create(struct iscsi_loop *l, int fd, unsigned portal)
{
	struct iscsi_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	if (!c)
		return NULL;
	c->stage = malloc(ISCSI_STAGE_SIZE);
	c->small_cap = ISCSI_LOGIN_DSL;
	c->small = malloc(c->small_cap + 1);
	if (!c->stage || !c->small) {
		free(c->stage);
		free(c->small);
		free(c);
		return NULL;
	}
	c->loop = l;
	c->fd = fd;
	c->portal = portal;
	c->phase = PH_LOGIN;
	c->rx = RX_BHS;
	c->born = c->last_rx = iscsi_now();
	c->window = l->t->cfg.cmd_window;
	c->next_ttt = 1;
	iscsi_params_default(&c->p);
	c->p.max_recv_dsl = ISCSI_LOGIN_DSL;
	iscsi_login_init(&c->login, &l->t->env);
	ev.data.ptr = c;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		iscsi_login_free(&c->login);
		free(c->stage);
		free(c->small);
		free(c);
		return NULL;
	}
	c->epoll_mask = EPOLLIN;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	return c;
}

void conn_destroy(struct iscsi_conn *c)
{
	struct iscsi_loop *l = c->loop;

	epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->again)
		for (struct iscsi_conn **pp = &l->again; *pp; pp = &(*pp)->again_next)
			if (*pp == c) {
				*pp = c->again_next;
				break;
			}
	sess_close(c); /* registry first: nobody may shutdown() a reused fd */
	cmd_free_all(c);
	while (c->txq) {
		struct txpdu *x = c->txq;

		c->txq = x->next;
		tx_put(c, x);
	}
	cmd_free_all(c); /* commands released by the queued PDUs */
	while (c->txfree) {
		struct txpdu *x = c->txfree;

		c->txfree = x->next;
		free(x);
	}
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	iscsi_login_free(&c->login);
	free(c->text_acc);
	free(c->stage);
	free(c->small);
	atomic_fetch_sub(&l->t->nconns, 1);
	free(c);
}

/*
 * client.c: blocking ASCP client with reconnect-and-retry under the same
 * request id.  See client.h.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>

struct client {
	struct client_cfg cfg;
	char *host;
	char *name;
	plat_sock sock;
	struct auth_ctx auth;
};

static char *dupstr(const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

int net_send_frame(plat_sock s, const uint8_t *frame, size_t len, int timeout_ms)
{
	return plat_send_all(s, frame, len, timeout_ms);
}

int net_recv_frame(plat_sock s, int timeout_ms, uint8_t **frame, size_t *len)
{
	uint8_t hdr[PROTO_HDR_LEN];
	struct proto_hdr h;
	uint64_t end = plat_deadline(timeout_ms);
	uint8_t *buf;
	long total;
	int rc, left;

	rc = plat_recv_all(s, hdr, sizeof(hdr), timeout_ms);
	if (rc)
		return rc;
	total = proto_hdr_decode(hdr, sizeof(hdr), &h);
	if (total < 0)
		return (int)total;
	buf = malloc((size_t)total);
	if (!buf)
		return -PROTO_ENOMEM;
	memcpy(buf, hdr, sizeof(hdr));
	left = plat_time_left(end);
	rc = left < 0 ? -PROTO_ETIMEDOUT
		      : plat_recv_all(s, buf + PROTO_HDR_LEN, (size_t)total - PROTO_HDR_LEN, left);
	if (rc) {
		free(buf);
		return rc;
	}
	*frame = buf;
	*len = (size_t)total;
	return 0;
}

void client_disconnect(struct client *c)
{
	plat_close(c->sock);
	c->sock = PLAT_SOCK_INVALID;
	auth_wipe(&c->auth);
}

/* one unsealed handshake round trip: send type+payload, get the reply frame */
static int hs_round(struct client *c, uint16_t type, uint64_t reqid, const struct proto_buf *pl,
		    uint8_t **frame, size_t *len, struct proto_frame *f)
{
	struct proto_buf out;
	uint64_t end;
	int rc, left;

	proto_buf_init(&out);
	rc = proto_frame_build(&out, type, 0, reqid, pl->data, pl->len);
	end = plat_deadline(c->cfg.io_timeout_ms);
	if (!rc)
		rc = net_send_frame(c->sock, out.data, out.len, c->cfg.io_timeout_ms);
	proto_buf_free(&out);
	left = plat_time_left(end);
	if (!rc)
		rc = left < 0 ? -PROTO_ETIMEDOUT : net_recv_frame(c->sock, left, frame, len);
	if (rc)
		return rc;
	rc = proto_frame_decode(*frame, *len, f);
	if (!rc &&
	    (f->hdr.type != type || f->hdr.reqid != reqid || !(f->hdr.flags & PROTO_F_REPLY)))
		rc = -PROTO_EPROTO;
	if (rc) {
		free(*frame);
		*frame = NULL;
	}
	return rc;
}

static int handshake(struct client *c)
{
	struct proto_buf pl;
	struct proto_frame f;
	uint8_t *frame = NULL;
	size_t len;
	int rc;

	auth_init(&c->auth, 0, c->cfg.key);
	proto_buf_init(&pl);
	rc = auth_client_hello(&c->auth, c->name, &pl);
	if (!rc)
		rc = hs_round(c, PROTO_MSG_AUTH_HELLO, client_new_reqid(c), &pl, &frame, &len, &f);
	if (!rc) {
		proto_buf_reset(&pl);
		rc = auth_client_proof(&c->auth, f.payload, f.payload_len, &pl);
		free(frame);
		frame = NULL;
	}
	if (!rc)
		rc = hs_round(c, PROTO_MSG_AUTH_PROOF, client_new_reqid(c), &pl, &frame, &len, &f);
	if (!rc)
		rc = auth_client_confirm(&c->auth, frame, len);
	free(frame);
	proto_buf_free(&pl);
	return rc;
}

static int reconnect(struct client *c)
{
	int rc;

	client_disconnect(c);
	rc = plat_connect(c->host, c->cfg.port, c->cfg.connect_timeout_ms, &c->sock);
	if (rc)
		return rc;
	rc = handshake(c);
	if (rc)
		client_disconnect(c);
	return rc;
}

int client_open(const struct client_cfg *cfg, struct client **out)
{
	struct client *c;
	int rc = plat_net_init();

	if (rc)
		return rc;
	if (!cfg->host)
		return -PROTO_EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -PROTO_ENOMEM;
	c->cfg = *cfg;
	c->sock = PLAT_SOCK_INVALID;
	if (c->cfg.connect_timeout_ms <= 0)
		c->cfg.connect_timeout_ms = 5000;
	if (c->cfg.io_timeout_ms <= 0)
		c->cfg.io_timeout_ms = 30000;
	if (c->cfg.max_attempts <= 0)
		c->cfg.max_attempts = 3;
	if (c->cfg.retry_delay_ms <= 0)
		c->cfg.retry_delay_ms = 200;
	c->host = dupstr(cfg->host);
	c->name = dupstr(cfg->client_name);
	/* the caller's copy of the key is theirs to wipe; keep only ours */
	c->cfg.host = NULL;
	c->cfg.client_name = NULL;
	if (!c->host || (cfg->client_name && !c->name)) {
		client_close(c);
		return -PROTO_ENOMEM;
	}
	rc = reconnect(c);
	if (rc) {
		client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void client_close(struct client *c)
{
	if (!c)
		return;
	client_disconnect(c);
	free(c->host);
	free(c->name);
	plat_wipe(c, sizeof(*c));
	free(c);
}

uint64_t client_new_reqid(struct client *c)
{
	static uint64_t fallback;
	uint64_t id = 0;

	(void)c;
	/* random ids: unique across client processes without coordination */
	while (id == 0)
		if (plat_random(&id, sizeof(id)))
			id = plat_now_ms() ^ ((uint64_t)(uintptr_t)&id << 20) ^ ++fallback;
	return id;
}

void client_reply_free(struct client_reply *rep)
{
	free(rep->frame);
	memset(rep, 0, sizeof(*rep));
}

/* errors after which another attempt on a new connection may succeed */
static int retriable(int rc)
{
	switch (-rc) {
	case PROTO_EAUTH:
	case PROTO_EVERSION:
	case PROTO_ENOMEM:
	case PROTO_EINVAL:
	case PROTO_ETOOBIG:
		return 0;
	default:
		return 1;
	}
}

/* one attempt on the current connection */
static int call_once(struct client *c, uint16_t type, uint8_t flags, uint64_t reqid,
		     const struct proto_buf *fields, struct client_reply *rep)
{
	struct proto_buf out;
	struct proto_frame f;
	uint8_t *frame = NULL;
	uint64_t end;
	size_t len;
	int rc, left;

	proto_buf_init(&out);
	rc = proto_frame_build(&out, type, flags | PROTO_F_MAC, reqid, fields ? fields->data : NULL,
			       fields ? fields->len : 0);
	if (!rc)
		rc = auth_seal(&c->auth.sess, out.data, out.len);
	end = plat_deadline(c->cfg.io_timeout_ms);
	if (!rc)
		rc = net_send_frame(c->sock, out.data, out.len, c->cfg.io_timeout_ms);
	proto_buf_free(&out);
	left = plat_time_left(end);
	if (!rc)
		rc = left < 0 ? -PROTO_ETIMEDOUT : net_recv_frame(c->sock, left, &frame, &len);
	if (rc)
		return rc;
	rc = auth_open(&c->auth.sess, frame, len);
	if (!rc)
		rc = proto_frame_decode(frame, len, &f);
	/* one request in flight: anything but its reply means lost sync */
	if (!rc && (f.hdr.type != type || f.hdr.reqid != reqid || !(f.hdr.flags & PROTO_F_REPLY)))
		rc = -PROTO_EPROTO;
	if (!rc)
		rc = proto_get_status(f.payload, f.payload_len, &rep->status, rep->msg,
				      sizeof(rep->msg));
	if (rc) {
		free(frame);
		return rc;
	}
	rep->type = type;
	rep->reqid = reqid;
	rep->frame = frame;
	rep->frame_len = len;
	rep->payload = f.payload;
	rep->payload_len = f.payload_len;
	return 0;
}

int client_call(struct client *c, uint16_t type, uint64_t reqid, const struct proto_buf *fields,
		struct client_reply *rep)
{
	int rc = -PROTO_ECLOSED, delay = c->cfg.retry_delay_ms;
	int sent = 0;

	memset(rep, 0, sizeof(*rep));
	if (fields && fields->err)
		return fields->err;
	if (type == PROTO_MSG_AUTH_HELLO || type == PROTO_MSG_AUTH_PROOF)
		return -PROTO_EINVAL;
	for (int attempt = 0; attempt < c->cfg.max_attempts; attempt++) {
		if (attempt) {
			plat_sleep_ms((unsigned)delay);
			delay = delay >= 2500 ? 5000 : delay * 2;
		}
		if (c->sock == PLAT_SOCK_INVALID || c->auth.state != AUTH_DONE) {
			rc = reconnect(c);
			if (rc && !retriable(rc))
				return rc;
			if (rc)
				continue;
		}
		rep->attempts = attempt + 1;
		/* same id every time; RETRY tells the server it may have seen it */
		rc = call_once(c, type, sent ? PROTO_F_RETRY : 0, reqid, fields, rep);
		sent = 1;
		if (rc == 0)
			return 0;
		client_disconnect(c);
		if (!retriable(rc))
			return rc;
	}
	return rc;
}

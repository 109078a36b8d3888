/*
 * arrayctl: finding and authenticating to the daemon, and sending one
 * logical operation with the client library's same-request-id retry.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_LISTEN "127.0.0.1:3270"

struct conf {
	char listen[128];
	char key_file[512];
};

/* Only [control] matters to a client; the daemon validates the rest. */
static int conf_fn(void *user, const char *section, const char *name, const char *value)
{
	struct conf *c = user;

	if (strcmp(section, "control"))
		return 1;
	if (!strcmp(name, "listen"))
		snprintf(c->listen, sizeof(c->listen), "%s", value);
	else if (!strcmp(name, "key_file"))
		snprintf(c->key_file, sizeof(c->key_file), "%s", value);
	return 1;
}

static int split_hostport(const char *s, char *host, size_t hn, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	uint32_t p;

	if (!colon || colon == s || (size_t)(colon - s) >= hn || cli_parse_u32(colon + 1, &p) ||
	    !p || p > 65535)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	*port = (uint16_t)p;
	return 0;
}

static int conn_fail(struct cli *x, const char *fmt, const char *arg)
{
	fprintf(stderr, "arrayctl: %s: ", x->cmd);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_CONNECT;
}

static int connect_array(struct cli *x)
{
	struct conf cf = {DEFAULT_LISTEN, "control.key"};
	struct client_cfg cc = {.client_name = "arrayctl"};
	char host[128], keypath[1100], path[1100];
	const char *addr;
	char ename[32];
	int r;

	if (!x->data_dir && (!x->connect || !x->key_file))
		return conn_fail(
		    x, "%sgive --data-dir DIR, or --connect HOST:PORT and --key-file FILE", "");
	if (x->data_dir) {
		snprintf(path, sizeof(path), "%s/arraysimd.conf", x->data_dir);
		r = ini_parse(path, conf_fn, &cf);
		if (r < 0 && x->connect == NULL)
			fprintf(stderr, "arrayctl: note: %s unreadable, using %s\n", path,
				DEFAULT_LISTEN);
	}
	/* A running daemon records the address it really listens on (it may
	 * have been started with --control-listen); prefer that. */
	if (x->data_dir && !x->connect) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/control.addr", x->data_dir);
		f = fopen(path, "r");
		if (f) {
			if (fgets(cf.listen, sizeof(cf.listen), f))
				cf.listen[strcspn(cf.listen, "\r\n")] = 0;
			fclose(f);
		}
	}
	addr = x->connect ? x->connect : cf.listen;
	if (x->key_file)
		snprintf(keypath, sizeof(keypath), "%s", x->key_file);
	else if (cf.key_file[0] == '/')
		snprintf(keypath, sizeof(keypath), "%s", cf.key_file);
	else
		snprintf(keypath, sizeof(keypath), "%s/%s", x->data_dir, cf.key_file);
	if (split_hostport(addr, host, sizeof(host), &cc.port))
		return conn_fail(x, "bad address '%s' (want HOST:PORT)", addr);
	r = auth_key_load(keypath, cc.key);
	if (r == -PROTO_ENOENT)
		return conn_fail(x, "cannot read key file %s", keypath);
	if (r)
		return conn_fail(x, "bad key file %s (64 hex digits, mode 0600)", keypath);
	cc.host = host;
	cc.io_timeout_ms = x->timeout_ms;
	cc.max_attempts = x->attempts;
	r = client_open(&cc, &x->c);
	plat_wipe(cc.key, sizeof(cc.key));
	if (r) {
		fprintf(stderr, "arrayctl: %s: %s: %s %s:%u%s\n", x->cmd,
			cli_err_name((uint32_t)-r, ename, sizeof(ename)),
			r == -PROTO_EAUTH ? "authentication refused by"
					  : "cannot reach arraysimd at",
			host, cc.port, r == -PROTO_EAUTH ? " (wrong key?)" : "");
		return EXIT_CONNECT;
	}
	return 0;
}

/* Requests that change nothing: --request-id is for the others. */
static int read_only(uint16_t type)
{
	switch (type) {
	case PROTO_MSG_VERSION:
	case PROTO_MSG_POOL_STATUS:
	case PROTO_MSG_LUN_LIST:
	case PROTO_MSG_LUN_SHOW:
	case PROTO_MSG_HOST_LIST:
	case PROTO_MSG_MAP_LIST:
	case PROTO_MSG_SNAP_LIST:
	case PROTO_MSG_SNAP_DIFF:
	case PROTO_MSG_SESSION_LIST:
	case PROTO_MSG_FAULT_LIST:
	case PROTO_MSG_AUDIT_READ:
		return 1;
	default:
		return 0;
	}
}

int cli_fail(struct cli *x, uint32_t code, const char *msg)
{
	char ename[32];

	fprintf(stderr, "arrayctl: %s: %s: %s\n", x->cmd, cli_err_name(code, ename, sizeof(ename)),
		msg && msg[0] ? msg : proto_strerror((int)code));
	return code == PROTO_EAUTH ? EXIT_CONNECT : EXIT_OPFAIL;
}

int cli_call_status(struct cli *x, uint16_t type, const struct proto_buf *req,
		    struct client_reply *rep)
{
	uint64_t reqid;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (!x->c && (r = connect_array(x)))
		return r;
	if (x->force_reqid && !read_only(type)) {
		reqid = x->force_reqid;
		x->force_reqid = 0;
	} else {
		reqid = client_new_reqid(x->c);
	}
	/* The library reconnects and resends this id on transport errors;
	 * the array answers a resent id from its reply cache. */
	r = client_call(x->c, type, reqid, req, rep);
	if (r) {
		char ename[32];

		fprintf(stderr, "arrayctl: %s: %s: no reply from arraysimd (%s)\n", x->cmd,
			cli_err_name((uint32_t)-r, ename, sizeof(ename)), proto_strerror(r));
		return r == -PROTO_EAUTH || r == -PROTO_ECONNECT ? EXIT_CONNECT : EXIT_OPFAIL;
	}
	return 0;
}

int cli_call(struct cli *x, uint16_t type, const struct proto_buf *req, struct client_reply *rep)
{
	int r = cli_call_status(x, type, req, rep);

	if (r)
		return r;
	if (rep->status != PROTO_OK) {
		r = cli_fail(x, rep->status, rep->msg);
		client_reply_free(rep);
	}
	return r;
}

int cli_list_all(struct cli *x, uint16_t type, const struct proto_buf *base, uint16_t cursor_tag,
		 uint64_t start, uint16_t item_tag, uint32_t limit, json_object *arr)
{
	uint64_t cursor = start;
	uint32_t got = 0;

	for (;;) {
		struct client_reply rep;
		struct proto_buf req;
		uint64_t next = cursor;
		uint8_t more = 0;
		int r, n;

		proto_buf_init(&req);
		if (base && base->len)
			proto_buf_append(&req, base->data, base->len);
		proto_put_u64(&req, cursor_tag, cursor);
		if (limit)
			proto_put_u32(&req, PROTO_TAG_MAX_ENTRIES,
				      limit - got < 1000 ? limit - got : 1000);
		r = cli_call(x, type, &req, &rep);
		proto_buf_free(&req);
		if (r)
			return r;
		n = cli_collect(&rep, item_tag, arr);
		cli_get_u64(&rep, PROTO_TAG_CURSOR, &next);
		cli_get_u8(&rep, PROTO_TAG_MORE, &more);
		client_reply_free(&rep);
		got += (uint32_t)n;
		/* a server that does not advance would loop us forever */
		if (!more || (limit && got >= limit) || next == cursor)
			return 0;
		cursor = next;
	}
}

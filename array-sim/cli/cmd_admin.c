/*
 * arrayctl status, session list, fault ..., audit, version.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define ARRAYCTL_VERSION "arrayctl 0.1"

static int status(struct cli *x, int argc, char **argv)
{
	static const char *const kv[] = {
	    "Pool=pool_name", "State=state",	"Capacity=#capacity",	"Used=#used",
	    "Free=#free",     "LUNs=lun_count", "Snapshots=snap_count", NULL};
	struct client_reply rep;
	json_object *o;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 0, 0, pos, &n);
	if (!r)
		r = cli_call(x, PROTO_MSG_POOL_STATUS, NULL, &rep);
	if (r)
		return r;
	o = cli_record(rep.payload, rep.payload_len);
	client_reply_free(&rep);
	if (x->json) {
		cli_print_json(o);
		return 0;
	}
	cli_kv(o, kv);
	json_object_put(o);
	return 0;
}

/* A reply that is a list of records of one tag, printed as a table. */
static int list_cmd(struct cli *x, int argc, char **argv, uint16_t type, uint16_t tag,
		    const char *const *cols)
{
	struct client_reply rep;
	json_object *arr;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 0, 0, pos, &n);
	if (!r)
		r = cli_call(x, type, NULL, &rep);
	if (r)
		return r;
	arr = json_object_new_array();
	cli_collect(&rep, tag, arr);
	client_reply_free(&rep);
	if (x->json) {
		cli_print_json(arr);
		return 0;
	}
	cli_table(arr, cols);
	json_object_put(arr);
	return 0;
}

static int session_list(struct cli *x, int argc, char **argv)
{
	static const char *const cols[] = {
	    "ID=session_id", "KIND=kind",     "PEER=peer", "CLIENT=client_name",
	    "IQN=iqns",	     "AGE-MS=age_ms", NULL};

	return list_cmd(x, argc, argv, PROTO_MSG_SESSION_LIST, PROTO_TAG_SESSION, cols);
}

static int fault_list(struct cli *x, int argc, char **argv)
{
	static const char *const cols[] = {
	    "ID=fault_id",	 "ACTION=action", "OP=op",   "COUNT=count",
	    "DELAY-MS=delay_ms", "ERROR=error",	  "LUN=lun", NULL};

	return list_cmd(x, argc, argv, PROTO_MSG_FAULT_LIST, PROTO_TAG_FAULT, cols);
}

/* FAULT_INJECT and report the fault id (0 for the immediate actions). */
static int inject(struct cli *x, struct proto_buf *req, const char *what)
{
	struct client_reply rep;
	uint64_t id = 0;
	int r = cli_call(x, PROTO_MSG_FAULT_INJECT, req, &rep);

	proto_buf_free(req);
	if (r)
		return r;
	cli_get_u64(&rep, PROTO_TAG_FAULT_ID, &id);
	client_reply_free(&rep);
	if (x->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "fault_id", json_object_new_uint64(id));
		json_object_object_add(o, "message", json_object_new_string(what));
		cli_print_json(o);
	} else if (id) {
		printf("fault %llu armed: %s\n", (unsigned long long)id, what);
	} else {
		printf("%s\n", what);
	}
	return 0;
}

static int fault_delay_fail(struct cli *x, int argc, char **argv)
{
	int delay = !strcmp(x->def->name, "delay");
	struct cli_opt o[] = {{"ms", 1, NULL}, {"count", 1, NULL}, {"error", 1, NULL}, {0}};
	uint32_t op, ms = 0, count = 1, err = 0;
	struct proto_buf req;
	char *pos[1], what[160], ob[40], eb[32];
	int n, r;

	r = cli_args(x, argc, argv, o, 1, 1, pos, &n);
	if (r)
		return r;
	if (cli_parse_op(pos[0], &op))
		return cli_usage_error(x,
				       "unknown operation '%s' (e.g. lun-create, "
				       "snapset-commit, read, any)",
				       pos[0]);
	if (delay && (!cli_opt(o, "ms") || cli_parse_u32(cli_opt(o, "ms"), &ms) || !ms))
		return cli_usage_error(x, "--ms N (> 0) is required");
	if (!delay && cli_opt(o, "ms"))
		return cli_usage_error(x, "--ms is for fault delay");
	if (delay && cli_opt(o, "error"))
		return cli_usage_error(x, "--error is for fault fail");
	if (cli_opt(o, "count") && cli_parse_u32(cli_opt(o, "count"), &count))
		return cli_usage_error(x, "bad --count '%s'", cli_opt(o, "count"));
	if (cli_opt(o, "error") && (cli_parse_err(cli_opt(o, "error"), &err) || !err))
		return cli_usage_error(x, "unknown error code '%s' (e.g. EIO, ENOSPC, 17)",
				       cli_opt(o, "error"));
	proto_buf_init(&req);
	proto_put_u8(&req, PROTO_TAG_FAULT_ACTION, delay ? PROTO_FAULT_DELAY : PROTO_FAULT_FAIL);
	proto_put_u32(&req, PROTO_TAG_FAULT_OP, op);
	proto_put_u32(&req, PROTO_TAG_FAULT_COUNT, count);
	if (delay)
		proto_put_u32(&req, PROTO_TAG_DELAY_MS, ms);
	if (err)
		proto_put_u32(&req, PROTO_TAG_FAULT_ERROR, err);
	if (delay)
		snprintf(what, sizeof(what), "delay %s by %u ms, %s",
			 cli_op_name(op, ob, sizeof(ob)), ms, count ? "" : "until cleared");
	else
		snprintf(what, sizeof(what), "fail %s with %s, %s", cli_op_name(op, ob, sizeof(ob)),
			 err ? cli_err_name(err, eb, sizeof(eb)) : "EFAULT_INJECTED",
			 count ? "" : "until cleared");
	if (count) /* "..., 3 times" */
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%u time%s", count,
			 count == 1 ? "" : "s");
	return inject(x, &req, what);
}

static int fault_drop(struct cli *x, int argc, char **argv)
{
	struct proto_buf req;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 0, 0, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	proto_put_u8(&req, PROTO_TAG_FAULT_ACTION, PROTO_FAULT_DROP_CONN);
	return inject(x, &req, "dropped every other control connection");
}

static int fault_lun(struct cli *x, int argc, char **argv)
{
	int off = !strcmp(x->def->name, "lun-offline");
	struct proto_buf req;
	char *pos[1], what[128];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 1, 1, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	proto_put_u8(&req, PROTO_TAG_FAULT_ACTION,
		     off ? PROTO_FAULT_LUN_OFFLINE : PROTO_FAULT_LUN_ONLINE);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, pos[0]);
	snprintf(what, sizeof(what), "LUN %s is %s", pos[0], off ? "offline" : "online");
	return inject(x, &req, what);
}

static int fault_clear(struct cli *x, int argc, char **argv)
{
	struct proto_buf req;
	char *pos[1], done[64];
	uint64_t id = 0;
	int n, r;

	r = cli_args(x, argc, argv, NULL, 0, 1, pos, &n);
	if (r)
		return r;
	if (n && (cli_parse_u64(pos[0], &id) || !id))
		return cli_usage_error(x, "bad fault id '%s'", pos[0]);
	proto_buf_init(&req);
	if (n)
		proto_put_u64(&req, PROTO_TAG_FAULT_ID, id);
	if (n)
		snprintf(done, sizeof(done), "fault %llu cleared", (unsigned long long)id);
	else
		snprintf(done, sizeof(done), "all faults cleared");
	return cli_simple(x, PROTO_MSG_FAULT_CLEAR, &req, done);
}

static int audit(struct cli *x, int argc, char **argv)
{
	static const char *const cols[] = {"SEQ=seq",	    "TIME=created", "ACTOR=actor", "OP=op",
					   "RESULT=result", "REQID=reqid",  "TEXT=text",   NULL};
	struct cli_opt o[] = {{"from", 1, NULL}, {"max", 1, NULL}, {0}};
	uint64_t from = 0;
	uint32_t max = 0;
	json_object *arr;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, o, 0, 0, pos, &n);
	if (r)
		return r;
	if (cli_opt(o, "from") && cli_parse_u64(cli_opt(o, "from"), &from))
		return cli_usage_error(x, "bad --from '%s'", cli_opt(o, "from"));
	if (cli_opt(o, "max") && (cli_parse_u32(cli_opt(o, "max"), &max) || !max))
		return cli_usage_error(x, "bad --max '%s'", cli_opt(o, "max"));
	arr = json_object_new_array();
	r = cli_list_all(x, PROTO_MSG_AUDIT_READ, NULL, PROTO_TAG_AUDIT_SEQ, from, PROTO_TAG_AUDIT,
			 max, arr);
	if (r) {
		json_object_put(arr);
		return r;
	}
	if (x->json) {
		cli_print_json(arr);
		return 0;
	}
	cli_table(arr, cols);
	json_object_put(arr);
	return 0;
}

static int version(struct cli *x, int argc, char **argv)
{
	static const char *const kv[] = {"Client=client",	   "Server=software",
					 "Protocol=proto_version", "Capabilities=caps",
					 "Max frame=max_frame",	   NULL};
	struct client_reply rep;
	struct proto_buf req;
	json_object *o;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 0, 0, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	proto_put_u32(&req, PROTO_TAG_PROTO_VERSION, PROTO_VERSION);
	proto_put_str(&req, PROTO_TAG_CLIENT_NAME, ARRAYCTL_VERSION);
	r = cli_call(x, PROTO_MSG_VERSION, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	o = cli_record(rep.payload, rep.payload_len);
	client_reply_free(&rep);
	json_object_object_del(o, "status");
	json_object_object_del(o, "message");
	json_object_object_add(o, "client", json_object_new_string(ARRAYCTL_VERSION));
	if (x->json) {
		cli_print_json(o);
		return 0;
	}
	cli_kv(o, kv);
	json_object_put(o);
	return 0;
}

const struct cli_cmd cli_admin_cmds[] = {
    {"status", NULL, "", "pool capacity, use and state, object counts", NULL, status},
    {"session", "list", "", "control (and iSCSI) sessions connected to the array", NULL,
     session_list},
    {"fault", "delay", "OP --ms N [--count N]", "delay the next N operations OP",
     "  OP                   a message name (lun-create, snapset-commit, ...), a message\n"
     "                       number (0x401), or read, write, flush, any\n"
     "  --ms N               delay in milliseconds\n"
     "  --count N            how many operations (default 1; 0 = until cleared)\n",
     fault_delay_fail},
    {"fault", "fail", "OP [--count N] [--error CODE]", "fail the next N operations OP",
     "  OP                   as for fault delay\n"
     "  --count N            how many operations (default 1; 0 = until cleared)\n"
     "  --error CODE         error to return: a name (EIO, ENOSPC, ...) or number\n"
     "                       (default EFAULT_INJECTED)\n",
     fault_delay_fail},
    {"fault", "drop-connections", "", "close every other control connection", NULL, fault_drop},
    {"fault", "lun-offline", "LUN", "take a LUN offline (I/O fails, shown in lun show)", NULL,
     fault_lun},
    {"fault", "lun-online", "LUN", "bring an offline LUN back", NULL, fault_lun},
    {"fault", "list", "", "list armed faults", NULL, fault_list},
    {"fault", "clear", "[ID]", "disarm one fault, or all", NULL, fault_clear},
    {"audit", NULL, "[--from SEQ] [--max N]", "read the audit log of state changes",
     "  --from SEQ           start at this sequence number (default: oldest kept)\n"
     "  --max N              at most N records (default: all)\n",
     audit},
    {"version", NULL, "", "client and server versions and capabilities", NULL, version},
    {0},
};

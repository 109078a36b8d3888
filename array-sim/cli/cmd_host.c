/*
 * arrayctl host ... and map/unmap: initiator groups and LUN masking.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const host_cols[] = {"NAME=name", "IQNS=iqns", "CHAP-USER=chap_user",
					"MUTUAL-USER=chap_muser", NULL};

static int print_records(struct cli *x, const struct client_reply *rep, uint16_t tag,
			 const char *const *cols)
{
	json_object *arr = json_object_new_array();

	cli_collect(rep, tag, arr);
	if (x->json) {
		cli_print_json(arr);
		return 0;
	}
	cli_table(arr, cols);
	json_object_put(arr);
	return 0;
}

static int host_create(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"iqn", 1, NULL}, {0}};
	struct client_reply rep;
	struct proto_buf req;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, o, 1, 1, pos, &n);
	if (r)
		return r;
	if (!cli_opt(o, "iqn"))
		return cli_usage_error(x, "--iqn IQN is required");
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_HOST_NAME, pos[0]);
	proto_put_str(&req, PROTO_TAG_IQN, cli_opt(o, "iqn"));
	r = cli_call(x, PROTO_MSG_HOST_CREATE, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	r = print_records(x, &rep, PROTO_TAG_HOST, host_cols);
	client_reply_free(&rep);
	return r;
}

static int host_list(struct cli *x, int argc, char **argv)
{
	struct client_reply rep;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 0, 0, pos, &n);
	if (!r)
		r = cli_call(x, PROTO_MSG_HOST_LIST, NULL, &rep);
	if (r)
		return r;
	r = print_records(x, &rep, PROTO_TAG_HOST, host_cols);
	client_reply_free(&rep);
	return r;
}

static int host_delete(struct cli *x, int argc, char **argv)
{
	struct proto_buf req;
	char *pos[1], done[128];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 1, 1, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_HOST_NAME, pos[0]);
	snprintf(done, sizeof(done), "host %s deleted", pos[0]);
	return cli_simple(x, PROTO_MSG_HOST_DELETE, &req, done);
}

static int host_iqn(struct cli *x, int argc, char **argv)
{
	int add = !strcmp(x->def->name, "add-iqn");
	struct proto_buf req;
	char *pos[2], done[400];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 2, 2, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_HOST_NAME, pos[0]);
	proto_put_str(&req, PROTO_TAG_IQN, pos[1]);
	snprintf(done, sizeof(done), "host %s: %s %s", pos[0], add ? "added" : "removed", pos[1]);
	return cli_simple(x, add ? PROTO_MSG_HOST_ADD_IQN : PROTO_MSG_HOST_REMOVE_IQN, &req, done);
}

static int host_chap(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"user", 1, NULL},	{"secret", 1, NULL},
			      {"mutual-user", 1, NULL}, {"mutual-secret", 1, NULL},
			      {"off", 0, NULL},		{0}};
	const char *u, *s, *mu, *ms;
	struct proto_buf req;
	char *pos[1], done[128];
	int n, r;

	r = cli_args(x, argc, argv, o, 1, 1, pos, &n);
	if (r)
		return r;
	u = cli_opt(o, "user");
	s = cli_opt(o, "secret");
	mu = cli_opt(o, "mutual-user");
	ms = cli_opt(o, "mutual-secret");
	if (cli_opt(o, "off") ? (u || s || mu || ms) : (!u || !s))
		return cli_usage_error(x, "give --user and --secret, or --off");
	if (!mu != !ms)
		return cli_usage_error(x, "--mutual-user and --mutual-secret go together");
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_HOST_NAME, pos[0]);
	/* absent user and secret: CHAP off */
	if (u) {
		proto_put_str(&req, PROTO_TAG_CHAP_USER, u);
		proto_put_str(&req, PROTO_TAG_CHAP_SECRET, s);
	}
	if (mu) {
		proto_put_str(&req, PROTO_TAG_CHAP_MUSER, mu);
		proto_put_str(&req, PROTO_TAG_CHAP_MSECRET, ms);
	}
	snprintf(done, sizeof(done), "host %s: CHAP %s", pos[0],
		 !u   ? "off"
		 : mu ? "and mutual CHAP set"
		      : "set");
	return cli_simple(x, PROTO_MSG_HOST_SET_CHAP, &req, done);
}

static const char *const map_cols[] = {"LUN=lun", "HOST=host", "LUN-NUMBER=lun_number", NULL};

static int map_one(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"lun", 1, NULL}, {0}};
	struct client_reply rep;
	struct proto_buf req;
	uint32_t num;
	char *pos[2];
	int n, r;

	r = cli_args(x, argc, argv, o, 2, 2, pos, &n);
	if (r)
		return r;
	if (cli_opt(o, "lun") && cli_parse_u32(cli_opt(o, "lun"), &num))
		return cli_usage_error(x, "bad --lun '%s'", cli_opt(o, "lun"));
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, pos[0]);
	proto_put_str(&req, PROTO_TAG_HOST_NAME, pos[1]);
	if (cli_opt(o, "lun"))
		proto_put_u32(&req, PROTO_TAG_LUN_NUMBER, num);
	r = cli_call(x, PROTO_MSG_MAP, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	r = print_records(x, &rep, PROTO_TAG_MAPPING, map_cols);
	client_reply_free(&rep);
	return r;
}

static int unmap_one(struct cli *x, int argc, char **argv)
{
	struct proto_buf req;
	char *pos[2], done[200];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 2, 2, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, pos[0]);
	proto_put_str(&req, PROTO_TAG_HOST_NAME, pos[1]);
	snprintf(done, sizeof(done), "LUN %s unmapped from host %s", pos[0], pos[1]);
	return cli_simple(x, PROTO_MSG_UNMAP, &req, done);
}

static int map_list(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"lun", 1, NULL}, {"host", 1, NULL}, {0}};
	struct client_reply rep;
	struct proto_buf req;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, o, 0, 0, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	if (cli_opt(o, "lun"))
		proto_put_str(&req, PROTO_TAG_LUN_NAME, cli_opt(o, "lun"));
	if (cli_opt(o, "host"))
		proto_put_str(&req, PROTO_TAG_HOST_NAME, cli_opt(o, "host"));
	r = cli_call(x, PROTO_MSG_MAP_LIST, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	r = print_records(x, &rep, PROTO_TAG_MAPPING, map_cols);
	client_reply_free(&rep);
	return r;
}

const struct cli_cmd cli_host_cmds[] = {
    {"host", "create", "NAME --iqn IQN", "create a host (initiator group) with one IQN",
     "  --iqn IQN            initiator name, e.g. iqn.1991-05.com.microsoft:db1\n"
     "                       (lower case; add more with host add-iqn)\n",
     host_create},
    {"host", "list", "", "list hosts with their IQNs and CHAP users (never secrets)", NULL,
     host_list},
    {"host", "delete", "NAME", "delete a host (must not be mapped)", NULL, host_delete},
    {"host", "add-iqn", "NAME IQN", "add an initiator name to a host", NULL, host_iqn},
    {"host", "remove-iqn", "NAME IQN", "remove an initiator name from a host", NULL, host_iqn},
    {"host", "set-chap", "NAME --user U --secret S [--mutual-user U --mutual-secret S] | --off",
     "set (or clear) CHAP for a host's sessions",
     "  --user U --secret S  one-way CHAP: the initiator proves itself (secret 12..128 bytes)\n"
     "  --mutual-user U --mutual-secret S\n"
     "                       mutual CHAP: the array proves itself too (a different secret)\n"
     "  --off                turn CHAP off\n",
     host_chap},
    {"map", "list", "[--lun LUN] [--host HOST]", "list mappings",
     "  --lun LUN, --host HOST   only this LUN's / host's mappings\n", map_list},
    {"map", NULL, "LUN HOST [--lun N]", "map a LUN (or snapshot) to a host",
     "  --lun N              SCSI LUN number (0..16383; default: lowest free)\n", map_one},
    {"unmap", NULL, "LUN HOST", "remove a mapping", NULL, unmap_one},
    {0},
};

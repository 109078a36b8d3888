/*
 * arrayctl lun create|list|show|delete|resize
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const lun_kv[] = {
    "Name=name",       "UUID=uuid",	    "Serial=serial",
    "NAA=naa",	       "Size=#size",	    "Block size=block_size",
    "Used=#used",      "Flags=flags",	    "State=state",
    "Created=created", "Clone of=clone_of", NULL,
};

/* The LUN record of a reply (LUN_CREATE, LUN_RESIZE, LUN_SHOW, CLONE,
 * REVERT), with the snapshot record LUN_SHOW adds for a snapshot. */
int cli_print_lun(struct cli *x, const struct client_reply *rep)
{
	json_object *luns = json_object_new_array(), *snaps = json_object_new_array(), *o;

	cli_collect(rep, PROTO_TAG_LUN, luns);
	cli_collect(rep, PROTO_TAG_SNAP, snaps);
	if (!json_object_array_length(luns)) {
		json_object_put(luns);
		json_object_put(snaps);
		return cli_fail(x, PROTO_EPROTO, "reply carries no LUN record");
	}
	o = json_object_get(json_object_array_get_idx(luns, 0));
	json_object_put(luns);
	/* For a snapshot the parent is its origin, not a clone source. */
	if (json_object_array_length(snaps))
		json_object_object_del(o, "clone_of");
	if (json_object_array_length(snaps))
		json_object_object_add(o, "snapshot",
				       json_object_get(json_object_array_get_idx(snaps, 0)));
	json_object_put(snaps);
	if (x->json) {
		cli_print_json(o);
		return 0;
	}
	cli_kv(o, lun_kv);
	if (json_object_object_get_ex(o, "snapshot", &luns)) {
		static const char *const snap_kv[] = {"Snapshot of=origin",
						      "Snapshot set=snapset_id", NULL};

		cli_kv(luns, snap_kv);
	}
	json_object_put(o);
	return 0;
}

static int lun_create(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"size", 1, NULL}, {"block-size", 1, NULL}, {0}};
	struct client_reply rep;
	struct proto_buf req;
	uint32_t bs = 512;
	uint64_t size;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, o, 1, 1, pos, &n);
	if (r)
		return r;
	if (!cli_opt(o, "size"))
		return cli_usage_error(x, "--size is required");
	if (cli_parse_size(cli_opt(o, "size"), &size) || !size)
		return cli_usage_error(x, "bad size '%s' (e.g. 10G, 512M, 1T)", cli_opt(o, "size"));
	if (cli_opt(o, "block-size") &&
	    (cli_parse_u32(cli_opt(o, "block-size"), &bs) || (bs != 512 && bs != 4096)))
		return cli_usage_error(x, "--block-size must be 512 or 4096");
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, pos[0]);
	proto_put_u64(&req, PROTO_TAG_LUN_SIZE, size);
	proto_put_u32(&req, PROTO_TAG_BLOCK_SIZE, bs);
	r = cli_call(x, PROTO_MSG_LUN_CREATE, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	r = cli_print_lun(x, &rep);
	client_reply_free(&rep);
	return r;
}

static int lun_list(struct cli *x, int argc, char **argv)
{
	static const char *const cols[] = {"NAME=name",		"SIZE=#size",	 "BS=block_size",
					   "USED=#used",	"STATE=state",	 "FLAGS=flags",
					   "CLONE-OF=clone_of", "SERIAL=serial", NULL};
	json_object *arr = json_object_new_array();
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 0, 0, pos, &n);
	if (!r)
		r = cli_list_all(x, PROTO_MSG_LUN_LIST, NULL, PROTO_TAG_CURSOR, 0, PROTO_TAG_LUN, 0,
				 arr);
	if (r) {
		json_object_put(arr);
		return r == CLI_HELP ? 0 : r;
	}
	if (x->json) {
		cli_print_json(arr);
		return 0;
	}
	cli_table(arr, cols);
	json_object_put(arr);
	return 0;
}

/* A name, a 32-digit serial or naa.<32 hex>: the array tries them all,
 * but send what the user meant so the request reads right in traces. */
void cli_put_lun_key(struct proto_buf *req, const char *key)
{
	uint8_t naa[16];

	if (!strncmp(key, "naa.", 4) && strlen(key) == 36 && !cli_parse_guid(key + 4, naa))
		proto_put_bytes(req, PROTO_TAG_LUN_NAA, naa, 16);
	else
		proto_put_str(req, PROTO_TAG_LUN_NAME, key);
}

static int lun_show(struct cli *x, int argc, char **argv)
{
	struct client_reply rep;
	struct proto_buf req;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 1, 1, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	cli_put_lun_key(&req, pos[0]);
	r = cli_call(x, PROTO_MSG_LUN_SHOW, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	r = cli_print_lun(x, &rep);
	client_reply_free(&rep);
	return r;
}

/* Commands whose reply is only STATUS: say what happened. */
int cli_simple(struct cli *x, uint16_t type, struct proto_buf *req, const char *done)
{
	struct client_reply rep;
	int r = cli_call(x, type, req, &rep);

	proto_buf_free(req);
	if (r)
		return r;
	client_reply_free(&rep);
	if (x->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "status", json_object_new_string("OK"));
		json_object_object_add(o, "message", json_object_new_string(done));
		cli_print_json(o);
	} else {
		printf("%s\n", done);
	}
	return 0;
}

static int lun_delete(struct cli *x, int argc, char **argv)
{
	struct proto_buf req;
	char *pos[1], done[128];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 1, 1, pos, &n);
	if (r)
		return r;
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, pos[0]);
	snprintf(done, sizeof(done), "LUN %s deleted", pos[0]);
	return cli_simple(x, PROTO_MSG_LUN_DELETE, &req, done);
}

static int lun_resize(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"size", 1, NULL}, {0}};
	struct client_reply rep;
	struct proto_buf req;
	uint64_t size;
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, o, 1, 1, pos, &n);
	if (r)
		return r;
	if (!cli_opt(o, "size") || cli_parse_size(cli_opt(o, "size"), &size) || !size)
		return cli_usage_error(x, "--size SIZE is required (e.g. 20G)");
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, pos[0]);
	proto_put_u64(&req, PROTO_TAG_LUN_SIZE, size);
	r = cli_call(x, PROTO_MSG_LUN_RESIZE, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	r = cli_print_lun(x, &rep);
	client_reply_free(&rep);
	return r;
}

const struct cli_cmd cli_lun_cmds[] = {
    {"lun", "create", "NAME --size SIZE [--block-size 512|4096]", "create a thin LUN",
     "  --size SIZE          virtual size: bytes or K/M/G/T/P (binary), e.g. 10G, 1.5T\n"
     "  --block-size BYTES   logical block size, 512 (default) or 4096\n",
     lun_create},
    {"lun", "list", "", "list LUNs (not snapshots)", NULL, lun_list},
    {"lun", "show", "NAME|SERIAL|naa.ID", "show one LUN or snapshot LUN",
     "  The LUN may be named by name, by its 32-digit unit serial (VPD 0x80)\n"
     "  or by its NAA-6 identifier naa.<32 hex digits> (VPD 0x83).\n",
     lun_show},
    {"lun", "delete", "NAME", "delete a LUN (must not be mapped)", NULL, lun_delete},
    {"lun", "resize", "NAME --size SIZE", "grow a LUN",
     "  --size SIZE          the new size (larger than the current one)\n", lun_resize},
    {0},
};

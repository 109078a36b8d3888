/*
 * arrayctl snapshot create|list|delete, clone, revert, diff.
 *
 * "snapshot create" is always a snapshot set (the VSS flow): PREPARE with
 * a random set id, then COMMIT, which snapshots every LUN in one engine
 * commit, so the snapshots of a multi-LUN set are mutually consistent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const snap_cols[] = {"NAME=name",  "ORIGIN=origin",	"SIZE=#size",
					"USED=#used", "SET=snapset_id", "CREATED=created",
					NULL};

static int snap_create(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"name", 1, NULL}, {"set-id", 1, NULL}, {0}};
	struct client_reply rep;
	struct proto_buf req;
	char *pos[256], gs[37], sname[200];
	json_object *out, *arr;
	uint8_t set[16];
	int n, r;

	r = cli_args(x, argc, argv, o, 1, 256, pos, &n);
	if (r)
		return r;
	if (!cli_opt(o, "name"))
		return cli_usage_error(x, "--name NAME is required");
	if (cli_opt(o, "set-id")) {
		if (cli_parse_guid(cli_opt(o, "set-id"), set))
			return cli_usage_error(x, "bad --set-id (want a GUID)");
	} else {
		/* a random (version 4) GUID, as VSS would choose */
		if (plat_random(set, sizeof(set)))
			return cli_fail(x, PROTO_EINTERNAL, "no random numbers");
		set[6] = (uint8_t)((set[6] & 0x0f) | 0x40);
		set[8] = (uint8_t)((set[8] & 0x3f) | 0x80);
	}
	proto_buf_init(&req);
	proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set);
	for (int i = 0; i < n; i++)
		proto_put_str(&req, PROTO_TAG_LUN_NAME, pos[i]);
	/* SNAP_NAME pairs up with LUN_NAME: NAME for one LUN, NAME-LUN for more */
	for (int i = 0; i < n; i++) {
		if (n == 1)
			snprintf(sname, sizeof(sname), "%s", cli_opt(o, "name"));
		else
			snprintf(sname, sizeof(sname), "%s-%s", cli_opt(o, "name"), pos[i]);
		proto_put_str(&req, PROTO_TAG_SNAP_NAME, sname);
	}
	r = cli_call(x, PROTO_MSG_SNAPSET_PREPARE, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	client_reply_free(&rep);

	proto_buf_init(&req);
	proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set);
	r = cli_call(x, PROTO_MSG_SNAPSET_COMMIT, &req, &rep);
	if (r) {
		/* Do not leave a prepared set holding its LUNs; the commit's
		 * error is the one to report. */
		struct client_reply ab;

		if (!cli_call_status(x, PROTO_MSG_SNAPSET_ABORT, &req, &ab))
			client_reply_free(&ab);
		proto_buf_free(&req);
		return r;
	}
	proto_buf_free(&req);
	arr = json_object_new_array();
	cli_collect(&rep, PROTO_TAG_SNAP, arr);
	client_reply_free(&rep);
	cli_guid_str(set, gs);
	if (x->json) {
		out = json_object_new_object();
		json_object_object_add(out, "snapset_id", json_object_new_string(gs));
		json_object_object_add(out, "snapshots", arr);
		cli_print_json(out);
		return 0;
	}
	printf("snapshot set %s committed:\n", gs);
	cli_table(arr, snap_cols);
	json_object_put(arr);
	return 0;
}

static int snap_list(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"set", 1, NULL}, {0}};
	json_object *arr;
	struct proto_buf base;
	uint8_t set[16];
	char *pos[1];
	int n, r;

	r = cli_args(x, argc, argv, o, 0, 1, pos, &n);
	if (r)
		return r;
	if (cli_opt(o, "set") && cli_parse_guid(cli_opt(o, "set"), set))
		return cli_usage_error(x, "bad --set (want a GUID)");
	proto_buf_init(&base);
	if (n)
		proto_put_str(&base, PROTO_TAG_LUN_NAME, pos[0]);
	if (cli_opt(o, "set"))
		proto_put_guid(&base, PROTO_TAG_SNAPSET_ID, set);
	arr = json_object_new_array();
	r = cli_list_all(x, PROTO_MSG_SNAP_LIST, &base, PROTO_TAG_CURSOR, 0, PROTO_TAG_SNAP, 0,
			 arr);
	proto_buf_free(&base);
	if (r) {
		json_object_put(arr);
		return r;
	}
	if (x->json) {
		cli_print_json(arr);
		return 0;
	}
	cli_table(arr, snap_cols);
	json_object_put(arr);
	return 0;
}

static int snap_delete(struct cli *x, int argc, char **argv)
{
	struct cli_opt o[] = {{"set", 1, NULL}, {0}};
	struct proto_buf req;
	char *pos[1], done[200];
	uint8_t set[16];
	int n, r;

	r = cli_args(x, argc, argv, o, 0, 1, pos, &n);
	if (r)
		return r;
	if (!n == !cli_opt(o, "set"))
		return cli_usage_error(x, "give a snapshot NAME or --set GUID");
	proto_buf_init(&req);
	if (n) {
		proto_put_str(&req, PROTO_TAG_SNAP_NAME, pos[0]);
		snprintf(done, sizeof(done), "snapshot %s deleted", pos[0]);
	} else {
		if (cli_parse_guid(cli_opt(o, "set"), set)) {
			proto_buf_free(&req);
			return cli_usage_error(x, "bad --set (want a GUID)");
		}
		proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set);
		snprintf(done, sizeof(done), "snapshot set %s deleted", cli_opt(o, "set"));
	}
	return cli_simple(x, PROTO_MSG_SNAP_DELETE, &req, done);
}

static int clone_or_revert(struct cli *x, int argc, char **argv)
{
	int clone = !strcmp(x->def->group, "clone");
	struct client_reply rep;
	struct proto_buf req;
	char *pos[2];
	int n, r;

	r = cli_args(x, argc, argv, NULL, 2, 2, pos, &n);
	if (r)
		return r;
	/* clone SNAPSHOT NAME; revert LUN SNAPSHOT */
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_SNAP_NAME, clone ? pos[0] : pos[1]);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, clone ? pos[1] : pos[0]);
	r = cli_call(x, clone ? PROTO_MSG_CLONE : PROTO_MSG_REVERT, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	r = cli_print_lun(x, &rep);
	client_reply_free(&rep);
	return r;
}

/* LUN_SHOW: the volume's uuid (the SNAP_ID a diff takes) and whether it is
 * a snapshot (the reply then carries a SNAP record too). */
static int resolve(struct cli *x, const char *key, uint8_t uuid[16], int *is_snap)
{
	struct client_reply rep;
	struct proto_buf req;
	struct proto_field f, g;
	struct proto_iter it;
	int r;

	proto_buf_init(&req);
	cli_put_lun_key(&req, key);
	r = cli_call(x, PROTO_MSG_LUN_SHOW, &req, &rep);
	proto_buf_free(&req);
	if (r)
		return r;
	*is_snap = !proto_find(rep.payload, rep.payload_len, PROTO_TAG_SNAP, &f);
	r = proto_find(rep.payload, rep.payload_len, PROTO_TAG_LUN, &f);
	if (!r)
		r = proto_field_list(&f, &it);
	if (!r)
		r = proto_find(it.p, it.left, PROTO_TAG_SNAP_ID, &g);
	if (!r)
		r = proto_field_guid(&g, uuid);
	client_reply_free(&rep);
	return r ? cli_fail(x, PROTO_EPROTO, "LUN_SHOW reply has no LUN uuid") : 0;
}

static int diff(struct cli *x, int argc, char **argv)
{
	static const char *const cols[] = {"OFFSET=offset", "LENGTH=length", "SIZE=#length", NULL};
	struct proto_buf base;
	uint8_t a[16], b[16];
	json_object *arr, *out;
	uint64_t total = 0;
	char *pos[2];
	int n, r, a_snap, b_snap;

	r = cli_args(x, argc, argv, NULL, 2, 2, pos, &n);
	if (r)
		return r;
	r = resolve(x, pos[0], a, &a_snap);
	if (!r)
		r = resolve(x, pos[1], b, &b_snap);
	if (r)
		return r;
	proto_buf_init(&base);
	proto_put_guid(&base, PROTO_TAG_BASE_SNAP_ID, a);
	if (b_snap)
		proto_put_guid(&base, PROTO_TAG_SNAP_ID, b);
	else
		proto_put_str(&base, PROTO_TAG_LUN_NAME, pos[1]); /* the live LUN */
	arr = json_object_new_array();
	r = cli_list_all(x, PROTO_MSG_SNAP_DIFF, &base, PROTO_TAG_CURSOR, 0, PROTO_TAG_EXTENT, 0,
			 arr);
	proto_buf_free(&base);
	if (r) {
		json_object_put(arr);
		return r;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		total += cli_ju(json_object_array_get_idx(arr, i), "length");
	if (x->json) {
		out = json_object_new_object();
		json_object_object_add(out, "base", json_object_new_string(pos[0]));
		json_object_object_add(out, "target", json_object_new_string(pos[1]));
		json_object_object_add(
		    out, "extent_count",
		    json_object_new_int64((int64_t)json_object_array_length(arr)));
		json_object_object_add(out, "changed_bytes", json_object_new_uint64(total));
		json_object_object_add(out, "extents", arr);
		cli_print_json(out);
		return 0;
	}
	if (json_object_array_length(arr))
		cli_table(arr, cols);
	printf("%zu extent%s, %llu bytes differ between %s and %s\n", json_object_array_length(arr),
	       json_object_array_length(arr) == 1 ? "" : "s", (unsigned long long)total, pos[0],
	       pos[1]);
	json_object_put(arr);
	return 0;
}

const struct cli_cmd cli_snap_cmds[] = {
    {"snapshot", "create", "LUN [LUN...] --name NAME [--set-id GUID]",
     "snapshot one or more LUNs atomically (one snapshot set)",
     "  --name NAME          snapshot name; with several LUNs each is NAME-LUN\n"
     "  --set-id GUID        snapshot set id (default: a random GUID)\n",
     snap_create},
    {"snapshot", "list", "[LUN] [--set GUID]", "list snapshots, of one LUN or set if given", NULL,
     snap_list},
    {"snapshot", "delete", "NAME | --set GUID", "delete a snapshot, or every snapshot of a set",
     NULL, snap_delete},
    {"clone", NULL, "SNAPSHOT NAME", "make a writable LUN NAME from a snapshot", NULL,
     clone_or_revert},
    {"revert", NULL, "LUN SNAPSHOT", "give LUN the content (and size) of its snapshot", NULL,
     clone_or_revert},
    {"diff", NULL, "SNAP_A SNAP_B|LUN", "byte ranges that differ from SNAP_A to SNAP_B",
     "  SNAP_B may be the origin LUN itself: then the diff is to its live content.\n"
     "  Both may be given by name, serial or naa.ID.\n",
     diff},
    {0},
};

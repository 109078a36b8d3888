/*
 * arrayctl: reply records to json-c objects, and the two renderings of
 * them (--json, or aligned tables / "key: value" lines).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* JSON keys: tag names in lower case, except these, which read better
 * inside their record (0: any record). */
static const struct {
	uint16_t rec, tag;
	const char *key;
} renames[] = {
    {PROTO_TAG_LUN, PROTO_TAG_LUN_NAME, "name"},
    {PROTO_TAG_LUN, PROTO_TAG_SNAP_ID, "uuid"},
    {PROTO_TAG_LUN, PROTO_TAG_SNAP_NAME, "clone_of"},
    {PROTO_TAG_SNAP, PROTO_TAG_SNAP_NAME, "name"},
    {PROTO_TAG_SNAP, PROTO_TAG_LUN_NAME, "origin"},
    {PROTO_TAG_HOST, PROTO_TAG_HOST_NAME, "name"},
    {PROTO_TAG_MAPPING, PROTO_TAG_LUN_NAME, "lun"},
    {PROTO_TAG_MAPPING, PROTO_TAG_HOST_NAME, "host"},
    {PROTO_TAG_SESSION, PROTO_TAG_LENGTH, "age_ms"},
    {PROTO_TAG_FAULT, PROTO_TAG_LUN_NAME, "lun"},
    {PROTO_TAG_AUDIT, PROTO_TAG_AUDIT_SEQ, "seq"},
    {PROTO_TAG_AUDIT, PROTO_TAG_MSG_TYPE, "op"},
    {0, PROTO_TAG_LUN_SERIAL, "serial"},
    {0, PROTO_TAG_LUN_NAA, "naa"},
    {0, PROTO_TAG_LUN_SIZE, "size"},
    {0, PROTO_TAG_LUN_FLAGS, "flags"},
    {0, PROTO_TAG_LUN_STATE, "state"},
    {0, PROTO_TAG_SNAP_STATE, "state"},
    {0, PROTO_TAG_POOL_STATE, "state"},
    {0, PROTO_TAG_SESSION_KIND, "kind"},
    {0, PROTO_TAG_PEER_ADDR, "peer"},
    {0, PROTO_TAG_FAULT_ACTION, "action"},
    {0, PROTO_TAG_FAULT_OP, "op"},
    {0, PROTO_TAG_FAULT_COUNT, "count"},
    {0, PROTO_TAG_FAULT_ERROR, "error"},
    {0, PROTO_TAG_REQ_ID, "reqid"},
};

static const char *field_key(uint16_t rec, uint16_t tag, char *buf, size_t n)
{
	const char *name;
	size_t i;

	for (i = 0; i < sizeof(renames) / sizeof(renames[0]); i++)
		if (renames[i].tag == tag && renames[i].rec == rec)
			return renames[i].key;
	for (i = 0; i < sizeof(renames) / sizeof(renames[0]); i++)
		if (renames[i].tag == tag && !renames[i].rec)
			return renames[i].key;
	name = proto_tag_name(tag);
	if (!name) {
		snprintf(buf, n, "tag_%u", tag);
		return buf;
	}
	for (i = 0; name[i] && i < n - 1; i++)
		buf[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	buf[i] = 0;
	return buf;
}

static const char *enum_name(uint16_t tag, uint64_t v)
{
	static const char *const lun[] = {"online", "offline"};
	static const char *const snap[] = {"prepared", "committed"};
	static const char *const pool[] = {"ok", "degraded", "full", "meta-low"};
	static const char *const sess[] = {"control", "iscsi"};
	static const char *const fault[] = {"?",	 "delay",	"fail",
					    "drop-conn", "lun-offline", "lun-online"};

	switch (tag) {
	case PROTO_TAG_LUN_STATE:
		return v < 2 ? lun[v] : NULL;
	case PROTO_TAG_SNAP_STATE:
		return v < 2 ? snap[v] : NULL;
	case PROTO_TAG_POOL_STATE:
		return v < 4 ? pool[v] : NULL;
	case PROTO_TAG_SESSION_KIND:
		return v < 2 ? sess[v] : NULL;
	case PROTO_TAG_FAULT_ACTION:
		return v >= 1 && v < 6 ? fault[v] : NULL;
	default:
		return NULL;
	}
}

static json_object *flags_json(uint16_t tag, uint64_t v)
{
	static const char *const lunf[] = {"thin", "readonly", "clone"};
	static const char *const caps[] = {"snap-diff", "faults", "audit", "idempotency"};
	const char *const *names = tag == PROTO_TAG_CAPS ? caps : lunf;
	unsigned n = tag == PROTO_TAG_CAPS ? 4 : 3;
	json_object *a = json_object_new_array();
	char buf[24];

	for (unsigned i = 0; i < 64; i++) {
		if (!(v & (1ull << i)))
			continue;
		if (i < n) {
			json_object_array_add(a, json_object_new_string(names[i]));
		} else {
			snprintf(buf, sizeof(buf), "0x%llx", 1ull << i);
			json_object_array_add(a, json_object_new_string(buf));
		}
	}
	return a;
}

static json_object *int_json(uint16_t tag, uint64_t v, json_object *rec)
{
	const char *e = enum_name(tag, v);
	char buf[96];

	if (e)
		return json_object_new_string(e);
	switch (tag) {
	case PROTO_TAG_LUN_FLAGS:
	case PROTO_TAG_CAPS:
		return flags_json(tag, v);
	case PROTO_TAG_FAULT_OP:
	case PROTO_TAG_MSG_TYPE:
		return json_object_new_string(cli_op_name((uint32_t)v, buf, sizeof(buf)));
	case PROTO_TAG_FAULT_ERROR:
	case PROTO_TAG_RESULT:
	case PROTO_TAG_STATUS:
		return json_object_new_string(cli_err_name((uint32_t)v, buf, sizeof(buf)));
	case PROTO_TAG_REQ_ID:
		snprintf(buf, sizeof(buf), "%016" PRIx64, v);
		return json_object_new_string(buf);
	case PROTO_TAG_CREATED: {
		/* ISO 8601 for people, and the exact ns for comparisons */
		time_t t = (time_t)(v / 1000000000u);
		struct tm tm;
		char ts[64];

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, sizeof(buf), "%s.%06uZ", ts, (unsigned)(v % 1000000000u / 1000));
		json_object_object_add(rec, "created_ns", json_object_new_uint64(v));
		return json_object_new_string(buf);
	}
	default:
		return v > INT64_MAX ? json_object_new_uint64(v)
				     : json_object_new_int64((int64_t)v);
	}
}

static json_object *value_json(uint16_t rec, const struct proto_field *f, json_object *obj)
{
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	char *s;
	json_object *o;

	switch (f->type) {
	case PROTO_T_U8:
		proto_field_u8(f, &u8);
		return int_json(f->tag, u8, obj);
	case PROTO_T_U32:
		proto_field_u32(f, &u32);
		return int_json(f->tag, u32, obj);
	case PROTO_T_U64:
		proto_field_u64(f, &u64);
		return int_json(f->tag, u64, obj);
	case PROTO_T_STRING:
		return json_object_new_string_len((const char *)f->val, (int)f->len);
	case PROTO_T_GUID: {
		char g[37];

		cli_guid_str(f->val, g);
		return json_object_new_string(g);
	}
	case PROTO_T_BYTES: {
		size_t pre = f->tag == PROTO_TAG_LUN_NAA ? 4 : 0;

		s = malloc(pre + 2 * f->len + 1);
		if (!s)
			return NULL;
		memcpy(s, "naa.", pre);
		for (uint32_t i = 0; i < f->len; i++)
			snprintf(s + pre + 2 * i, 3, "%02x", f->val[i]);
		s[pre + 2 * f->len] = 0;
		o = json_object_new_string(s);
		free(s);
		return o;
	}
	case PROTO_T_LIST:
		return cli_record_in(f->tag, f->val, f->len);
	default:
		return NULL;
	}
}

json_object *cli_record_in(uint16_t rec, const uint8_t *buf, size_t len)
{
	json_object *obj = json_object_new_object();
	struct proto_iter it;
	struct proto_field f;
	char kb[48];

	proto_iter_init(&it, buf, len);
	while (proto_iter_next(&it, &f) > 0) {
		const char *key = field_key(rec, f.tag, kb, sizeof(kb));
		json_object *v;

		if (f.tag == PROTO_TAG_IQN) {
			/* a collection: always an array, even of one */
			json_object *a;

			if (!json_object_object_get_ex(obj, "iqns", &a)) {
				a = json_object_new_array();
				json_object_object_add(obj, "iqns", a);
			}
			json_object_array_add(a, value_json(rec, &f, obj));
			continue;
		}
		if (json_object_object_get_ex(obj, key, NULL))
			continue; /* the protocol takes the first occurrence */
		v = value_json(rec, &f, obj);
		if (v)
			json_object_object_add(obj, key, v);
	}
	if (rec == PROTO_TAG_HOST && !json_object_object_get_ex(obj, "iqns", NULL))
		json_object_object_add(obj, "iqns", json_object_new_array());
	return obj;
}

json_object *cli_record(const uint8_t *buf, size_t len)
{
	return cli_record_in(0, buf, len);
}

int cli_collect(const struct client_reply *rep, uint16_t tag, json_object *arr)
{
	struct proto_iter it;
	struct proto_field f;
	int n = 0;

	proto_iter_init(&it, rep->payload, rep->payload_len);
	while (proto_iter_next(&it, &f) > 0)
		if (f.tag == tag && f.type == PROTO_T_LIST) {
			json_object_array_add(arr, cli_record_in(tag, f.val, f.len));
			n++;
		}
	return n;
}

int cli_get_u64(const struct client_reply *rep, uint16_t tag, uint64_t *v)
{
	return proto_get_u64(rep->payload, rep->payload_len, tag, v);
}

int cli_get_u8(const struct client_reply *rep, uint16_t tag, uint8_t *v)
{
	struct proto_field f;
	int r = proto_find(rep->payload, rep->payload_len, tag, &f);

	return r ? r : proto_field_u8(&f, v);
}

/* ---- rendering --------------------------------------------------------------- */

void cli_print_json(json_object *o)
{
	printf("%s\n",
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

const char *cli_js(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

uint64_t cli_ju(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_uint64(v);
}

/* One cell: '#' keys are sizes, arrays are joined with commas. */
static char *cell(json_object *o, const char *key)
{
	int size = key[0] == '#';
	json_object *v;
	char buf[64];
	char *s;

	if (size)
		key++;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return strdup("-");
	if (size) {
		cli_size_str(json_object_get_uint64(v), buf, sizeof(buf));
		return strdup(buf);
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v), len = 1;

		for (size_t i = 0; i < n; i++)
			len += strlen(json_object_get_string(json_object_array_get_idx(v, i))) + 1;
		s = calloc(1, len);
		for (size_t i = 0; s && i < n; i++) {
			if (i)
				strcat(s, ",");
			strcat(s, json_object_get_string(json_object_array_get_idx(v, i)));
		}
		return n && s ? s : (free(s), strdup("-"));
	}
	s = strdup(json_object_get_string(v));
	return s && s[0] ? s : (free(s), strdup("-"));
}

void cli_table(json_object *arr, const char *const *cols)
{
	size_t nc = 0, nr = json_object_array_length(arr), w[16] = {0};
	char **cells;

	while (cols[nc] && nc < 16)
		nc++;
	cells = calloc((nr + 1) * nc, sizeof(*cells));
	if (!cells)
		return;
	for (size_t c = 0; c < nc; c++) {
		const char *eq = strchr(cols[c], '=');

		cells[c] = strndup(cols[c], (size_t)(eq - cols[c]));
		for (size_t r = 0; r < nr; r++)
			cells[(r + 1) * nc + c] = cell(json_object_array_get_idx(arr, r), eq + 1);
	}
	for (size_t i = 0; i < (nr + 1) * nc; i++)
		if (cells[i] && strlen(cells[i]) > w[i % nc])
			w[i % nc] = strlen(cells[i]);
	for (size_t r = 0; r <= nr; r++)
		for (size_t c = 0; c < nc; c++) {
			const char *s = cells[r * nc + c] ? cells[r * nc + c] : "?";

			/* the last column is not padded: no trailing blanks */
			if (c + 1 == nc)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[c], s);
		}
	for (size_t i = 0; i < (nr + 1) * nc; i++)
		free(cells[i]);
	free(cells);
}

void cli_kv(json_object *o, const char *const *cols)
{
	size_t w = 0;

	for (size_t c = 0; cols[c]; c++) {
		size_t n = (size_t)(strchr(cols[c], '=') - cols[c]);

		w = n > w ? n : w;
	}
	for (size_t c = 0; cols[c]; c++) {
		const char *eq = strchr(cols[c], '=');
		char *v = cell(o, eq + 1);

		printf("%.*s:%*s %s\n", (int)(eq - cols[c]), cols[c],
		       (int)(w - (size_t)(eq - cols[c])), "", v ? v : "?");
		free(v);
	}
}

/*
 * arrayctl internals: the connection, the request helper, reply decoding
 * into json-c objects, and the table printer shared by the cmd_*.c files.
 *
 * Every reply record is first turned into a json_object (cli_record());
 * --json prints those objects, the default output picks columns out of
 * the same objects.  So the two outputs cannot disagree.
 */
#ifndef ARRAYSIM_CLI_H
#define ARRAYSIM_CLI_H

#include <stdint.h>

#include <json-c/json.h>

#include "client.h"
#include "proto.h"

/* exit codes */
#define EXIT_OPFAIL  1	  /* the array refused or failed the operation */
#define EXIT_USAGE   2	  /* bad command line */
#define EXIT_CONNECT 3	  /* cannot connect or authenticate */
#define CLI_HELP     (-1) /* cli_args() printed help: exit 0 */

struct cli {
	/* where to connect (from --data-dir or --connect/--key-file) */
	const char *data_dir;
	const char *connect;
	const char *key_file;
	int json;
	int timeout_ms;
	int attempts;
	uint64_t force_reqid; /* hidden --request-id: first mutating call only */
	const char *cmd;      /* "lun create", for messages */
	const struct cli_cmd *def;
	struct client *c;
};

struct cli_cmd {
	const char *group; /* "lun" */
	const char *name;  /* "create", or NULL for one-word commands */
	const char *args;  /* "NAME --size SIZE [--block-size 512|4096]" */
	const char *summary;
	const char *help; /* option lines, may be NULL */
	int (*fn)(struct cli *x, int argc, char **argv);
};

extern const struct cli_cmd cli_lun_cmds[], cli_host_cmds[], cli_snap_cmds[], cli_admin_cmds[];

/* ---- arguments ---------------------------------------------------------- */

struct cli_opt {
	const char *name; /* without the dashes */
	int has_arg;
	const char *val; /* out: value, "1" for a flag, NULL if absent */
};

/*
 * Parse a command's arguments: options from opts (--name VALUE or
 * --name=VALUE), positionals into pos[]; the number of positionals must
 * lie in [minpos, maxpos].  Returns 0, CLI_HELP (help printed) or
 * EXIT_USAGE (message printed).
 */
int cli_args(struct cli *x, int argc, char **argv, struct cli_opt *opts, int minpos, int maxpos,
	     char **pos, int *npos);
const char *cli_opt(const struct cli_opt *opts, const char *name);
void cli_cmd_help(const struct cli_cmd *c, FILE *f);
int cli_usage_error(struct cli *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cli_parse_size(const char *s, uint64_t *out);
int cli_parse_u32(const char *s, uint32_t *out);
int cli_parse_u64(const char *s, uint64_t *out);
int cli_parse_guid(const char *s, uint8_t g[16]);
void cli_guid_str(const uint8_t g[16], char out[37]);
void cli_size_str(uint64_t v, char *out, size_t n);
/* message type from "snapset-commit", "LUN_CREATE", "0x401", "read", "any"... */
int cli_parse_op(const char *s, uint32_t *op);
const char *cli_op_name(uint32_t op, char *buf, size_t n);
int cli_parse_err(const char *s, uint32_t *code);
const char *cli_err_name(uint32_t code, char *buf, size_t n);

/* ---- requests ----------------------------------------------------------- */

/*
 * One logical operation: a fresh request id (or --request-id), sent with
 * the library's reconnect-and-retry under that same id.  Returns 0 with
 * rep filled when the array said OK.  Otherwise prints
 * "arrayctl: CMD: ECODE: message" and returns the exit code.
 */
int cli_call(struct cli *x, uint16_t type, const struct proto_buf *req, struct client_reply *rep);
/* Same, but a non-OK status is returned in rep->status without a message. */
int cli_call_status(struct cli *x, uint16_t type, const struct proto_buf *req,
		    struct client_reply *rep);
int cli_fail(struct cli *x, uint32_t code, const char *msg);

/* ---- replies ------------------------------------------------------------ */

/* A record (LIST value or a whole payload) as a json object. */
json_object *cli_record(const uint8_t *buf, size_t len);
/* The same inside a record of type rec (PROTO_TAG_LUN...): keys read better. */
json_object *cli_record_in(uint16_t rec, const uint8_t *buf, size_t len);
/* Append every top-level LIST field with tag in the payload to arr. */
int cli_collect(const struct client_reply *rep, uint16_t tag, json_object *arr);
int cli_get_u64(const struct client_reply *rep, uint16_t tag, uint64_t *v);
int cli_get_u8(const struct client_reply *rep, uint16_t tag, uint8_t *v);

/*
 * Fetch every page of a CURSOR/MORE listing: cursor_tag is CURSOR (or
 * AUDIT_SEQ), records with item_tag go to arr.  base holds the other
 * request fields.  limit 0: all.
 */
int cli_list_all(struct cli *x, uint16_t type, const struct proto_buf *base, uint16_t cursor_tag,
		 uint64_t start, uint16_t item_tag, uint32_t limit, json_object *arr);

/* ---- output ------------------------------------------------------------- */

void cli_print_json(json_object *o);		     /* pretty, to stdout, takes ownership */
const char *cli_js(json_object *o, const char *key); /* string field or "" */
uint64_t cli_ju(json_object *o, const char *key);
/* Print objects in arr as an aligned table.  cols: "HEADER=key" pairs,
 * key prefixed with '#' for a size column. */
void cli_table(json_object *arr, const char *const *cols);
/* "key: value" lines of one object, fields in order */
void cli_kv(json_object *o, const char *const *cols);

/* ---- shared by the cmd_*.c files --------------------------------------- */

int cli_print_lun(struct cli *x, const struct client_reply *rep);
void cli_put_lun_key(struct proto_buf *req, const char *key);
/* send a request whose reply is only STATUS; print done; frees req */
int cli_simple(struct cli *x, uint16_t type, struct proto_buf *req, const char *done);

#endif

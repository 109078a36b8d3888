/*
 * arrayctl: command-line parsing and the value syntaxes (sizes, GUIDs,
 * operation and error names) shared by all commands.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

void cli_cmd_help(const struct cli_cmd *c, FILE *f)
{
	fprintf(f, "usage: arrayctl [GLOBAL OPTIONS] %s%s%s%s%s\n  %s\n", c->group,
		c->name ? " " : "", c->name ? c->name : "", c->args[0] ? " " : "", c->args,
		c->summary);
	if (c->help)
		fprintf(f, "%s", c->help);
	fprintf(f, "Global options (--data-dir, --connect, --key-file, --json, ...): "
		   "arrayctl --help\n");
}

int cli_usage_error(struct cli *x, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "arrayctl: %s: ", x->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see arrayctl %s --help)\n", x->cmd);
	return EXIT_USAGE;
}

static struct cli_opt *find_opt(struct cli_opt *opts, const char *name, size_t n)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == n && !strncmp(opts->name, name, n))
			return opts;
	return NULL;
}

int cli_args(struct cli *x, int argc, char **argv, struct cli_opt *opts, int minpos, int maxpos,
	     char **pos, int *npos)
{
	int n = 0, only_pos = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		struct cli_opt *o;
		const char *eq;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (n == maxpos)
				return cli_usage_error(x, "unexpected argument '%s'", a);
			pos[n++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_cmd_help(x->def, stdout);
			return CLI_HELP;
		}
		if (a[1] != '-')
			return cli_usage_error(x, "unknown option '%s'", a);
		a += 2;
		eq = strchr(a, '=');
		o = find_opt(opts, a, eq ? (size_t)(eq - a) : strlen(a));
		if (!o)
			return cli_usage_error(x, "unknown option '--%s'", a);
		if (!o->has_arg) {
			if (eq)
				return cli_usage_error(x, "--%s takes no value", o->name);
			o->val = "1";
		} else if (eq) {
			o->val = eq + 1;
		} else if (i + 1 < argc) {
			o->val = argv[++i];
		} else {
			return cli_usage_error(x, "--%s needs a value", o->name);
		}
	}
	if (n < minpos)
		return cli_usage_error(x, "missing argument");
	*npos = n;
	return 0;
}

const char *cli_opt(const struct cli_opt *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts->val;
	return NULL;
}

/* ---- values ---------------------------------------------------------------- */

/* 10G, 512M, 1T, 4096, 1.5G (binary units, as the daemon's config) */
int cli_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "bkmgtp";
	const char *u;
	long double v;
	char *end;
	int shift = 0;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtold(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		u = strchr(units, tolower((unsigned char)*end));
		if (!u)
			return -EINVAL;
		shift = 10 * (int)(u - units);
		end++;
		if (*end && strcasecmp(end, "iB") && strcasecmp(end, "B"))
			return -EINVAL;
	}
	v *= (long double)(1ull << shift);
	if (v >= 18446744073709551616.0L || v != (long double)(uint64_t)v)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

int cli_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (cli_parse_u64(s, &v) || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 8-4-4-4-12 (braces allowed, as Windows prints them) or 32 hex digits */
int cli_parse_guid(const char *s, uint8_t g[16])
{
	int n = 0, hi = -1;
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '{' && s[len - 1] == '}')
		s++, len -= 2;
	for (size_t i = 0; i < len; i++) {
		int v = hexv((unsigned char)s[i]);

		if (s[i] == '-' && (n == 4 || n == 6 || n == 8 || n == 10) && hi < 0)
			continue;
		if (v < 0 || n == 16)
			return -EINVAL;
		if (hi < 0) {
			hi = v;
		} else {
			g[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n == 16 && hi < 0 ? 0 : -EINVAL;
}

void cli_guid_str(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}

/* exact binary unit when there is one (10G), else one decimal (1.5G) */
void cli_size_str(uint64_t v, char *out, size_t n)
{
	static const char sfx[] = "KMGTPE";
	int i = -1;
	double d = (double)v;

	if (v < 1024) {
		snprintf(out, n, "%llu", (unsigned long long)v);
		return;
	}
	while (d >= 1024 && i < 5) {
		d /= 1024;
		i++;
	}
	if ((v & ((1ull << (10 * (i + 1))) - 1)) == 0)
		snprintf(out, n, "%.0f%c", d, sfx[i]);
	else
		snprintf(out, n, "%.1f%c", d, sfx[i]);
}

static const struct {
	const char *name;
	uint32_t op;
} data_ops[] = {
    {"read", PROTO_FOP_READ},
    {"write", PROTO_FOP_WRITE},
    {"flush", PROTO_FOP_FLUSH},
    {"any", PROTO_FOP_ANY},
};

/* Names as the protocol table spells them (SNAPSET_COMMIT), accepted in
 * the CLI's lower-case, dashed form too (snapset-commit). */
int cli_parse_op(const char *s, uint32_t *op)
{
	const struct proto_msg_desc *t;
	char up[64];
	size_t n, i;

	for (i = 0; i < sizeof(data_ops) / sizeof(data_ops[0]); i++)
		if (!strcasecmp(s, data_ops[i].name)) {
			*op = data_ops[i].op;
			return 0;
		}
	if (isdigit((unsigned char)s[0]))
		return cli_parse_u32(s, op);
	for (i = 0; s[i] && i < sizeof(up) - 1; i++)
		up[i] = s[i] == '-' ? '_' : (char)toupper((unsigned char)s[i]);
	up[i] = 0;
	t = proto_msg_table(&n);
	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, up)) {
			*op = t[i].type;
			return 0;
		}
	return -EINVAL;
}

const char *cli_op_name(uint32_t op, char *buf, size_t n)
{
	const struct proto_msg_desc *d;
	size_t i;

	for (i = 0; i < sizeof(data_ops) / sizeof(data_ops[0]); i++)
		if (data_ops[i].op == op)
			return data_ops[i].name;
	d = op <= 0xffff ? proto_msg_lookup((uint16_t)op) : NULL;
	if (!d) {
		snprintf(buf, n, "0x%x", op);
		return buf;
	}
	for (i = 0; d->name[i] && i < n - 1; i++)
		buf[i] = d->name[i] == '_' ? '-' : (char)tolower((unsigned char)d->name[i]);
	buf[i] = 0;
	return buf;
}

/* "EEXIST: object exists" -> "EEXIST" */
const char *cli_err_name(uint32_t code, char *buf, size_t n)
{
	const char *s = proto_strerror((int)code);
	size_t len = strcspn(s, ":");

	if (!strcmp(s, "unknown error")) {
		snprintf(buf, n, "E%u", code);
		return buf;
	}
	snprintf(buf, n, "%.*s", (int)len, s);
	return buf;
}

int cli_parse_err(const char *s, uint32_t *code)
{
	char buf[32];

	if (isdigit((unsigned char)s[0]))
		return cli_parse_u32(s, code) || *code >= PROTO_ERR_MAX ? -EINVAL : 0;
	for (uint32_t c = 1; c < PROTO_ERR_MAX; c++)
		if (!strcasecmp(s, cli_err_name(c, buf, sizeof(buf))) ||
		    (toupper((unsigned char)s[0]) != 'E' && !strcasecmp(s, buf + 1))) {
			*code = c;
			return 0;
		}
	return -EINVAL;
}

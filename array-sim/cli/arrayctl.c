/*
 * arrayctl: the arraysim administration tool.  Speaks the control
 * protocol (docs/control-protocol.md) to arraysimd through the blocking
 * client library; see docs/cli.md and arrayctl(1).
 *
 * This file: global options, the command table and help, dispatch.
 * Commands live in cmd_lun.c, cmd_host.c (hosts, maps), cmd_snap.c
 * (snapshots, clones, revert, diff) and cmd_admin.c (status, sessions,
 * faults, audit, version).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd *const tables[] = {cli_lun_cmds, cli_host_cmds, cli_snap_cmds,
					       cli_admin_cmds};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: arrayctl [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
		   "Global options (also accepted after the command):\n"
		   "  --data-dir DIR        the daemon's data directory: the address comes from\n"
		   "                        DIR/arraysimd.conf ([control] listen, default\n"
		   "                        127.0.0.1:3270), the key from DIR/control.key\n"
		   "  --connect HOST:PORT   connect here instead (with --key-file, or the\n"
		   "                        key of --data-dir)\n"
		   "  --key-file FILE       control key: 64 hex digits, mode 0600\n"
		   "  --json                print JSON instead of tables\n"
		   "  --timeout SEC         per-request I/O timeout (default 30)\n"
		   "  --retries N           attempts per request, same request id (default 3)\n"
		   "  --help                this text; COMMAND --help for one command\n"
		   "ARRAYCTL_DATA_DIR in the environment stands for --data-dir.\n\n"
		   "Commands:\n");
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct cli_cmd *c = tables[t]; c->group; c++) {
			char left[80];

			snprintf(left, sizeof(left), "%s%s%s", c->group, c->name ? " " : "",
				 c->name ? c->name : "");
			fprintf(f, "  %-22s %s\n", left, c->summary);
		}
	fprintf(f, "\nExit status: 0 success, 1 the array refused or failed the operation,\n"
		   "2 usage error, 3 cannot connect or authenticate.\n");
}

/* Global options may come anywhere; take them out of argv. */
static int globals(struct cli *x, int *argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], **dst = NULL;
		const char *val = NULL;

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--json")) {
			x->json = 1;
			continue;
		}
		if (!strncmp(a, "--data-dir", 10))
			dst = &x->data_dir;
		else if (!strncmp(a, "--connect", 9))
			dst = &x->connect;
		else if (!strncmp(a, "--key-file", 10))
			dst = &x->key_file;
		else if (strncmp(a, "--timeout", 9) && strncmp(a, "--retries", 9) &&
			 strncmp(a, "--request-id", 12)) {
			argv[out++] = argv[i];
			continue;
		}
		val = strchr(a, '=');
		if (val) {
			val++;
		} else if (i + 1 < *argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "arrayctl: %s needs a value\n", a);
			return EXIT_USAGE;
		}
		if (dst) {
			*dst = val;
		} else if (!strncmp(a, "--timeout", 9)) {
			uint32_t s;

			if (cli_parse_u32(val, &s) || !s || s > 86400) {
				fprintf(stderr, "arrayctl: bad --timeout '%s'\n", val);
				return EXIT_USAGE;
			}
			x->timeout_ms = (int)s * 1000;
		} else if (!strncmp(a, "--retries", 9)) {
			uint32_t n;

			if (cli_parse_u32(val, &n) || !n || n > 100) {
				fprintf(stderr, "arrayctl: bad --retries '%s'\n", val);
				return EXIT_USAGE;
			}
			x->attempts = (int)n;
		} else if (cli_parse_u64(val, &x->force_reqid) || !x->force_reqid) {
			/* hidden: replay a request id, for idempotency tests */
			fprintf(stderr, "arrayctl: bad --request-id '%s'\n", val);
			return EXIT_USAGE;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

static void group_help(const char *group, FILE *f)
{
	fprintf(f, "usage: arrayctl [GLOBAL OPTIONS] %s ...\n", group);
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct cli_cmd *c = tables[t]; c->group; c++)
			if (!strcmp(c->group, group))
				fprintf(f, "  arrayctl %s%s%s%s%s\n      %s\n", c->group,
					c->name ? " " : "", c->name ? c->name : "",
					c->args[0] ? " " : "", c->args, c->summary);
}

static const struct cli_cmd *lookup(int argc, char **argv, int *used)
{
	const struct cli_cmd *one = NULL;

	for (size_t t = 0; t < NTABLES; t++)
		for (const struct cli_cmd *c = tables[t]; c->group; c++) {
			if (strcmp(c->group, argv[0]))
				continue;
			/* "map list" before "map LUN HOST" */
			if (c->name && argc > 1 && !strcmp(c->name, argv[1])) {
				*used = 2;
				return c;
			}
			if (!c->name)
				one = c;
		}
	*used = 1;
	return one;
}

static int group_known(const char *g)
{
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct cli_cmd *c = tables[t]; c->group; c++)
			if (!strcmp(c->group, g))
				return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli x = {0};
	const struct cli_cmd *c;
	char cmdname[64];
	int used, r;

	signal(SIGPIPE, SIG_IGN);
	r = globals(&x, &argc, argv);
	if (r)
		return r;
	if (!x.data_dir && !x.connect)
		x.data_dir = getenv("ARRAYCTL_DATA_DIR");
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		if (argc >= 3 && !strcmp(argv[1], "help") && group_known(argv[2])) {
			c = lookup(argc - 2, argv + 2, &used);
			if (c && (used == 2 || !argv[3]))
				cli_cmd_help(c, stdout);
			else
				group_help(argv[2], stdout);
			return 0;
		}
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!group_known(argv[1])) {
		fprintf(stderr, "arrayctl: unknown command '%s' (see arrayctl --help)\n", argv[1]);
		return EXIT_USAGE;
	}
	c = lookup(argc - 1, argv + 1, &used);
	if (!c || (used == 1 && c->name)) {
		/* "arrayctl lun" or "arrayctl lun frob" */
		int help = argc == 2 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h");

		if (!help)
			fprintf(stderr, "arrayctl: %s: unknown subcommand '%s'\n", argv[1],
				argv[2]);
		group_help(argv[1], help ? stdout : stderr);
		return help ? 0 : EXIT_USAGE;
	}
	snprintf(cmdname, sizeof(cmdname), "%s%s%s", c->group, c->name ? " " : "",
		 c->name ? c->name : "");
	x.cmd = cmdname;
	x.def = c;
	r = c->fn(&x, argc - 1 - used, argv + 1 + used);
	if (x.c)
		client_close(x.c);
	fflush(stdout);
	return r == CLI_HELP ? 0 : r;
}

#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->pool_file, sizeof(c->pool_file), "pool.img");
	c->pool_size = 64ull << 30;
	c->chunk_size = 64u << 10;
	c->commit_interval_ms = 1000;
	c->cache_size = 256ull << 20;
	snprintf(c->control_listen, sizeof(c->control_listen), "127.0.0.1:3270");
	snprintf(c->key_file, sizeof(c->key_file), "control.key");
	snprintf(c->audit_log, sizeof(c->audit_log), "audit.log");
	c->max_connections = 64;
	snprintf(c->iscsi_listen, sizeof(c->iscsi_listen), "127.0.0.1:3260");
	snprintf(c->target_iqn, sizeof(c->target_iqn), "iqn.2026-11.org.arraysim:array");
	snprintf(c->log_level, sizeof(c->log_level), "info");
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 0:
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case 'p':
	case 'P':
		shift = 50;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	if (shift && v > (~0ull >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int parse_hostport(const char *s, char *host, unsigned hostsz, uint16_t *port)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	char *end;
	unsigned long p;

	if (!colon || colon == s || (unsigned)(colon - s) >= hostsz)
		return -EINVAL;
	p = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p > 65535)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	*port = (uint16_t)p;
	return 0;
}

void config_path(const struct config *c, const char *name, char *out, unsigned outsz)
{
	if (name[0] == '/')
		snprintf(out, outsz, "%s", name);
	else
		snprintf(out, outsz, "%s/%s", c->data_dir, name);
}

#define MATCH(s, n) (!strcmp(section, s) && !strcmp(name, n))

static int set_str(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return 0;
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct config *c = user;
	uint64_t v;

	if (MATCH("pool", "file"))
		return set_str(c->pool_file, sizeof(c->pool_file), value);
	if (MATCH("pool", "size"))
		return !parse_size(value, &c->pool_size);
	if (MATCH("pool", "chunk_size")) {
		if (parse_size(value, &v) || v > (1u << 20))
			return 0;
		c->chunk_size = (uint32_t)v;
		return 1;
	}
	if (MATCH("pool", "commit_interval_ms")) {
		if (parse_size(value, &v) || v > 60000)
			return 0;
		c->commit_interval_ms = (unsigned)v;
		return 1;
	}
	if (MATCH("pool", "cache_size"))
		return !parse_size(value, &c->cache_size);
	if (MATCH("control", "listen"))
		return set_str(c->control_listen, sizeof(c->control_listen), value);
	if (MATCH("control", "key_file"))
		return set_str(c->key_file, sizeof(c->key_file), value);
	if (MATCH("control", "audit_log"))
		return set_str(c->audit_log, sizeof(c->audit_log), value);
	if (MATCH("control", "max_connections")) {
		if (parse_size(value, &v) || !v || v > 4096)
			return 0;
		c->max_connections = (unsigned)v;
		return 1;
	}
	if (MATCH("iscsi", "listen"))
		return set_str(c->iscsi_listen, sizeof(c->iscsi_listen), value);
	if (MATCH("iscsi", "target_iqn"))
		return set_str(c->target_iqn, sizeof(c->target_iqn), value);
	if (MATCH("iscsi", "require_chap")) {
		c->require_chap =
		    !strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1");
		return 1;
	}
	if (MATCH("iscsi", "async_events")) {
		c->async_events =
		    !strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1");
		return 1;
	}
	if (MATCH("iscsi", "threads")) {
		if (parse_size(value, &v) || v > 64)
			return 0;
		c->iscsi_threads = (unsigned)v;
		return 1;
	}
	if (MATCH("log", "level"))
		return set_str(c->log_level, sizeof(c->log_level), value);
	if (MATCH("log", "syslog")) {
		c->syslog = !strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1");
		return 1;
	}
	return 0; /* unknown key: an error, so typos do not pass silently */
}

int config_load(struct config *c, const char *path, int *line)
{
	int r = ini_parse(path, handler, c);

	if (r < 0)
		return -errno ? -errno : -EIO;
	if (line)
		*line = r;
	return r ? -EINVAL : 0;
}

int config_load_string(struct config *c, const char *text, int *line)
{
	int r = ini_parse_string(text, handler, c);

	if (line)
		*line = r;
	return r ? -EINVAL : 0;
}

static void size_str(uint64_t v, char *out, size_t n)
{
	static const char sfx[] = "KMGTP";
	int i = -1;

	while (v && !(v & 1023) && i < 4) {
		v >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(out, n, "%llu", (unsigned long long)v);
	else
		snprintf(out, n, "%llu%c", (unsigned long long)v, sfx[i]);
}

int config_write(const struct config *c, const char *path)
{
	char ps[32], cs[32], ms[32];
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	size_str(c->pool_size, ps, sizeof(ps));
	size_str(c->chunk_size, cs, sizeof(cs));
	size_str(c->cache_size, ms, sizeof(ms));
	fprintf(f,
		"# arraysimd configuration: every setting, with its value.\n"
		"# Paths are relative to the data directory unless absolute.\n"
		"# Command-line options override this file.  SIGHUP re-reads [log].\n\n"
		"[pool]\n"
		"# the pool: a sparse file (or a block device path)\n"
		"file = %s\n"
		"# size of a new pool file; an existing pool keeps its size\n"
		"size = %s\n"
		"# data chunk size of a new pool (4K..1M, power of two)\n"
		"chunk_size = %s\n"
		"# commit at least this often when no flush or FUA comes (ms)\n"
		"commit_interval_ms = %u\n"
		"# metadata block cache\n"
		"cache_size = %s\n\n"
		"[control]\n"
		"# control protocol listener; loopback unless you name another address\n"
		"listen = %s\n"
		"key_file = %s\n"
		"audit_log = %s\n"
		"max_connections = %u\n\n"
		"[iscsi]\n"
		"# portals of the one target portal group, comma separated\n"
		"listen = %s\n"
		"target_iqn = %s\n"
		"# yes: every normal session must log in with CHAP (hosts that have\n"
		"# CHAP credentials always must)\n"
		"require_chap = %s\n"
		"# event-loop threads; 0 = one per CPU\n"
		"threads = %u\n"
		"# yes: an iSCSI Async Message (REPORTED LUNS DATA HAS CHANGED) to the\n"
		"# sessions a map change affects; no (as LIO): the unit attention on\n"
		"# the next command only.  A Linux initiator without iscsid drops the\n"
		"# connection on any Async Message.\n"
		"async_events = %s\n\n"
		"[log]\n"
		"# error, warn, info or debug\n"
		"level = %s\n"
		"syslog = %s\n",
		c->pool_file, ps, cs, c->commit_interval_ms, ms, c->control_listen, c->key_file,
		c->audit_log, c->max_connections, c->iscsi_listen, c->target_iqn,
		c->require_chap ? "yes" : "no", c->iscsi_threads, c->async_events ? "yes" : "no",
		c->log_level, c->syslog ? "yes" : "no");
	if (fclose(f))
		return -errno;
	return 0;
}

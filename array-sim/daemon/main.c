/*
 * arraysimd: the array daemon.  Opens (or on an empty data directory
 * creates) the pool, the control key and the config file, starts the
 * control server, and waits for signals:
 *   SIGTERM, SIGINT  commit and exit cleanly
 *   SIGHUP           re-read the config file's reloadable settings ([log])
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "auth.h"
#include "config.h"
#include "iscsi.h"
#include "log.h"
#include "pool.h"
#include "scsi.h"
#include "server.h"

struct daemon {
	struct config cfg;
	char config_path[CFG_PATH_MAX + 32];
	struct bdev *dev;
	struct pool *pool;
	struct array *array;
	struct ctl_server *ctl;
	struct scsi_ctx *scsi;
	struct iscsi_target *iscsi;
};

/* Map, unmap, resize and offline events reach the sessions they affect:
 * the SCSI core queues the unit attention, the target prompts the
 * initiator with an Async Message.  Runs under the array's lock. */
static void array_event(void *ctx, enum array_event ev, uint64_t host_id, uint64_t lun_id,
			uint32_t lun_number)
{
	struct daemon *d = ctx;

	if (d->scsi && scsi_notify(d->scsi, ev, host_id, lun_id, lun_number) > 0 && d->iscsi)
		iscsi_target_kick(d->iscsi);
}

/* Data-path fault injection comes from the control plane's fault table. */
static void data_fault(void *ctx, uint32_t op, uint32_t *delay_ms, uint32_t *err)
{
	ctl_fault_take(ctx, op, delay_ms, err);
}

/* "A:P,A:P" -> portals; host strings live in buf. */
static int parse_portals(const char *list, struct iscsi_target_cfg *tc, char (*buf)[128])
{
	char tmp[512], *save = NULL, *tok;

	snprintf(tmp, sizeof(tmp), "%s", list);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (tc->nr_portals == ISCSI_MAX_PORTALS ||
		    parse_hostport(tok, buf[tc->nr_portals], 128,
				   &tc->portals[tc->nr_portals].port))
			return -EINVAL;
		tc->portals[tc->nr_portals].addr = buf[tc->nr_portals];
		tc->nr_portals++;
	}
	return tc->nr_portals ? 0 : -EINVAL;
}

static int start_iscsi(struct daemon *d)
{
	struct iscsi_target_cfg tc = {.target_iqn = d->cfg.target_iqn,
				      .array = d->array,
				      .threads = d->cfg.iscsi_threads,
				      .require_chap = d->cfg.require_chap,
				      .async_events = d->cfg.async_events};
	char hosts[ISCSI_MAX_PORTALS][128];
	int r;

	r = scsi_create(d->array, &d->scsi);
	if (r) {
		log_msg(LOG_LVL_ERR, "cannot start the SCSI core: %s", strerror(-r));
		return r;
	}
	scsi_set_fault_hook(d->scsi, data_fault, d->ctl);
	array_set_hook(d->array, array_event, d);
	if (parse_portals(d->cfg.iscsi_listen, &tc, hosts)) {
		log_msg(LOG_LVL_ERR, "bad iSCSI listen list '%s'", d->cfg.iscsi_listen);
		return -EINVAL;
	}
	tc.scsi = d->scsi;
	r = iscsi_target_start(&tc, &d->iscsi);
	if (r) {
		log_msg(LOG_LVL_ERR, "cannot start the iSCSI target on %s: %s", d->cfg.iscsi_listen,
			strerror(-r));
		return r;
	}
	ctl_server_set_session_lister(d->ctl, iscsi_target_sessions, d->iscsi);
	log_msg(LOG_LVL_INFO, "iSCSI target %s on %s", d->cfg.target_iqn, d->cfg.iscsi_listen);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: arraysimd --data-dir DIR [options]\n"
		   "  --data-dir DIR          pool, control key, config and audit log live here\n"
		   "  --config FILE           config file (default DIR/arraysimd.conf)\n"
		   "  --control-listen A:P    control protocol (default 127.0.0.1:3270)\n"
		   "  --iscsi-listen A:P      iSCSI portal (default 127.0.0.1:3260)\n"
		   "  --pool-size SIZE        size of a new pool file (default 64G)\n"
		   "  --chunk-size SIZE       chunk size of a new pool (default 64K)\n"
		   "  --log-level LEVEL       error, warn, info, debug (default info)\n"
		   "  --syslog                log to syslog instead of stderr\n"
		   "  --foreground            do not detach\n"
		   "  --help\n"
		   "Loopback is the default; another address must be given by name.\n");
}

static int write_key(const char *path)
{
	uint8_t key[AUTH_KEY_LEN];
	char hex[2 * AUTH_KEY_LEN + 1];
	int fd, r;

	r = auth_key_generate(key);
	if (r)
		return -EIO;
	auth_key_format_hex(key, hex);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	r = dprintf(fd, "%s\n", hex) < 0 ? -EIO : 0;
	if (fsync(fd) || close(fd))
		r = r ? r : -errno;
	memset(key, 0, sizeof(key));
	return r;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* On an empty data directory: config file, key, pool.  Each is created
 * only if missing, so a half-initialised directory completes. */
static int init_data_dir(struct daemon *d)
{
	struct config *c = &d->cfg;
	char path[CFG_PATH_MAX * 2];
	int r;

	if (mkdir(c->data_dir, 0700) && errno != EEXIST) {
		log_msg(LOG_LVL_ERR, "cannot create %s: %s", c->data_dir, strerror(errno));
		return -errno;
	}
	if (!exists(d->config_path)) {
		struct config def;

		/* The file shows the defaults; options given now stay options. */
		config_defaults(&def);
		r = config_write(&def, d->config_path);
		if (r)
			return r;
		log_msg(LOG_LVL_INFO, "wrote default config %s", d->config_path);
	}
	config_path(c, c->key_file, path, sizeof(path));
	if (!exists(path)) {
		r = write_key(path);
		if (r) {
			log_msg(LOG_LVL_ERR, "cannot write key %s: %s", path, strerror(-r));
			return r;
		}
		log_msg(LOG_LVL_INFO, "created control key %s (mode 0600)", path);
	}
	config_path(c, c->pool_file, path, sizeof(path));
	if (!exists(path)) {
		struct pool_create_opts po = {.chunk_size = c->chunk_size};

		r = bdev_file_open(path, c->pool_size, 1, &d->dev);
		if (!r)
			r = pool_create(d->dev, &po);
		bdev_destroy(d->dev);
		d->dev = NULL;
		if (r) {
			unlink(path);
			log_msg(LOG_LVL_ERR, "cannot create pool %s: %s", path, strerror(-r));
			return r;
		}
		log_msg(LOG_LVL_INFO, "created pool %s (%llu bytes, %u-byte chunks)", path,
			(unsigned long long)c->pool_size, c->chunk_size);
	}
	return 0;
}

static int start(struct daemon *d)
{
	struct config *c = &d->cfg;
	struct pool_open_opts po = {.commit_interval_ms = c->commit_interval_ms,
				    .cache_bytes = c->cache_size};
	struct ctl_server_cfg sc = {.array = NULL, .max_conns = c->max_connections};
	char path[CFG_PATH_MAX * 2], audit[CFG_PATH_MAX * 2], host[128];
	int r;

	config_path(c, c->pool_file, path, sizeof(path));
	r = bdev_file_open(path, 0, 0, &d->dev);
	if (!r)
		r = pool_open(d->dev, &po, &d->pool);
	if (r) {
		log_msg(LOG_LVL_ERR, "cannot open pool %s: %s", path, strerror(-r));
		return r;
	}
	r = array_open(d->pool, &d->array);
	if (r) {
		log_msg(LOG_LVL_ERR, "cannot load objects: %s", strerror(-r));
		return r;
	}
	config_path(c, c->key_file, path, sizeof(path));
	r = auth_key_load(path, sc.key);
	if (r) {
		log_msg(LOG_LVL_ERR, "cannot load control key %s (needs 64 hex digits, mode 0600)",
			path);
		return -EINVAL;
	}
	if (parse_hostport(c->control_listen, host, sizeof(host), &sc.port)) {
		log_msg(LOG_LVL_ERR, "bad control listen address '%s'", c->control_listen);
		return -EINVAL;
	}
	sc.addr = host;
	sc.array = d->array;
	config_path(c, c->audit_log, audit, sizeof(audit));
	sc.audit_path = audit;
	r = ctl_server_start(&sc, &d->ctl);
	memset(sc.key, 0, sizeof(sc.key));
	if (r)
		return r;
	/* Tell arrayctl --data-dir where we really listen (options may
	 * override the config file); removed on a clean stop. */
	config_path(c, "control.addr", path, sizeof(path));
	{
		FILE *f = fopen(path, "w");

		if (f) {
			fprintf(f, "%s:%u\n", host, ctl_server_port(d->ctl));
			fclose(f);
		}
	}
	return start_iscsi(d);
}

static void stop(struct daemon *d)
{
	char path[CFG_PATH_MAX * 2];
	int r;

	config_path(&d->cfg, "control.addr", path, sizeof(path));
	unlink(path);

	/* Front to back: no new I/O, no control requests, then the core. */
	iscsi_target_stop(d->iscsi);
	if (d->array)
		array_set_hook(d->array, NULL, NULL);
	ctl_server_stop(d->ctl);
	scsi_destroy(d->scsi);
	array_close(d->array);
	r = pool_close(d->pool);
	if (d->pool)
		log_msg(r ? LOG_LVL_ERR : LOG_LVL_INFO, "pool closed%s%s", r ? ": " : "",
			r ? strerror(-r) : " after a final commit");
	bdev_destroy(d->dev);
}

static void reload(struct daemon *d)
{
	struct config c;
	int line = 0, lvl;

	config_defaults(&c);
	if (config_load(&c, d->config_path, &line)) {
		log_msg(LOG_LVL_WARN, "SIGHUP: %s: error at line %d; keeping settings",
			d->config_path, line);
		return;
	}
	lvl = log_level_parse(c.log_level);
	if (lvl >= 0) {
		log_set_level(lvl);
		snprintf(d->cfg.log_level, sizeof(d->cfg.log_level), "%s", c.log_level);
	}
	log_msg(LOG_LVL_INFO, "SIGHUP: reloaded %s (log level %s)", d->config_path, c.log_level);
}

enum { OPT_CONFIG = 256, OPT_CTL, OPT_ISCSI, OPT_POOLSIZE, OPT_CHUNK, OPT_LEVEL, OPT_CHAP };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"data-dir", required_argument, 0, 'd'},
	    {"config", required_argument, 0, OPT_CONFIG},
	    {"control-listen", required_argument, 0, OPT_CTL},
	    {"iscsi-listen", required_argument, 0, OPT_ISCSI},
	    {"pool-size", required_argument, 0, OPT_POOLSIZE},
	    {"chunk-size", required_argument, 0, OPT_CHUNK},
	    {"log-level", required_argument, 0, OPT_LEVEL},
	    {"require-chap", no_argument, 0, OPT_CHAP},
	    {"syslog", no_argument, 0, 's'},
	    {"foreground", no_argument, 0, 'f'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *ctl = NULL, *iscsi = NULL, *psize = NULL, *chunk = NULL, *level = NULL;
	int foreground = 0, use_syslog = 0, require_chap = 0, o, line = 0, sig, r;
	struct daemon d = {0};
	sigset_t set;
	uint64_t v;

	config_defaults(&d.cfg);
	while ((o = getopt_long(argc, argv, "d:fh", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			snprintf(d.cfg.data_dir, sizeof(d.cfg.data_dir), "%s", optarg);
			break;
		case OPT_CONFIG:
			snprintf(d.config_path, sizeof(d.config_path), "%s", optarg);
			break;
		case OPT_CTL:
			ctl = optarg;
			break;
		case OPT_ISCSI:
			iscsi = optarg;
			break;
		case OPT_POOLSIZE:
			psize = optarg;
			break;
		case OPT_CHUNK:
			chunk = optarg;
			break;
		case OPT_LEVEL:
			level = optarg;
			break;
		case 's':
			use_syslog = 1;
			break;
		case OPT_CHAP:
			require_chap = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!d.cfg.data_dir[0] || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!d.config_path[0])
		snprintf(d.config_path, sizeof(d.config_path), "%s/arraysimd.conf", d.cfg.data_dir);
	if (exists(d.config_path) && config_load(&d.cfg, d.config_path, &line)) {
		fprintf(stderr, "arraysimd: %s: error at line %d\n", d.config_path, line);
		return 2;
	}
	/* The command line wins over the file. */
	if (ctl)
		snprintf(d.cfg.control_listen, sizeof(d.cfg.control_listen), "%s", ctl);
	if (iscsi)
		snprintf(d.cfg.iscsi_listen, sizeof(d.cfg.iscsi_listen), "%s", iscsi);
	if (psize && parse_size(psize, &d.cfg.pool_size)) {
		fprintf(stderr, "arraysimd: bad --pool-size '%s'\n", psize);
		return 2;
	}
	if (chunk) {
		if (parse_size(chunk, &v) || v > (1u << 20)) {
			fprintf(stderr, "arraysimd: bad --chunk-size '%s'\n", chunk);
			return 2;
		}
		d.cfg.chunk_size = (uint32_t)v;
	}
	if (level)
		snprintf(d.cfg.log_level, sizeof(d.cfg.log_level), "%s", level);
	if (use_syslog)
		d.cfg.syslog = 1;
	if (require_chap)
		d.cfg.require_chap = 1;
	if (log_level_parse(d.cfg.log_level) < 0) {
		fprintf(stderr, "arraysimd: bad log level '%s'\n", d.cfg.log_level);
		return 2;
	}
	log_setup(d.cfg.syslog, log_level_parse(d.cfg.log_level));

	if (init_data_dir(&d))
		return 1;
	if (!foreground) {
		/* Detach after the checks above so errors still reach the user. */
		if (daemon(1, d.cfg.syslog ? 0 : 1)) {
			log_msg(LOG_LVL_ERR, "cannot detach: %s", strerror(errno));
			return 1;
		}
	}
	/* Signals go to sigwait below, never to the worker threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = start(&d);
	if (r) {
		stop(&d);
		return 1;
	}
	log_msg(LOG_LVL_INFO, "ready: data dir %s, control %s, iSCSI %s", d.cfg.data_dir,
		d.cfg.control_listen, d.cfg.iscsi_listen);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGHUP) {
			reload(&d);
			continue;
		}
		log_msg(LOG_LVL_INFO, "signal %d: shutting down", sig);
		break;
	}
	stop(&d);
	return 0;
}

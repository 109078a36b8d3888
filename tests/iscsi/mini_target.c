/*
 * mini_target: the iSCSI target, the SCSI core and an array in one
 * process, for trying real initiators (iscsi-inq, iscsi-test-cu, qemu-img)
 * against the fabric without the daemon.
 *
 *   mini_target [--dir D] [--port P] [--port2 P2] [--size BYTES] [--luns N]
 *               [--chap USER:SECRET] [--mchap USER:SECRET] [--require-chap]
 *               [--threads N] [--mem] [--iqn TARGET] [--initiator IQN ...]
 *
 * It creates a pool (in D, or in memory with --mem), LUNs lun0.., a host
 * "test" holding libiscsi's two default initiator names (plus any
 * --initiator), maps the LUNs, and serves 127.0.0.1:P (and :P2, same
 * portal group) until SIGINT/SIGTERM.  "ready <port> <port2>" goes to
 * stdout once it listens.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../array-sim/iscsi/iscsi.h"
#include "../../array-sim/scsi/scsi.h"
#include "array.h"
#include "bdev.h"
#include "pool.h"

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

struct hookctx {
	struct scsi_ctx *scsi;
	struct iscsi_target *tgt;
};

static void hook(void *ctx, enum array_event ev, uint64_t host_id, uint64_t lun_id, uint32_t lun)
{
	struct hookctx *h = ctx;

	if (h->scsi && scsi_notify(h->scsi, ev, host_id, lun_id, lun) > 0 && h->tgt)
		iscsi_target_kick(h->tgt);
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp", *iqn = "iqn.2026-11.org.arraysim:target";
	const char *chap = NULL, *mchap = NULL, *inits[8];
	unsigned ninit = 0, nluns = 1, threads = 0, port = 3260, port2 = 0;
	uint64_t size = 1ull << 30;
	int mem = 0, require = 0, r;
	char path[512], cu[256] = "", cs[256] = "", mu[256] = "", ms[256] = "";
	struct bdev *bd;
	struct pool *p;
	struct array *a;
	struct hookctx hc = {0};
	struct iscsi_target_cfg cfg = {0};
	struct pool_open_opts po = {.commit_interval_ms = 1000};

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(argv[i], "--dir"))
			dir = v, i++;
		else if (!strcmp(argv[i], "--port"))
			port = (unsigned)atoi(v), i++;
		else if (!strcmp(argv[i], "--port2"))
			port2 = (unsigned)atoi(v), i++;
		else if (!strcmp(argv[i], "--size"))
			size = strtoull(v, NULL, 0), i++;
		else if (!strcmp(argv[i], "--luns"))
			nluns = (unsigned)atoi(v), i++;
		else if (!strcmp(argv[i], "--threads"))
			threads = (unsigned)atoi(v), i++;
		else if (!strcmp(argv[i], "--chap"))
			chap = v, i++;
		else if (!strcmp(argv[i], "--mchap"))
			mchap = v, i++;
		else if (!strcmp(argv[i], "--iqn"))
			iqn = v, i++;
		else if (!strcmp(argv[i], "--initiator") && ninit < 8)
			inits[ninit++] = v, i++;
		else if (!strcmp(argv[i], "--require-chap"))
			require = 1;
		else if (!strcmp(argv[i], "--mem"))
			mem = 1;
		else {
			fprintf(stderr, "mini_target: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (mem) {
		r = bdev_mem_create(size * nluns + (256ull << 20), &bd);
	} else {
		snprintf(path, sizeof(path), "%s/mini_target.pool", dir);
		unlink(path);
		r = bdev_file_open(path, size * nluns + (256ull << 20), 1, &bd);
	}
	if (r || (r = pool_create(bd, NULL)) || (r = pool_open(bd, &po, &p)) ||
	    (r = array_open(p, &a))) {
		fprintf(stderr, "mini_target: pool/array: %s\n", strerror(-r));
		return 1;
	}
	array_host_create(a, "test", "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test");
	array_host_add_iqn(a, "test", "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2");
	for (unsigned i = 0; i < ninit; i++)
		array_host_add_iqn(a, "test", inits[i]);
	if (chap) {
		sscanf(chap, "%255[^:]:%255s", cu, cs);
		if (mchap)
			sscanf(mchap, "%255[^:]:%255s", mu, ms);
		r = array_host_set_chap(a, "test", cu, cs, mu, ms);
		if (r)
			fprintf(stderr, "mini_target: chap: %s\n", strerror(-r));
	}
	for (unsigned i = 0; i < nluns; i++) {
		char name[32];

		snprintf(name, sizeof(name), "lun%u", i);
		r = array_lun_create(a, name, size, 512, NULL);
		if (!r)
			r = array_map(a, name, "test", (int)i, NULL);
		if (r)
			fprintf(stderr, "mini_target: lun %s: %s\n", name, strerror(-r));
	}
	r = scsi_create(a, &hc.scsi);
	if (r) {
		fprintf(stderr, "mini_target: scsi_create: %s\n", strerror(-r));
		return 1;
	}
	array_set_hook(a, hook, &hc);
	cfg.target_iqn = iqn;
	cfg.portals[0].addr = "127.0.0.1";
	cfg.portals[0].port = (uint16_t)port;
	cfg.nr_portals = 1;
	if (port2) {
		cfg.portals[1].addr = "127.0.0.1";
		cfg.portals[1].port = (uint16_t)port2;
		cfg.nr_portals = 2;
	}
	cfg.scsi = hc.scsi;
	cfg.array = a;
	cfg.threads = threads;
	cfg.require_chap = require;
	r = iscsi_target_start(&cfg, &hc.tgt);
	if (r) {
		fprintf(stderr, "mini_target: start: %s\n", strerror(-r));
		return 1;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	signal(SIGPIPE, SIG_IGN);
	printf("ready %u %u\n", iscsi_target_port(hc.tgt, 0),
	       port2 ? iscsi_target_port(hc.tgt, 1) : 0);
	fflush(stdout);
	while (!stop)
		pause();
	iscsi_target_stop(hc.tgt);
	array_set_hook(a, NULL, NULL);
	scsi_destroy(hc.scsi);
	array_close(a);
	pool_close(p);
	bdev_destroy(bd);
	if (!mem)
		unlink(path);
	return 0;
}

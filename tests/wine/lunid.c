/*
 * lunid: the Linux host's side of the Wine VSS harness, over libiscsi.
 *
 *   lunid ident  PORTAL TARGET IQN LUN[:LABEL]...
 *       per LUN: "LUN n [LABEL l] INQ <hex> VPD80 <hex> VPD83 <hex>", the
 *       raw standard INQUIRY and VPD pages the Windows storage stack
 *       would build VDS_LUN_INFORMATION from
 *   lunid watch  PORTAL TARGET IQN LUN
 *       an already-open session of IQN: prints "LUNS ..." and "READY",
 *       waits for a line on stdin, then (same session, no new login)
 *       "UA asc/ascq" of the next command, "LUNS ..." and an ident line
 *       for each LUN that was not there before, then "DONE"
 *   lunid fill   PORTAL TARGET IQN LUN SEED     write the whole LUN
 *   lunid sum    PORTAL TARGET IQN LUN...       "SUM n <fnv64>" of each LUN
 *   lunid writer PORTAL TARGET IQN DIR LUN...
 *       random 4 KiB writes until DIR/stop exists; while DIR/pause
 *       exists it stops between writes and says so with DIR/paused
 *       (the flush-and-hold of a VSS commit, as the runner plays it)
 *
 * PORTAL is 127.0.0.1:PORT.  Exit 0 on success.
 */
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	 512
#define IO_BYTES (64 * 1024)

static struct iscsi_context *login(const char *portal, const char *target, const char *iqn, int lun)
{
	struct iscsi_context *c = iscsi_create_context(iqn);

	if (!c)
		return NULL;
	/* a distinct ISID per process: two sessions of one initiator name
	 * must not reinstate (and so kill) each other */
	iscsi_set_isid_random(c, (uint32_t)getpid() ^ (uint32_t)time(NULL), 0);
	iscsi_set_targetname(c, target);
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	if (iscsi_full_connect_sync(c, portal, lun)) {
		fprintf(stderr, "lunid: login to %s %s as %s failed: %s\n", portal, target, iqn,
			iscsi_get_error(c));
		iscsi_destroy_context(c);
		return NULL;
	}
	return c;
}

static void logout(struct iscsi_context *c)
{
	iscsi_logout_sync(c);
	iscsi_destroy_context(c);
}

/* a command, retried once past a unit attention (new nexus, LUN change) */
static struct scsi_task *inq(struct iscsi_context *c, int lun, int evpd, int page)
{
	for (int i = 0; i < 3; i++) {
		struct scsi_task *t = iscsi_inquiry_sync(c, lun, evpd, page, 1024);

		if (t && t->status == SCSI_STATUS_GOOD)
			return t;
		if (!t || t->status != SCSI_STATUS_CHECK_CONDITION ||
		    t->sense.key != SCSI_SENSE_UNIT_ATTENTION) {
			if (t)
				scsi_free_scsi_task(t);
			return NULL;
		}
		scsi_free_scsi_task(t);
	}
	return NULL;
}

static void put_hex(const char *kw, const unsigned char *p, int n)
{
	printf(" %s ", kw);
	for (int i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int ident_one(struct iscsi_context *c, int lun, const char *label)
{
	struct scsi_task *t[3] = {inq(c, lun, 0, 0), inq(c, lun, 1, 0x80), inq(c, lun, 1, 0x83)};
	int rc = 0;

	if (!t[0] || !t[1] || !t[2]) {
		fprintf(stderr, "lunid: INQUIRY of LUN %d failed: %s\n", lun, iscsi_get_error(c));
		rc = 1;
	} else {
		printf("LUN %d", lun);
		if (label)
			printf(" LABEL %s", label);
		put_hex("INQ", t[0]->datain.data, t[0]->datain.size);
		put_hex("VPD80", t[1]->datain.data, t[1]->datain.size);
		put_hex("VPD83", t[2]->datain.data, t[2]->datain.size);
		printf("\n");
	}
	for (int i = 0; i < 3; i++)
		if (t[i])
			scsi_free_scsi_task(t[i]);
	return rc;
}

static int cmd_ident(const char *portal, const char *target, const char *iqn, int n, char **luns)
{
	struct iscsi_context *c = login(portal, target, iqn, atoi(luns[0]));
	int rc = 0;

	if (!c)
		return 1;
	for (int i = 0; i < n; i++) {
		char *label = strchr(luns[i], ':');

		rc |= ident_one(c, atoi(luns[i]), label ? label + 1 : NULL);
	}
	logout(c);
	return rc;
}

/* REPORT LUNS into lun[]; past one unit attention */
static int report_luns(struct iscsi_context *c, uint32_t *lun, int max)
{
	for (int i = 0; i < 3; i++) {
		struct scsi_task *t = iscsi_reportluns_sync(c, 0, 16384);
		struct scsi_reportluns_list *l;
		int n;

		if (t && t->status == SCSI_STATUS_CHECK_CONDITION) {
			scsi_free_scsi_task(t);
			continue;
		}
		if (!t || t->status != SCSI_STATUS_GOOD || !(l = scsi_datain_unmarshall(t))) {
			if (t)
				scsi_free_scsi_task(t);
			return -1;
		}
		n = (int)l->num < max ? (int)l->num : max;
		printf("LUNS %u", l->num);
		for (int k = 0; k < n; k++) {
			lun[k] = l->luns[k];
			printf(" %u", lun[k]);
		}
		printf("\n");
		scsi_free_scsi_task(t);
		return n;
	}
	return -1;
}

static int cmd_watch(const char *portal, const char *target, const char *iqn, int lun)
{
	struct iscsi_context *c = login(portal, target, iqn, lun);
	uint32_t before[512], after[512];
	struct scsi_task *t;
	char line[64];
	int nb, na, rc = 0;

	if (!c)
		return 1;
	/* the first command of a new nexus sees POWER ON (29/00): consume it */
	t = iscsi_testunitready_sync(c, lun);
	if (t)
		scsi_free_scsi_task(t);
	nb = report_luns(c, before, 512);
	if (nb < 0)
		return 1;
	printf("READY\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	/* same session: the new LUNs must announce themselves with 3F/0E */
	t = iscsi_testunitready_sync(c, lun);
	if (!t)
		return 1;
	if (t->status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_UNIT_ATTENTION)
		printf("UA %02x/%02x\n", t->sense.ascq >> 8, t->sense.ascq & 0xff);
	else
		printf("NO-UA status %d\n", t->status);
	scsi_free_scsi_task(t);
	na = report_luns(c, after, 512);
	for (int i = 0; i < na; i++) {
		int old = 0;

		for (int k = 0; k < nb; k++)
			old |= before[k] == after[i];
		if (!old)
			rc |= ident_one(c, (int)after[i], NULL);
	}
	printf("DONE\n");
	fflush(stdout);
	logout(c);
	return rc || na < 0;
}

static uint64_t capacity(struct iscsi_context *c, int lun)
{
	for (int i = 0; i < 3; i++) {
		struct scsi_task *t = iscsi_readcapacity16_sync(c, lun);
		struct scsi_readcapacity16 *r;
		uint64_t bytes = 0;

		if (t && t->status == SCSI_STATUS_GOOD && (r = scsi_datain_unmarshall(t)))
			bytes = (r->returned_lba + 1) * r->block_length;
		if (t)
			scsi_free_scsi_task(t);
		if (bytes)
			return bytes;
	}
	return 0;
}

/* deterministic bytes for (seed, offset) */
static void pattern(unsigned char *b, size_t n, uint64_t seed, uint64_t off)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ off;

	for (size_t i = 0; i < n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(b + i, &x, 8);
	}
}

static int write_at(struct iscsi_context *c, int lun, uint64_t off, unsigned char *b, size_t n)
{
	for (int i = 0; i < 3; i++) {
		struct scsi_task *t =
		    iscsi_write16_sync(c, lun, off / BLOCK, b, (uint32_t)n, BLOCK, 0, 0, 0, 0, 0);
		int ok = t && t->status == SCSI_STATUS_GOOD;
		int ua = t && t->status == SCSI_STATUS_CHECK_CONDITION &&
			 t->sense.key == SCSI_SENSE_UNIT_ATTENTION;

		if (t)
			scsi_free_scsi_task(t);
		if (ok)
			return 0;
		if (!ua)
			break;
	}
	fprintf(stderr, "lunid: WRITE failed: %s\n", iscsi_get_error(c));
	return -1;
}

static int cmd_fill(const char *portal, const char *target, const char *iqn, int lun, uint64_t seed)
{
	struct iscsi_context *c = login(portal, target, iqn, lun);
	unsigned char b[IO_BYTES];
	uint64_t size;
	int rc = 0;

	if (!c)
		return 1;
	size = capacity(c, lun);
	for (uint64_t off = 0; off < size && !rc; off += IO_BYTES) {
		size_t n = size - off < IO_BYTES ? (size_t)(size - off) : IO_BYTES;

		pattern(b, n, seed, off);
		rc = write_at(c, lun, off, b, n);
	}
	logout(c);
	return rc || !size;
}

static int cmd_sum(const char *portal, const char *target, const char *iqn, int n, char **luns)
{
	struct iscsi_context *c = login(portal, target, iqn, atoi(luns[0]));
	int rc = 0;

	if (!c)
		return 1;
	for (int i = 0; i < n; i++) {
		int lun = atoi(luns[i]);
		uint64_t size = capacity(c, lun), h = 0xcbf29ce484222325ull;

		for (uint64_t off = 0; off < size; off += IO_BYTES) {
			uint32_t len = size - off < IO_BYTES ? (uint32_t)(size - off) : IO_BYTES;
			struct scsi_task *t =
			    iscsi_read16_sync(c, lun, off / BLOCK, len, BLOCK, 0, 0, 0, 0, 0);

			if (t && t->status == SCSI_STATUS_CHECK_CONDITION) {
				scsi_free_scsi_task(t); /* a unit attention: once more */
				t = iscsi_read16_sync(c, lun, off / BLOCK, len, BLOCK, 0, 0, 0, 0,
						      0);
			}
			if (!t || t->status != SCSI_STATUS_GOOD || t->datain.size != (int)len) {
				fprintf(stderr, "lunid: READ of LUN %d failed: %s\n", lun,
					iscsi_get_error(c));
				if (t)
					scsi_free_scsi_task(t);
				rc = 1;
				break;
			}
			for (uint32_t k = 0; k < len; k++)
				h = (h ^ t->datain.data[k]) * 0x100000001b3ull;
			scsi_free_scsi_task(t);
		}
		printf("SUM %d %016llx\n", lun, (unsigned long long)h);
		rc |= !size;
	}
	logout(c);
	return rc;
}

static int exists(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

static void touch(const char *dir, const char *name, int create)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (!create) {
		unlink(p);
		return;
	}
	f = fopen(p, "w");
	if (f)
		fclose(f);
}

static int cmd_writer(const char *portal, const char *target, const char *iqn, const char *dir,
		      int n, char **luns)
{
	struct iscsi_context *c = login(portal, target, iqn, atoi(luns[0]));
	unsigned char b[4096];
	uint64_t size[64], writes = 0;
	unsigned seed = (unsigned)getpid();
	int rc = 0;

	if (!c || n > 64)
		return 1;
	for (int i = 0; i < n; i++)
		size[i] = capacity(c, atoi(luns[i]));
	touch(dir, "started", 1);
	while (!exists(dir, "stop") && !rc) {
		int i = (int)(rand_r(&seed) % (unsigned)n);
		uint64_t off = ((uint64_t)rand_r(&seed) % (size[i] / sizeof(b))) * sizeof(b);

		if (exists(dir, "pause")) {
			/* hold: no write is in flight while the runner's flag is up */
			touch(dir, "paused", 1);
			while (exists(dir, "pause") && !exists(dir, "stop"))
				usleep(1000);
			touch(dir, "paused", 0);
			continue;
		}
		pattern(b, sizeof(b), writes + 1000, off);
		rc = write_at(c, atoi(luns[i]), off, b, sizeof(b));
		writes++;
	}
	printf("WRITES %llu\n", (unsigned long long)writes);
	logout(c);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: lunid ident|watch|fill|sum|writer PORTAL TARGET IQN ...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "ident"))
		return cmd_ident(argv[2], argv[3], argv[4], argc - 5, argv + 5);
	if (!strcmp(argv[1], "watch"))
		return cmd_watch(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (!strcmp(argv[1], "fill") && argc == 7)
		return cmd_fill(argv[2], argv[3], argv[4], atoi(argv[5]),
				strtoull(argv[6], NULL, 0));
	if (!strcmp(argv[1], "sum"))
		return cmd_sum(argv[2], argv[3], argv[4], argc - 5, argv + 5);
	if (!strcmp(argv[1], "writer") && argc >= 7)
		return cmd_writer(argv[2], argv[3], argv[4], argv[5], argc - 6, argv + 6);
	fprintf(stderr, "lunid: bad command\n");
	return 2;
}

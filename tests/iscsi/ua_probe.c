/*
 * ua_probe: a live iSCSI session that watches its LUN list change.
 *
 *   ua_probe URL INITIATOR_IQN
 *
 * Logs in (libiscsi, synchronous API) to the LUN in URL, prints
 * "LUNS n a b c" from REPORT LUNS and "READY", then waits for a line on
 * stdin (the test maps or unmaps a LUN meanwhile).  It then sends TEST UNIT
 * READY on the same session and prints "UA asc/ascq" if it got CHECK
 * CONDITION with UNIT ATTENTION (or "NO-UA"), and finally REPORT LUNS
 * again as "LUNS ...".  Exit 0 unless the session broke.  The session is
 * never logged out in between: the unit attention must reach a session
 * that already existed.
 */
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int report_luns(struct iscsi_context *iscsi)
{
	struct scsi_task *t = iscsi_reportluns_sync(iscsi, 0, 16384);
	struct scsi_reportluns_list *l;

	if (!t || t->status != SCSI_STATUS_GOOD) {
		/* A UA may come first: REPORT LUNS reports it like any command. */
		if (t && t->status == SCSI_STATUS_CHECK_CONDITION) {
			printf("REPORTLUNS-CC %02x/%02x\n", t->sense.ascq >> 8,
			       t->sense.ascq & 0xff);
			scsi_free_scsi_task(t);
			t = iscsi_reportluns_sync(iscsi, 0, 16384);
		}
		if (!t || t->status != SCSI_STATUS_GOOD) {
			fprintf(stderr, "ua_probe: REPORT LUNS failed: %s\n",
				iscsi_get_error(iscsi));
			return -1;
		}
	}
	l = scsi_datain_unmarshall(t);
	if (!l) {
		scsi_free_scsi_task(t);
		return -1;
	}
	printf("LUNS %u", l->num);
	for (uint32_t i = 0; i < l->num; i++)
		printf(" %u", l->luns[i]);
	printf("\n");
	scsi_free_scsi_task(t);
	return 0;
}

int main(int argc, char **argv)
{
	struct iscsi_context *iscsi;
	struct iscsi_url *url;
	struct scsi_task *t;
	char line[64];

	if (argc != 3) {
		fprintf(stderr, "usage: ua_probe URL INITIATOR_IQN\n");
		return 2;
	}
	iscsi = iscsi_create_context(argv[2]);
	url = iscsi ? iscsi_parse_full_url(iscsi, argv[1]) : NULL;
	if (!url) {
		fprintf(stderr, "ua_probe: bad URL: %s\n", iscsi ? iscsi_get_error(iscsi) : "");
		return 2;
	}
	iscsi_set_targetname(iscsi, url->target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	if (iscsi_full_connect_sync(iscsi, url->portal, url->lun)) {
		fprintf(stderr, "ua_probe: login failed: %s\n", iscsi_get_error(iscsi));
		return 1;
	}
	/* The first command of a new nexus sees POWER ON (29/00): consume it. */
	t = iscsi_testunitready_sync(iscsi, url->lun);
	if (t)
		scsi_free_scsi_task(t);
	if (report_luns(iscsi))
		return 1;
	printf("READY\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	t = iscsi_testunitready_sync(iscsi, url->lun);
	if (!t) {
		fprintf(stderr, "ua_probe: TUR failed: %s\n", iscsi_get_error(iscsi));
		return 1;
	}
	if (t->status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_UNIT_ATTENTION)
		printf("UA %02x/%02x\n", t->sense.ascq >> 8, t->sense.ascq & 0xff);
	else
		printf("NO-UA status %d\n", t->status);
	scsi_free_scsi_task(t);
	if (report_luns(iscsi))
		return 1;
	iscsi_logout_sync(iscsi);
	iscsi_destroy_url(url);
	iscsi_destroy_context(iscsi);
	return 0;
}

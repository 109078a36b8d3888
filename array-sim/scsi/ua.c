/*
 * Unit attention conditions, kept per I_T nexus and per LUN number (an
 * I_T_L nexus, SAM-5 5.14).  A command to a LUN with a pending UA is
 * failed with it (oldest first) and the UA is cleared; INQUIRY, REPORT
 * LUNS and REQUEST SENSE neither fail nor clear (SAM-5 5.14, SPC-4 6.29),
 * except that REQUEST SENSE reports and clears one, and REPORT LUNS clears
 * REPORTED LUNS DATA HAS CHANGED (SPC-4 6.33).
 *
 * The queue is a small array: an initiator that never looks would
 * otherwise let it grow without bound, so duplicates merge and, when full,
 * the oldest entry makes room (the initiator re-reads state on any UA).
 */
#include <string.h>
#include <strings.h>

#include "scsi_int.h"

void ua_queue_locked(struct scsi_nexus *n, uint32_t lun, uint8_t asc, uint8_t ascq)
{
	for (unsigned i = 0; i < n->nr_ua; i++)
		if (n->ua[i].lun == lun && n->ua[i].asc == asc && n->ua[i].ascq == ascq)
			return;
	if (n->nr_ua == SCSI_UA_MAX) {
		memmove(n->ua, n->ua + 1, (SCSI_UA_MAX - 1) * sizeof(n->ua[0]));
		n->nr_ua--;
		atomic_fetch_sub(&n->ua_count, 1);
	}
	n->ua[n->nr_ua].lun = lun;
	n->ua[n->nr_ua].asc = asc;
	n->ua[n->nr_ua].ascq = ascq;
	n->nr_ua++;
	atomic_fetch_add(&n->ua_count, 1);
}

void ua_queue(struct scsi_nexus *n, uint32_t lun, uint8_t asc, uint8_t ascq)
{
	pthread_mutex_lock(&n->ua_lock);
	ua_queue_locked(n, lun, asc, ascq);
	pthread_mutex_unlock(&n->ua_lock);
}

int ua_take(struct scsi_nexus *n, uint32_t lun, uint8_t *asc, uint8_t *ascq)
{
	int found = 0;

	if (!atomic_load(&n->ua_count))
		return 0;
	pthread_mutex_lock(&n->ua_lock);
	for (unsigned i = 0; i < n->nr_ua; i++) {
		if (n->ua[i].lun != lun)
			continue;
		*asc = n->ua[i].asc;
		*ascq = n->ua[i].ascq;
		memmove(n->ua + i, n->ua + i + 1, (n->nr_ua - i - 1) * sizeof(n->ua[0]));
		n->nr_ua--;
		atomic_fetch_sub(&n->ua_count, 1);
		found = 1;
		break;
	}
	pthread_mutex_unlock(&n->ua_lock);
	return found;
}

void ua_clear(struct scsi_nexus *n, uint8_t asc, uint8_t ascq)
{
	pthread_mutex_lock(&n->ua_lock);
	for (unsigned i = 0; i < n->nr_ua;) {
		if (n->ua[i].asc == asc && n->ua[i].ascq == ascq) {
			memmove(n->ua + i, n->ua + i + 1, (n->nr_ua - i - 1) * sizeof(n->ua[0]));
			n->nr_ua--;
			atomic_fetch_sub(&n->ua_count, 1);
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&n->ua_lock);
}

unsigned nexus_luns_of(struct scsi_nexus *n, uint64_t vol, uint32_t *out, unsigned max)
{
	unsigned k = 0;

	pthread_rwlock_rdlock(&n->tlock);
	for (size_t i = 0; i < n->nr_luns && k < max; i++)
		if (n->luns[i].vol == vol)
			out[k++] = n->luns[i].number;
	pthread_rwlock_unlock(&n->tlock);
	return k;
}

static void ua_nexus_dev(struct scsi_nexus *n, struct scsi_dev *dev, uint8_t asc, uint8_t ascq)
{
	uint32_t nums[16];
	unsigned k = nexus_luns_of(n, dev->vol, nums, 16);

	for (unsigned i = 0; i < k; i++)
		ua_queue(n, nums[i], asc, ascq);
}

void ua_dev(struct scsi_ctx *s, struct scsi_dev *dev, struct scsi_nexus *skip, uint8_t asc,
	    uint8_t ascq)
{
	pthread_mutex_lock(&s->lock);
	for (struct scsi_nexus *n = s->nexuses; n; n = n->next)
		if (n != skip)
			ua_nexus_dev(n, dev, asc, ascq);
	pthread_mutex_unlock(&s->lock);
}

void ua_port(struct scsi_ctx *s, struct scsi_dev *dev, const char *i_port, const char *t_port,
	     uint8_t asc, uint8_t ascq)
{
	pthread_mutex_lock(&s->lock);
	for (struct scsi_nexus *n = s->nexuses; n; n = n->next)
		if (!strcasecmp(n->i_port, i_port) && (!t_port || !strcasecmp(n->t_port, t_port)))
			ua_nexus_dev(n, dev, asc, ascq);
	pthread_mutex_unlock(&s->lock);
}

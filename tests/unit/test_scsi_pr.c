/*
 * Unit tests of reservations in the SCSI core: SPC-2 RESERVE/RELEASE and
 * persistent reservations (every PR OUT service action and type, the
 * conflict table, unit attentions, APTPL across a restart), with two I_T
 * nexuses on one LUN.  The fixture is test_scsi.c's.
 */
#define SCSI_TEST_FIXTURE_ONLY
#include "test_scsi.c"

#define KA 0xaaaa000000000001ull
#define KB 0xbbbb000000000002ull

enum { WE = 1, EA = 3, WE_RO = 5, EA_RO = 6, WE_AR = 7, EA_AR = 8 };

static uint8_t prout(struct scsi_nexus *n, unsigned sa, unsigned type, uint64_t key, uint64_t sakey,
		     uint8_t flags, struct scsi_cmd *c)
{
	uint8_t cdb[10] = {0x5f, (uint8_t)sa, (uint8_t)type, 0, 0, 0, 0, 0, 24, 0};
	uint8_t p[24] = {0};

	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(key >> (56 - 8 * i));
		p[8 + i] = (uint8_t)(sakey >> (56 - 8 * i));
	}
	p[20] = flags;
	st_exec(n, c, 0, cdb, 10, p, sizeof(p), NULL, 0);
	return c->status;
}

static uint8_t prin(struct scsi_nexus *n, unsigned sa, uint8_t *b, uint16_t alloc,
		    struct scsi_cmd *c)
{
	uint8_t cdb[10] = {0x5e, (uint8_t)sa, 0, 0, 0, 0, 0, (uint8_t)(alloc >> 8), (uint8_t)alloc,
			   0};

	st_exec(n, c, 0, cdb, 10, NULL, 0, b, alloc);
	return c->status;
}

static uint8_t wr(struct scsi_nexus *n, struct scsi_cmd *c)
{
	static uint8_t blk[512];

	st_exec(n, c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, blk, 512, NULL, 0);
	return c->status;
}

static uint8_t rd(struct scsi_nexus *n, struct scsi_cmd *c)
{
	static uint8_t blk[512];

	st_exec(n, c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, NULL, 0, blk, 512);
	return c->status;
}

#define CONFLICT SAM_STAT_RESERVATION_CONFLICT
#define GOOD	 SAM_STAT_GOOD

static void pr_setup2(struct sfx *f)
{
	struct scsi_cmd c;

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	assert_int_equal(prout(f->n1, 0, 0, 0, KA, 0, &c), GOOD);
	assert_int_equal(prout(f->n2, 0, 0, 0, KB, 0, &c), GOOD);
}

static void test_pr_register_reserve_release(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[256];

	pr_setup2(f);
	assert_int_equal(prin(f->n1, 0, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b), 2); /* PRgeneration */
	assert_int_equal(st_be32(b + 4), 16);
	assert_true(st_be64(b + 8) == KA || st_be64(b + 16) == KA);
	/* READ KEYS truncated to 12 bytes still says 16 */
	assert_int_equal(prin(f->n1, 0, b, 12, &c), GOOD);
	assert_int_equal(c.data_in_len, 12);
	assert_int_equal(st_be32(b + 4), 16);

	/* REGISTER with the wrong key: conflict; with the right key: new key */
	assert_int_equal(prout(f->n1, 0, 0, KB, 5, 0, &c), CONFLICT);
	assert_int_equal(c.sense_len, 0);
	assert_int_equal(prout(f->n1, 0, 0, KA, KA + 1, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 6, 0, 12345, KA, 0, &c), GOOD); /* IGNORE EXISTING */
	assert_int_equal(prin(f->n1, 0, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b), 4);

	/* Write Exclusive held by n1 */
	assert_int_equal(prout(f->n1, 1, WE, KA, 0, 0, &c), GOOD);
	assert_int_equal(prin(f->n2, 1, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b + 4), 16);
	assert_true(st_be64(b + 8) == KA);
	assert_int_equal(b[21], WE);
	assert_int_equal(wr(f->n2, &c), CONFLICT);
	assert_int_equal(rd(f->n2, &c), GOOD);
	assert_int_equal(wr(f->n1, &c), GOOD);
	st_tur(f->n2, &c, 0);
	assert_int_equal(c.status, GOOD);
	/* the holder repeating is fine, another type is not */
	assert_int_equal(prout(f->n1, 1, WE, KA, 0, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 1, EA, KA, 0, 0, &c), CONFLICT);
	assert_int_equal(prout(f->n2, 1, WE, KB, 0, 0, &c), CONFLICT);
	/* RELEASE with the wrong type: INVALID RELEASE OF PERSISTENT RESERVATION */
	assert_int_equal(prout(f->n1, 2, EA, KA, 0, 0, &c), SAM_STAT_CHECK_CONDITION);
	st_expect_sense(&c, 0x05, 0x26, 0x04);
	/* a non-holder's RELEASE does nothing */
	assert_int_equal(prout(f->n2, 2, WE, KB, 0, 0, &c), GOOD);
	assert_int_equal(wr(f->n2, &c), CONFLICT);
	assert_int_equal(prout(f->n1, 2, WE, KA, 0, 0, &c), GOOD);
	assert_int_equal(wr(f->n2, &c), GOOD);

	/* Exclusive Access: reads conflict too, TUR/INQUIRY/READ CAPACITY not */
	assert_int_equal(prout(f->n1, 1, EA, KA, 0, 0, &c), GOOD);
	assert_int_equal(rd(f->n2, &c), CONFLICT);
	st_exec(f->n2, &c, 0, (uint8_t[10]){0x25}, 10, NULL, 0, b, 8);
	assert_int_equal(c.status, GOOD);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x12, 0, 0, 0, 36, 0}, 6, NULL, 0, b, 36);
	assert_int_equal(c.status, GOOD);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x1a, 0, 0x3f, 0, 255, 0}, 6, NULL, 0, b, 255);
	assert_int_equal(c.status, CONFLICT);
	/* the reservation goes with the holder's unregistration */
	assert_int_equal(prout(f->n1, 0, 0, KA, 0, 0, &c), GOOD);
	assert_int_equal(rd(f->n2, &c), GOOD);
	assert_int_equal(prin(f->n1, 1, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b + 4), 0);

	/* parameter list errors */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x5f, 0, 0, 0, 0, 0, 0, 0, 20, 0}, 10, b, 20, NULL, 0);
	st_expect_sense(&c, 0x05, 0x1a, 0x00);
	assert_int_equal(prout(f->n1, 0, 0, 0, KA, 0x08, &c), SAM_STAT_CHECK_CONDITION);
	st_expect_sense(&c, 0x05, 0x26, 0x00);
	assert_int_equal(prout(f->n2, 1, 2, KB, 0, 0, &c), SAM_STAT_CHECK_CONDITION);
	st_expect_sense(&c, 0x05, 0x24, 0x00); /* type 2 is obsolete */
	assert_int_equal(prin(f->n1, 9, b, sizeof(b), &c), SAM_STAT_CHECK_CONDITION);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
}

static void test_pr_registrants_types(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[256];

	pr_setup2(f);
	/* WE_RO: registrants write, a non-registrant does not */
	assert_int_equal(prout(f->n1, 1, WE_RO, KA, 0, 0, &c), GOOD);
	assert_int_equal(wr(f->n2, &c), GOOD);
	assert_int_equal(prout(f->n2, 0, 0, KB, 0, 0, &c), GOOD); /* unregister */
	assert_int_equal(wr(f->n2, &c), CONFLICT);
	assert_int_equal(rd(f->n2, &c), GOOD);
	/* releasing an RO reservation: RESERVATIONS RELEASED to registrants */
	assert_int_equal(prout(f->n2, 0, 0, 0, KB, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 2, WE_RO, KA, 0, 0, &c), GOOD);
	st_tur(f->n2, &c, 0);
	st_expect_sense(&c, 0x06, 0x2a, 0x04);

	/* EA_RO: a non-registrant cannot even read */
	assert_int_equal(prout(f->n1, 1, EA_RO, KA, 0, 0, &c), GOOD);
	assert_int_equal(rd(f->n2, &c), GOOD);
	assert_int_equal(prout(f->n2, 0, 0, KB, 0, 0, &c), GOOD);
	assert_int_equal(rd(f->n2, &c), CONFLICT);
	assert_int_equal(prout(f->n1, 2, EA_RO, KA, 0, 0, &c), GOOD);

	/* EA_AR: every registrant holds it; READ RESERVATION reports key 0 */
	assert_int_equal(prout(f->n2, 0, 0, 0, KB, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 1, EA_AR, KA, 0, 0, &c), GOOD);
	assert_int_equal(prin(f->n2, 1, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b + 4), 16);
	assert_true(st_be64(b + 8) == 0);
	assert_int_equal(b[21], EA_AR);
	assert_int_equal(wr(f->n2, &c), GOOD);
	/* n2 may release an all-registrants reservation */
	assert_int_equal(prout(f->n2, 2, EA_AR, KB, 0, 0, &c), GOOD);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x2a, 0x04);
	/* WE_AR survives the unregistration of one registrant */
	assert_int_equal(prout(f->n1, 1, WE_AR, KA, 0, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 0, 0, KA, 0, 0, &c), GOOD);
	assert_int_equal(prin(f->n2, 1, b, sizeof(b), &c), GOOD);
	assert_int_equal(b[21], WE_AR);
	assert_int_equal(wr(f->n1, &c), CONFLICT);
	assert_int_equal(wr(f->n2, &c), GOOD);
	/* ... and ends with the last one */
	assert_int_equal(prout(f->n2, 0, 0, KB, 0, 0, &c), GOOD);
	assert_int_equal(prin(f->n2, 1, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b + 4), 0);
	assert_int_equal(wr(f->n1, &c), GOOD);
}

static void test_pr_preempt_clear(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[256];
	uint32_t gen;

	pr_setup2(f);
	assert_int_equal(prout(f->n1, 1, WE, KA, 0, 0, &c), GOOD);
	assert_int_equal(prin(f->n1, 0, b, sizeof(b), &c), GOOD);
	gen = st_be32(b);
	/* n2 preempts the holder: takes the reservation, n1 is unregistered */
	assert_int_equal(prout(f->n2, 4, EA, KB, KA, 0, &c), GOOD);
	assert_int_equal(prin(f->n2, 0, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b), gen + 1);
	assert_int_equal(st_be32(b + 4), 8);
	assert_true(st_be64(b + 8) == KB);
	assert_int_equal(prin(f->n2, 1, b, sizeof(b), &c), GOOD);
	assert_true(st_be64(b + 8) == KB);
	assert_int_equal(b[21], EA);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x2a, 0x05); /* REGISTRATIONS PREEMPTED */
	assert_int_equal(rd(f->n1, &c), CONFLICT);
	/* preempting an unknown key: conflict; key 0 without reservation
	 * holder match: invalid field */
	assert_int_equal(prout(f->n2, 4, EA, KB, 777, 0, &c), CONFLICT);
	assert_int_equal(prout(f->n2, 5, EA, KB, 0, 0, &c), SAM_STAT_CHECK_CONDITION);
	st_expect_sense(&c, 0x05, 0x26, 0x00);

	/* PREEMPT without a reservation removes registrations only */
	assert_int_equal(prout(f->n1, 0, 0, 0, KA, 0, &c), GOOD);
	assert_int_equal(prout(f->n2, 2, EA, KB, 0, 0, &c), GOOD);
	assert_int_equal(prout(f->n2, 5, 0, KB, KA, 0, &c), GOOD); /* PREEMPT AND ABORT */
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x2a, 0x05);

	/* CLEAR: everything goes, the others hear RESERVATIONS PREEMPTED */
	assert_int_equal(prout(f->n1, 0, 0, 0, KA, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 1, WE, KA, 0, 0, &c), GOOD);
	assert_int_equal(prout(f->n2, 3, 0, KA, 0, 0, &c), CONFLICT);
	assert_int_equal(prout(f->n2, 3, 0, KB, 0, 0, &c), GOOD);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x2a, 0x03);
	assert_int_equal(prin(f->n2, 0, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b + 4), 0);
	assert_int_equal(wr(f->n1, &c), GOOD);
}

static void test_pr_capabilities_full_status_move(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[512], p[24 + 52];
	uint32_t tl = 4 + (((uint32_t)strlen(PORT1) + 1 + 3) & ~3u);
	size_t nlen = strlen(PORT2);

	pr_setup2(f);
	assert_int_equal(prin(f->n1, 2, b, sizeof(b), &c), GOOD);
	assert_int_equal(c.data_in_len, 8);
	assert_int_equal(b[0] << 8 | b[1], 8);
	assert_int_equal(b[2], 0x15); /* CRH ATP_C PTPL_C */
	assert_int_equal(b[3] & 0x80, 0x80);
	assert_int_equal(b[4], 0xea);
	assert_int_equal(b[5], 0x01);

	assert_int_equal(prout(f->n1, 1, WE, KA, 0, 0, &c), GOOD);
	assert_int_equal(prin(f->n1, 3, b, sizeof(b), &c), GOOD);
	assert_int_equal(strlen(PORT1), 47);
	assert_int_equal(st_be32(b + 4), 2 * (24 + tl));
	for (int i = 0; i < 2; i++) {
		uint8_t *d = b + 8 + i * (24 + tl);
		int mine = st_be64(d) == KA;

		assert_int_equal(d[12], mine ? 0x01 : 0x00);
		assert_int_equal(d[13], mine ? WE : 0);
		assert_int_equal(d[19], 1);
		assert_int_equal(st_be32(d + 20), tl);
		assert_int_equal(d[24], 0x45);
		assert_string_equal((char *)d + 28, mine ? PORT1 : PORT2);
	}

	/* REGISTER AND MOVE the reservation to n2 with a new key */
	memset(p, 0, sizeof(p));
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(KA >> (56 - 8 * i));
		p[8 + i] = (uint8_t)(0x1234ull >> (56 - 8 * i));
	}
	p[17] = 0x02; /* UNREG */
	p[19] = 1;    /* relative target port */
	p[23] = 52;   /* TransportID length */
	p[24] = 0x45; /* iSCSI, format 01b */
	p[27] = 48;
	memcpy(p + 28, PORT2, nlen);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x5f, 7, WE, 0, 0, 0, 0, 0, sizeof(p), 0}, 10, p,
		sizeof(p), NULL, 0);
	assert_int_equal(c.status, GOOD);
	assert_int_equal(prin(f->n1, 1, b, sizeof(b), &c), GOOD);
	assert_true(st_be64(b + 8) == 0x1234);
	assert_int_equal(wr(f->n2, &c), GOOD);
	assert_int_equal(wr(f->n1, &c), CONFLICT);
	assert_int_equal(prin(f->n1, 0, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b + 4), 8); /* n1 unregistered */
}

static void test_pr_aptpl_restart(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[256];

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	/* without APTPL a restart forgets; with it, keys and reservation stay */
	assert_int_equal(prout(f->n2, 0, 0, 0, KB, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 0, 0, 0, KA, 0x01, &c), GOOD);
	assert_int_equal(prout(f->n1, 1, WE_RO, KA, 0, 0, &c), GOOD);
	assert_int_equal(prin(f->n1, 2, b, sizeof(b), &c), GOOD);
	assert_int_equal(b[3] & 0x01, 0x01); /* PTPL_A */
	st_reopen(f);
	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	assert_int_equal(prin(f->n2, 0, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b), 2);
	assert_int_equal(st_be32(b + 4), 16);
	assert_int_equal(prin(f->n2, 1, b, sizeof(b), &c), GOOD);
	assert_true(st_be64(b + 8) == KA);
	assert_int_equal(b[21], WE_RO);
	assert_int_equal(wr(f->n1, &c), GOOD);
	assert_int_equal(wr(f->n2, &c), GOOD); /* still a registrant */
	assert_int_equal(prout(f->n2, 0, 0, KB, 0, 0, &c), GOOD);
	assert_int_equal(wr(f->n2, &c), CONFLICT);
	/* REGISTER with APTPL=0 drops the stored state */
	assert_int_equal(prout(f->n1, 0, 0, KA, KA, 0, &c), GOOD);
	st_reopen(f);
	st_clear_ua(f->n2, 0);
	assert_int_equal(prin(f->n2, 0, b, sizeof(b), &c), GOOD);
	assert_int_equal(st_be32(b + 4), 0);
	assert_int_equal(wr(f->n2, &c), GOOD);
}

static void test_spc2_reserve_release(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[64];

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x16}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, GOOD);
	st_tur(f->n2, &c, 0);
	assert_int_equal(c.status, CONFLICT);
	assert_int_equal(rd(f->n2, &c), CONFLICT);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x12, 0, 0, 0, 36, 0}, 6, NULL, 0, b, 36);
	assert_int_equal(c.status, GOOD);
	assert_int_equal(prin(f->n2, 0, b, sizeof(b), &c), CONFLICT);
	st_exec(f->n2, &c, 0, (uint8_t[10]){0x56}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, CONFLICT);
	/* RELEASE by another nexus: GOOD, no effect */
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x17}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, GOOD);
	assert_int_equal(wr(f->n2, &c), CONFLICT);
	assert_int_equal(wr(f->n1, &c), GOOD);
	/* LUN reset releases it */
	assert_int_equal(scsi_tmf(f->n1, SCSI_TMF_LUN_RESET, 0), 0);
	assert_int_equal(rd(f->n2, &c), SAM_STAT_CHECK_CONDITION); /* 29/03 first */
	assert_int_equal(rd(f->n2, &c), GOOD);
	st_clear_ua(f->n1, 0);
	/* RESERVE(10) by n2, released when its nexus goes */
	st_exec(f->n2, &c, 0, (uint8_t[10]){0x56}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, GOOD);
	assert_int_equal(rd(f->n1, &c), CONFLICT);
	scsi_nexus_close(f->n2);
	assert_int_equal(scsi_nexus_open(f->s, IQN2, PORT2, TPORT, 1, &f->n2), 0);
	assert_int_equal(rd(f->n1, &c), GOOD);
	/* under a persistent reservation RESERVE conflicts for others */
	assert_int_equal(prout(f->n1, 0, 0, 0, KA, 0, &c), GOOD);
	assert_int_equal(prout(f->n1, 1, WE, KA, 0, 0, &c), GOOD);
	st_clear_ua(f->n2, 0);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x16}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, CONFLICT);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x16}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, GOOD);
	/* target reset (SAM-5 6.3): 29h/00h on every nexus, the issuer's
	 * too, and the RESERVE(6) is gone */
	assert_int_equal(scsi_tmf(f->n1, SCSI_TMF_TARGET_WARM_RESET, 0), 0);
	st_tur(f->n2, &c, 0);
	st_expect_sense(&c, 0x06, 0x29, 0x00);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x29, 0x00);
	assert_int_equal(scsi_tmf(f->n2, SCSI_TMF_TARGET_COLD_RESET, 0), 0);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x29, 0x00);
	st_tur(f->n2, &c, 0);
	st_expect_sense(&c, 0x06, 0x29, 0x00);
}

/* ALL_TG_PT: one registration covers the initiator on every target port;
 * without it a second port of the same initiator is another I_T nexus. */
static void test_pr_all_tg_pt(void **state)
{
	struct sfx *f = *state;
	struct scsi_nexus *p2;
	struct scsi_cmd c;
	uint8_t b[512];

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	assert_int_equal(scsi_nexus_open(f->s, IQN1, PORT1, TGT ",t,0x2", 2, &p2), 0);
	st_clear_ua(p2, 0);
	/* per port: the second port is not registered */
	assert_int_equal(prout(f->n1, 0, 0, 0, KA, 0, &c), GOOD);
	assert_int_equal(prout(p2, 1, WE, KA, 0, 0, &c), CONFLICT);
	assert_int_equal(prout(f->n1, 0, 0, KA, 0, 0, &c), GOOD);
	/* ALL_TG_PT: registered on both, the reservation holds on both */
	assert_int_equal(prout(f->n1, 6, 0, 0, KA, 0x04, &c), GOOD);
	assert_int_equal(prout(p2, 1, WE, KA, 0, 0, &c), GOOD);
	assert_int_equal(wr(f->n1, &c), GOOD);
	st_exec(p2, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, b, 512, NULL, 0);
	assert_int_equal(c.status, GOOD);
	assert_int_equal(wr(f->n2, &c), CONFLICT);
	assert_int_equal(prin(f->n2, 3, b, sizeof(b), &c), GOOD);
	assert_int_equal(b[8 + 12], 0x03); /* ALL_TG_PT, R_HOLDER */
	assert_int_equal(prout(p2, 3, 0, KA, 0, 0, &c), GOOD);
	scsi_nexus_close(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pr_register_reserve_release, st_setup,
					    st_teardown),
	    cmocka_unit_test_setup_teardown(test_pr_registrants_types, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_pr_preempt_clear, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_pr_capabilities_full_status_move, st_setup,
					    st_teardown),
	    cmocka_unit_test_setup_teardown(test_pr_aptpl_restart, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_spc2_reserve_release, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_pr_all_tg_pt, st_setup, st_teardown),
	};

	return cmocka_run_group_tests_name("scsi_pr", tests, NULL, NULL);
}

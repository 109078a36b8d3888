/*
 * test_iscsi_session: the session's command window (array-sim/iscsi/
 * session.c, RFC 7143 4.2.2.1): which CmdSNs are accepted, how MaxCmdSN
 * follows the commands in flight and never goes back, and which PDUs
 * advance StatSN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../array-sim/iscsi/iscsi_int.h"

static struct iscsi_conn *conn_at(uint32_t expcmdsn, unsigned window)
{
	struct iscsi_conn *c = calloc(1, sizeof(*c));

	c->window = window;
	c->expcmdsn = expcmdsn;
	c->maxcmdsn = expcmdsn + window - 1;
	return c;
}

static int offer(struct iscsi_conn *c, uint32_t sn)
{
	uint8_t h[ISCSI_BHS_LEN] = {0};

	h[0] = ISCSI_OP_SCSI_CMD;
	be32_put(h + 24, sn);
	return sess_cmdsn_accept(c, h);
}

static void test_window_accept(void **state)
{
	struct iscsi_conn *c = conn_at(100, 4);

	(void)state;
	/* [100, 103] */
	assert_false(offer(c, 99));  /* too low: silently ignored */
	assert_false(offer(c, 104)); /* MaxCmdSN + 1: too high */
	assert_true(offer(c, 100));
	assert_int_equal(c->expcmdsn, 101);
	assert_int_equal(c->inflight, 1);
	assert_false(offer(c, 100)); /* duplicate */
	assert_true(offer(c, 101));
	assert_true(offer(c, 102));
	assert_true(offer(c, 103));
	/* four in flight: the window is closed (MaxCmdSN = ExpCmdSN - 1) */
	assert_int_equal(c->maxcmdsn, 103);
	assert_int_equal(c->expcmdsn, 104);
	assert_false(offer(c, 104));
	/* one completes: one more slot */
	sess_window_open(c);
	assert_int_equal(c->maxcmdsn, 104);
	assert_true(offer(c, 104));
	/* all complete: the full window ahead */
	for (int i = 0; i < 4; i++)
		sess_window_open(c);
	assert_int_equal(c->inflight, 0);
	assert_int_equal(c->maxcmdsn, 105 + 4 - 1);
	/* extra completions never push it further */
	sess_window_open(c);
	assert_int_equal(c->maxcmdsn, 108);
	free(c);
}

static void test_window_wrap_and_monotonic(void **state)
{
	struct iscsi_conn *c = conn_at(0xfffffffeu, 8);

	(void)state;
	assert_true(offer(c, 0xfffffffeu));
	assert_true(offer(c, 0xffffffffu));
	assert_true(offer(c, 0));
	assert_true(offer(c, 1));
	assert_int_equal(c->expcmdsn, 2);
	assert_false(offer(c, 0xfffffffdu));
	/* a window shrink (smaller configured window) never moves MaxCmdSN
	 * backwards */
	c->window = 1;
	sess_window_open(c);
	assert_int_equal(c->maxcmdsn, 0xfffffffeu + 8 - 1);
	free(c);
}

static void test_gap(void **state)
{
	struct iscsi_conn *c = conn_at(10, 16);

	(void)state;
	/* an in-window CmdSN ahead of ExpCmdSN: taken, and ExpCmdSN moves
	 * past it (one connection: nothing can fill the gap) */
	assert_true(offer(c, 15));
	assert_int_equal(c->expcmdsn, 16);
	assert_false(offer(c, 12));
	free(c);
}

static void test_statsn(void **state)
{
	struct iscsi_conn *c = conn_at(7, 4);
	uint8_t h[ISCSI_BHS_LEN] = {0};

	(void)state;
	c->statsn = 50;
	sess_stamp(c, h, 1);
	assert_int_equal(be32_get(h + 24), 50);
	assert_int_equal(be32_get(h + 28), 7);
	assert_int_equal(be32_get(h + 32), 10);
	assert_int_equal(c->statsn, 51);
	/* R2T, Data-In without S, pings: StatSN not advanced */
	sess_stamp(c, h, 0);
	assert_int_equal(be32_get(h + 24), 51);
	assert_int_equal(c->statsn, 51);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_accept),
	    cmocka_unit_test(test_window_wrap_and_monotonic),
	    cmocka_unit_test(test_gap),
	    cmocka_unit_test(test_statsn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

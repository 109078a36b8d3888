# Turn iscsi-test-cu's verbose CUnit output into one line per test run:
#   Suite.Test <TAB> PASSED|SKIPPED|FAILED <TAB> skip reason <TAB> logged
# The verdict is CUnit's ("...passed" or "...FAILED", which is what the
# test's CU_ASSERTs decided).  A test that printed "[SKIPPED]" and passed
# was skipped.  "logged" is "yes" when libiscsi printed a "[FAILED]" log
# line during the test or its suite's cleanup while CUnit passed it: some
# tests expect a command to fail and log it (iSCSIDataSnInvalid), and
# suite cleanups log their own commands' errors; the gate lists these and
# requires each to be explained in docs/conformance.md.
function finish(res,    reason, m, logged) {
	reason = ""
	logged = (buf ~ /\[FAILED\]/) ? "yes" : ""
	if (res == "passed" && buf ~ /\[SKIPPED\]/) {
		res = "SKIPPED"
		m = buf
		sub(/.*\[SKIPPED\] */, "", m)
		sub(/ *\[SKIPPED\].*/, "", m)
		sub(/ *passed.*$/, "", m)
		reason = m
	} else if (res == "passed") {
		res = "PASSED"
	}
	printf "%s\t%s\t%s\t%s\n", cur, res, reason, logged
	cur = ""
}
/^Suite: / { if (cur != "") finish(res_seen); suite = $2; next }
/^Run Summary/ { if (cur != "") finish(res_seen); next }
/^  Test: / {
	if (cur != "") finish(res_seen)
	cur = suite "." $2
	buf = $0
	res_seen = ""
	if ($0 ~ /\.\.\.FAILED/) res_seen = "FAILED"
	else if ($0 ~ /\.\.\.passed/) res_seen = "passed"
	next
}
cur != "" {
	buf = buf " " $0
	if (res_seen == "" && $0 ~ /^passed/) res_seen = "passed"
	if (res_seen == "" && $0 ~ /^FAILED/) res_seen = "FAILED"
}
END { if (cur != "") finish(res_seen) }

/*
 * host: the harness's line protocol with the Linux runner.
 *
 * The harness runs under Wine; the array tools are Linux programs.  The
 * harness writes "@@RUN <shell command>" on stdout; the runner
 * (tests/wine/runner.sh) runs it with bash and answers on the harness's
 * stdin with the command's stdout lines, then "@@RC <exit status>".
 * Other lines the harness prints: "ok - ..." / "FAIL - ..." (checks),
 * "@@TL <phase> <array operation> <ms>" (timeline), "@@SET <guid>",
 * "@@MEM ..." and "# ..." comments; the runner passes them through.
 */
#ifndef ARRAYSIM_WINE_HOST_H
#define ARRAYSIM_WINE_HOST_H

#include <stddef.h>

struct host_out {
	size_t n;
	char **lines; /* the command's stdout, newline stripped */
};

/* Run a shell command on the Linux side; returns its exit status, or
 * -1 if the runner went away.  out (may be NULL) gets its output. */
int host_run(struct host_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void host_out_free(struct host_out *out);

/* "ok - what" or "FAIL - what"; returns cond; counts failures */
int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# ..." */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "@@TL phase op ms" */
void timeline(const char *phase, const char *op, double ms);
int check_failures(void);

/* milliseconds since an arbitrary start, from QueryPerformanceCounter */
double now_ms(void);

#endif

/* host: see host.h for the protocol */
#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

static int failures;

int host_run(struct host_out *out, const char *fmt, ...)
{
	char line[8192];
	va_list ap;

	if (out)
		memset(out, 0, sizeof(*out));
	fputs("@@RUN ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\n", stdout);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (!strncmp(line, "@@RC ", 5))
			return atoi(line + 5);
		if (out) {
			char **l = realloc(out->lines, (out->n + 1) * sizeof(*l));

			if (!l)
				continue;
			out->lines = l;
			out->lines[out->n++] = _strdup(line);
		}
	}
	return -1;
}

void host_out_free(struct host_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		free(out->lines[i]);
	free(out->lines);
	memset(out, 0, sizeof(*out));
}

int check(int cond, const char *fmt, ...)
{
	va_list ap;

	fputs(cond ? "ok - " : "FAIL - ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\n", stdout);
	fflush(stdout);
	if (!cond)
		failures++;
	return cond;
}

void note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\n", stdout);
	fflush(stdout);
}

void timeline(const char *phase, const char *op, double ms)
{
	printf("@@TL %s %s %.1f\n", phase, op, ms);
	fflush(stdout);
}

int check_failures(void)
{
	return failures;
}

double now_ms(void)
{
	static LARGE_INTEGER freq;
	LARGE_INTEGER t;

	if (!freq.QuadPart)
		QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&t);
	return (double)t.QuadPart * 1000.0 / (double)freq.QuadPart;
}

/*
 * evlog.c: event log, Status key, trace ring.  One lock guards all of
 * it, since the ResyncLuns worker reports from its own thread.
 */
#include "evlog.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "provider_ids.h"

#define TRACE_RING 65536

static HMODULE self_module;
static CRITICAL_SECTION lock;
static int lock_ready;
static char ring[TRACE_RING];
static size_t ring_len;
static size_t ring_dropped;
static WCHAR trace_path[MAX_PATH];

void evlog_init(HMODULE self)
{
	self_module = self;
	InitializeCriticalSection(&lock);
	lock_ready = 1;
}

void evlog_fini(void)
{
	if (lock_ready)
		DeleteCriticalSection(&lock);
	lock_ready = 0;
}

/* the EVENTLOG_*_TYPE for a message id's severity bits */
static WORD event_type(DWORD msgid)
{
	switch (msgid >> 30) {
	case 3:
		return EVENTLOG_ERROR_TYPE;
	case 2:
		return EVENTLOG_WARNING_TYPE;
	default:
		return EVENTLOG_INFORMATION_TYPE;
	}
}

/* the text the event viewer will show: the message table entry with %1 filled in */
static void render(DWORD msgid, const WCHAR *insert, WCHAR *out, size_t outlen)
{
	DWORD_PTR args[1] = {(DWORD_PTR)insert};
	DWORD n =
	    self_module
		? FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
				 self_module, msgid, 0x409, out, (DWORD)outlen, (va_list *)args)
		: 0;

	if (!n) {
		lstrcpynW(out, insert, (int)outlen);
		return;
	}
	/* the message table ends each entry with CR LF */
	while (n && (out[n - 1] == L'\n' || out[n - 1] == L'\r'))
		out[--n] = L'\0';
}

static void status_record(DWORD msgid, WORD type, const WCHAR *text)
{
	HKEY k;
	DWORD count = 0, cb = sizeof(count), vtype, id = msgid & 0xffff, t = type;

	if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, ARRAYSIM_REG_KEY L"\\" CFG_STATUS_SUBKEY, 0, NULL,
			    0, KEY_READ | KEY_WRITE, NULL, &k, NULL) != ERROR_SUCCESS)
		return;
	if (RegQueryValueExW(k, L"EventCount", NULL, &vtype, (BYTE *)&count, &cb) !=
		ERROR_SUCCESS ||
	    vtype != REG_DWORD)
		count = 0;
	count++;
	RegSetValueExW(k, L"EventCount", 0, REG_DWORD, (const BYTE *)&count, sizeof(count));
	RegSetValueExW(k, L"LastEventId", 0, REG_DWORD, (const BYTE *)&id, sizeof(id));
	RegSetValueExW(k, L"LastEventType", 0, REG_DWORD, (const BYTE *)&t, sizeof(t));
	RegSetValueExW(k, L"LastEventText", 0, REG_SZ, (const BYTE *)text,
		       (DWORD)((wcslen(text) + 1) * sizeof(WCHAR)));
	RegCloseKey(k);
}

void evlog_report(DWORD msgid, const char *fmt, ...)
{
	char msg[1024];
	WCHAR insert[1024], text[2048];
	const WCHAR *strings[1] = {insert};
	WORD type = event_type(msgid);
	HANDLE src;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!MultiByteToWideChar(CP_UTF8, 0, msg, -1, insert, 1024))
		lstrcpyW(insert, L"(message not representable)");
	render(msgid, insert, text, sizeof(text) / sizeof(text[0]));
	if (lock_ready)
		EnterCriticalSection(&lock);
	src = RegisterEventSourceW(NULL, ARRAYSIM_EVENT_SOURCE);
	if (src) {
		ReportEventW(src, type, 0, msgid, NULL, 1, 0, strings, NULL);
		DeregisterEventSource(src);
	}
	status_record(msgid, type, text);
	if (lock_ready)
		LeaveCriticalSection(&lock);
	trace_printf("event %lu: %s", (unsigned long)(msgid & 0xffff), msg);
}

void trace_set_file(const WCHAR *path)
{
	if (lock_ready)
		EnterCriticalSection(&lock);
	if (path)
		lstrcpynW(trace_path, path, MAX_PATH);
	else
		trace_path[0] = L'\0';
	if (lock_ready)
		LeaveCriticalSection(&lock);
}

void trace_vprintf(const char *fmt, va_list ap)
{
	char line[1024];
	SYSTEMTIME t;
	int n, m;

	GetLocalTime(&t);
	n = snprintf(line, sizeof(line), "%04u-%02u-%02u %02u:%02u:%02u.%03u [%lu] ", t.wYear,
		     t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds,
		     (unsigned long)GetCurrentThreadId());
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 2, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (lock_ready)
		EnterCriticalSection(&lock);
	/* a full ring drops its oldest content wholesale; the flush says how much */
	if (ring_len + (size_t)n > sizeof(ring)) {
		ring_dropped += ring_len;
		ring_len = 0;
	}
	memcpy(ring + ring_len, line, (size_t)n);
	ring_len += (size_t)n;
	if (lock_ready)
		LeaveCriticalSection(&lock);
}

void trace_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	trace_vprintf(fmt, ap);
	va_end(ap);
}

void trace_flush(void)
{
	HANDLE f;
	DWORD done;

	if (lock_ready)
		EnterCriticalSection(&lock);
	if (ring_len && trace_path[0]) {
		f = CreateFileW(trace_path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE,
				NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
		if (f != INVALID_HANDLE_VALUE) {
			if (ring_dropped) {
				char note[80];
				int n = snprintf(note, sizeof(note),
						 "[trace: %zu bytes dropped]\r\n", ring_dropped);

				WriteFile(f, note, (DWORD)n, &done, NULL);
			}
			WriteFile(f, ring, (DWORD)ring_len, &done, NULL);
			CloseHandle(f);
		}
	}
	/* no file configured (or unwritable): the ring is discarded, not kept growing */
	ring_len = 0;
	ring_dropped = 0;
	if (lock_ready)
		LeaveCriticalSection(&lock);
}

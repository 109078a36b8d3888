/*
 * evlog: the provider's Application event-log entries, their mirror in
 * the registry Status key, and the in-memory trace.  None of these may
 * run inside CommitSnapshots (Flush-and-Hold: no file or registry I/O);
 * the provider queues what commit has to say and reports it afterwards.
 */
#ifndef ARRAYSIM_PROV_EVLOG_H
#define ARRAYSIM_PROV_EVLOG_H

#include <windows.h>

#include <stdarg.h>

void evlog_init(HMODULE self); /* DllMain PROCESS_ATTACH */
void evlog_fini(void);	       /* DllMain PROCESS_DETACH */

/*
 * ReportEventW under ARRAYSIM_EVENT_SOURCE with msgid from messages.mc
 * and one insert string (printf format), then record EventCount,
 * LastEventId (the id the event viewer shows), LastEventType
 * (EVENTLOG_*_TYPE) and LastEventText in HKLM\...\VssProvider\Status.
 */
void evlog_report(DWORD msgid, const char *fmt, ...) __attribute__((format(gnu_printf, 2, 3)));

/* trace: lines go to a memory ring; trace_flush() appends it to the file */
void trace_set_file(const WCHAR *path); /* NULL or "": discard on flush */
void trace_printf(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
void trace_vprintf(const char *fmt, va_list ap);
void trace_flush(void);

#endif

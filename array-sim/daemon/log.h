/* log: leveled logging to stderr or syslog. */
#ifndef ARRAYSIM_LOG_H
#define ARRAYSIM_LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Defaults: stderr, INFO.  Thread-safe. */
void log_setup(int use_syslog, enum log_level level);
void log_set_level(enum log_level level);
/* "error", "warn", "info", "debug" -> level; -1 if unknown */
int log_level_parse(const char *s);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

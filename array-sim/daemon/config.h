/*
 * config: arraysimd's settings.  Defaults, then the config file (INI, read
 * with inih), then the command line.  config_write() writes every setting
 * with its current value, which on a new data directory documents the
 * defaults.  Sizes accept K/M/G/T suffixes (powers of 1024).
 */
#ifndef ARRAYSIM_CONFIG_H
#define ARRAYSIM_CONFIG_H

#include <stdint.h>

#define CFG_PATH_MAX 512

struct config {
	char data_dir[CFG_PATH_MAX];
	/* [pool] */
	char pool_file[CFG_PATH_MAX]; /* relative to data_dir unless absolute */
	uint64_t pool_size;
	uint32_t chunk_size;
	unsigned commit_interval_ms;
	uint64_t cache_size;
	/* [control] */
	char control_listen[128];
	char key_file[CFG_PATH_MAX];
	char audit_log[CFG_PATH_MAX];
	unsigned max_connections;
	/* [iscsi] */
	char iscsi_listen[512]; /* ADDR:PORT[,ADDR:PORT...]: portals of one group */
	char target_iqn[224];
	int require_chap;
	unsigned iscsi_threads; /* 0: one per CPU */
	int async_events;	/* AsyncEvent 0 on map changes (default no) */
	/* [log] */
	char log_level[16];
	int syslog;
};

void config_defaults(struct config *c);
/* 0, or -errno; *line gets the first bad line (inih). */
int config_load(struct config *c, const char *path, int *line);
/* the same from text in memory (the config fuzzer's entry point) */
int config_load_string(struct config *c, const char *text, int *line);
int config_write(const struct config *c, const char *path);
/* "10G" -> bytes; -EINVAL on junk */
int parse_size(const char *s, uint64_t *out);
/* "ADDR:PORT" -> parts; -EINVAL on junk */
int parse_hostport(const char *s, char *host, unsigned hostsz, uint16_t *port);
/* data_dir + "/" + name unless name is absolute */
void config_path(const struct config *c, const char *name, char *out, unsigned outsz);

#endif

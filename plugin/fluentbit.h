/*
 * The plugin's bridge to Fluent Bit's logger and metrics (fluentbit.c).
 * Every function degrades to "not available" in a host that does not
 * export Fluent Bit's C API, so the .so loads anywhere a Go plugin loads.
 */
#ifndef DDGO_FLUENTBIT_H
#define DDGO_FLUENTBIT_H

/* Fluent Bit's log levels (include/fluent-bit/flb_log.h, every line). */
#define DDGO_LOG_OFF   0
#define DDGO_LOG_ERROR 1
#define DDGO_LOG_WARN  2
#define DDGO_LOG_INFO  3
#define DDGO_LOG_DEBUG 4
#define DDGO_LOG_TRACE 5

/* ddgo_open looks Fluent Bit's functions up (once) and, on the thread
 * that initialises outputs, takes note of its logging context. Call it
 * from FLBPluginInit. */
void ddgo_open(void);

/* The instance's name as Fluent Bit shows it (its Alias, else e.g.
 * "datadog_go.0"), NULL when unknown. plugin is FLBPluginInit's argument. */
const char *ddgo_instance_name(void *plugin);

/* The instance's log level (DDGO_LOG_*): its log_level, else the
 * service's Log_Level; -1 when unknown. */
int ddgo_log_level(void *plugin);

/* 1 when lines can go through Fluent Bit's logger. */
int ddgo_log_ready(void);

/* Prints one line (no format expansion) through Fluent Bit's logger. */
void ddgo_log(int level, const char *line);

/* Stops using Fluent Bit's logging context (after the last instance's exit). */
void ddgo_log_close(void);

/* The instance's cmetrics context (what Fluent Bit's metrics endpoints
 * serve), NULL when this Fluent Bit offers none to a plugin. why is set to
 * a reason when NULL. */
void *ddgo_instance_cmt(void *plugin, const char **why);

/* Creates a counter (gauge = 0) or gauge in cmt; NULL on failure. */
void *ddgo_metric_create(void *cmt, int gauge, char *ns, char *subsystem, char *name, char *help,
                         int nlabels, char **keys);

/* Sets one series of a metric; 0 on success. */
int ddgo_metric_set(void *metric, int gauge, double value, int nlabels, char **values);

#endif

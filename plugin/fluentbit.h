/*
 * The plugin's bridge to Fluent Bit's logger, metrics and configuration
 * variables (fluentbit.c).
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

/* Fluent Bit's configuration variables (src/flb_env.c): a new set, NULL
 * when the host does not export Fluent Bit's functions. */
void *ddgo_env_new(void);

/* Sets a variable, as @SET or a YAML env entry does. */
void ddgo_env_set(void *env, const char *name, const char *value);

/* value with its variables expanded (malloc'ed; NULL on failure). */
char *ddgo_env_expand(void *env, const char *value);

void ddgo_env_free(void *env);
/* 1 when this Fluent Bit's metrics endpoints show the histograms of an
 * instance's context (its cmetrics copies them: not the 1.9 line). */
int ddgo_histograms_shown(void);

/* Creates a histogram with nbounds buckets (ascending upper bounds) in cmt;
 * NULL on failure. */
void *ddgo_histogram_create(void *cmt, char *ns, char *subsystem, char *name, char *help,
                            double *bounds, int nbounds, int nlabels, char **keys);

/* Sets one series of a histogram: cumulative holds nbounds + 1 counts
 * (the last is +Inf). 0 on success. */
int ddgo_histogram_set(void *histogram, unsigned long long *cumulative, double sum,
                       unsigned long long count, int nlabels, char **values);

/* The gauge of cmt whose full name is fqname (one of Fluent Bit's own
 * series of the instance), NULL when there is none or cmt is not laid out
 * as cmetrics' struct cmt of 1.9.10, 4.2.8 and 5.1.1. */
void *ddgo_find_gauge(void *cmt, const char *fqname);

/* The instance's log_suppress_interval as Fluent Bit 2.0.9 and later keep
 * it (seconds; 0 off), -1 when unset (or on 1.9, which passes the key to
 * the plugin), -2 when the instance is not laid out as expected. */
int ddgo_log_suppress_interval(void *plugin);

#endif

/*
 * Fluent Bit's logger, metrics and configuration variables for the plugin.
 *
 * Fluent Bit hands a Go plugin a struct flb_api (include/fluent-bit/flb_api.h)
 * whose length depends on the version: at v1.9.10 it holds
 * output_get_property only; from 2.0 it also holds output_get_cmt_instance,
 * log_print and output_log_check (v4.2.8 and v5.1.1: 9 members).
 * flb_api_create (src/flb_api.c) fills those members with Fluent Bit's
 * exported functions flb_output_get_cmt_instance, flb_log_print and
 * flb_output_log_check, and leaves the cmetrics one unset in a build
 * without FLB_HAVE_METRICS. So the plugin looks those functions up by name
 * instead (dlsym(RTLD_DEFAULT)):
 * the struct's length never matters, a function the running Fluent Bit
 * lacks is simply absent, and the .so keeps no undefined symbol, so it
 * loads in any host (test/flbhost exports none of them).
 *
 * Logging from Go threads. flb_log_print sends a line to the log collector
 * (Log_File, or stderr) through the calling thread's worker context
 * (thread-local flb_worker_ctx, src/flb_worker.c); a thread without one,
 * as every thread the Go runtime starts, prints straight to stderr, past
 * Log_File. The engine thread, which initialises outputs, has one (the log
 * context's own worker, src/flb_log.c: flb_log_create). ddgo_open keeps
 * it, and ddgo_log lends it to a Go thread for the one call: the line then
 * goes down that worker's pipe in one write of PIPE_BUF bytes (struct
 * log_message, 4,096 bytes), which Linux keeps whole next to the engine's
 * own writes (4.2.8). From 5.0 the worker's config leads it instead to
 * the log context's queue, whole, under a mutex (v5.1.1, src/flb_log.c:
 * log_queue_enqueue; past 1,024 waiting lines it goes to stderr).
 *
 * Fluent Bit 1.9 exports neither flb_output_log_check nor
 * flb_output_get_cmt_instance; its instance's log level and cmetrics
 * context are read from struct flb_output_instance at the offsets of
 * v1.9.10's header (include/fluent-bit/flb_output.h, default build:
 * FLB_HAVE_REGEX, FLB_HAVE_TLS, LP64), each checked at run time first (see
 * v19_head_ok and v19_cmt): a build laid out otherwise gets no metrics and
 * the service's level, never a wrong read.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fluentbit.h"

typedef void (*log_print_fn)(int, const char *, int, const char *, ...);
typedef void *(*metric_create_fn)(void *, char *, char *, char *, char *, int, char **);
typedef int (*metric_set_fn)(void *, uint64_t, double, int, char **);
typedef void *(*hist_create_fn)(void *, char *, char *, char *, char *, void *, int, char **);
typedef void *(*buckets_create_fn)(double *, size_t);
typedef void (*buckets_destroy_fn)(void *);
typedef int (*hist_set_fn)(void *, uint64_t, uint64_t *, double, uint64_t, int, char **);

static pthread_once_t resolved = PTHREAD_ONCE_INIT;
static log_print_fn log_print;
static void *(*worker_get)(void);
static int (*worker_log_level)(void *);
static int (*output_log_check)(void *, int);
static void *(*output_get_cmt)(void *);
static const char *(*output_name)(void *);
static metric_create_fn counter_create, gauge_create;
static metric_set_fn counter_set, gauge_set;
static void *(*env_create)(void);
static void (*env_destroy)(void *);
static int (*env_set)(void *, const char *, const char *);
static char *(*env_translate)(void *, const char *);
static void (*sds_destroy)(char *);
static hist_create_fn hist_create;
static buckets_create_fn buckets_create;
static buckets_destroy_fn buckets_destroy;
static hist_set_fn hist_set;

/* The engine's logging worker, lent to Go threads (see above). */
static void *log_worker;

static void resolve(void)
{
    log_print = (log_print_fn) dlsym(RTLD_DEFAULT, "flb_log_print");
    worker_get = (void *(*)(void)) dlsym(RTLD_DEFAULT, "flb_worker_get");
    worker_log_level = (int (*)(void *)) dlsym(RTLD_DEFAULT, "flb_worker_log_level");
    output_log_check = (int (*)(void *, int)) dlsym(RTLD_DEFAULT, "flb_output_log_check");
    output_get_cmt = (void *(*)(void *)) dlsym(RTLD_DEFAULT, "flb_output_get_cmt_instance");
    output_name = (const char *(*)(void *)) dlsym(RTLD_DEFAULT, "flb_output_name");
    counter_create = (metric_create_fn) dlsym(RTLD_DEFAULT, "cmt_counter_create");
    counter_set = (metric_set_fn) dlsym(RTLD_DEFAULT, "cmt_counter_set");
    gauge_create = (metric_create_fn) dlsym(RTLD_DEFAULT, "cmt_gauge_create");
    gauge_set = (metric_set_fn) dlsym(RTLD_DEFAULT, "cmt_gauge_set");
    env_create = (void *(*)(void)) dlsym(RTLD_DEFAULT, "flb_env_create");
    env_destroy = (void (*)(void *)) dlsym(RTLD_DEFAULT, "flb_env_destroy");
    env_set = (int (*)(void *, const char *, const char *)) dlsym(RTLD_DEFAULT, "flb_env_set");
    env_translate = (char *(*)(void *, const char *)) dlsym(RTLD_DEFAULT, "flb_env_var_translate");
    sds_destroy = (void (*)(char *)) dlsym(RTLD_DEFAULT, "flb_sds_destroy");
    hist_create = (hist_create_fn) dlsym(RTLD_DEFAULT, "cmt_histogram_create");
    buckets_create = (buckets_create_fn) dlsym(RTLD_DEFAULT, "cmt_histogram_buckets_create_size");
    buckets_destroy = (buckets_destroy_fn) dlsym(RTLD_DEFAULT, "cmt_histogram_buckets_destroy");
    hist_set = (hist_set_fn) dlsym(RTLD_DEFAULT, "cmt_histogram_set_default");
}

/* worker_slot is this thread's flb_worker_ctx (dlsym returns the calling
 * thread's address of a thread-local symbol). */
static void **worker_slot(void)
{
    return (void **) dlsym(RTLD_DEFAULT, "flb_worker_ctx");
}

void ddgo_open(void)
{
    pthread_once(&resolved, resolve);
    if (!log_print || !worker_get) {
        return;
    }
    void *w = worker_get();
    void **slot = worker_slot();
    /* The slot must hold this thread's worker: then it is the
     * thread-local pointer, not the pthread key of a build without C TLS. */
    if (w && slot && *slot == w) {
        __atomic_store_n(&log_worker, w, __ATOMIC_RELEASE);
    }
}

/* struct flbgo_output_plugin (src/proxy/go/go.h, 1.9.10, 4.2.8 and 5.1.1):
 * { char *name; void *api; void *o_ins; struct flb_plugin_proxy_context *context; ... } */
static char *o_ins(void *plugin)
{
    return plugin ? ((char **) plugin)[2] : NULL;
}

const char *ddgo_instance_name(void *plugin)
{
    char *ins = o_ins(plugin);
    return ins && output_name ? output_name(ins) : NULL;
}

/* v1.9.10's struct flb_output_instance: offsets from its header, the same
 * as the compiled flb_output_name and flb_output_instance_destroy of the
 * 1.9.10 binary read; struct cmt_counter from its cmetrics 0.3.7. */
enum {
    V19_LOG_LEVEL = 80,         /* int log_level */
    V19_NAME = 84,              /* char name[32] */
    V19_ALIAS = 120,            /* char *alias */
    V19_CMT = 448,              /* struct cmt *cmt */
    V19_CMT_PROC_RECORDS = 456, /* struct cmt_counter *cmt_proc_records */
    V19_COUNTER_CMT = 72,       /* struct cmt_counter: ... struct cmt *cmt */
};

/* v19_head_ok checks the layout up to the name against flb_output_name:
 * it returns the instance's name field when no Alias is set, else the
 * alias pointer stored at V19_ALIAS. Both reads are inside the struct. */
static int v19_head_ok(char *ins)
{
    if (!ins || !output_name || output_log_check || output_get_cmt) {
        return 0; /* not the 1.9 line */
    }
    const char *name = output_name(ins);
    return name && (name == ins + V19_NAME || *(const char **) (ins + V19_ALIAS) == name);
}

/* safe_read copies n bytes at addr, or fails (EFAULT) without a fault when
 * addr is not readable: write(2) into a pipe checks the address. */
static int safe_read(const void *addr, void *out, size_t n)
{
    int p[2];
    int ok;
    if (pipe2(p, O_CLOEXEC) != 0) {
        return 0;
    }
    ok = write(p[1], addr, n) == (ssize_t) n && read(p[0], out, n) == (ssize_t) n;
    close(p[0]);
    close(p[1]);
    return ok;
}

/* v19_cmt returns ins->cmt once ins->cmt_proc_records, the next field,
 * is a counter of that very context (struct cmt_counter's back pointer). */
static void *v19_cmt(char *ins)
{
    void *cmt, *records, *back;
    if (!v19_head_ok(ins) ||
        !safe_read(ins + V19_CMT, &cmt, sizeof cmt) ||
        !safe_read(ins + V19_CMT_PROC_RECORDS, &records, sizeof records) ||
        !cmt || !records ||
        !safe_read((char *) records + V19_COUNTER_CMT, &back, sizeof back) ||
        back != cmt) {
        return NULL;
    }
    return cmt;
}

int ddgo_log_level(void *plugin)
{
    char *ins = o_ins(plugin);
    if (ins && output_log_check) {
        for (int l = DDGO_LOG_TRACE; l >= DDGO_LOG_ERROR; l--) {
            if (output_log_check(ins, l)) {
                return l;
            }
        }
        return DDGO_LOG_OFF;
    }
    if (v19_head_ok(ins)) {
        /* flb_output_init_all gives an instance without log_level the service's. */
        int l = *(int *) (ins + V19_LOG_LEVEL);
        if (l >= DDGO_LOG_OFF && l <= DDGO_LOG_TRACE) {
            return l;
        }
    }
    void *w = __atomic_load_n(&log_worker, __ATOMIC_ACQUIRE);
    return w && worker_log_level ? worker_log_level(w) : -1;
}

int ddgo_log_ready(void)
{
    return log_print != NULL;
}

void ddgo_log(int level, const char *line)
{
    void **slot = NULL;
    void *w = __atomic_load_n(&log_worker, __ATOMIC_ACQUIRE);
    if (!log_print) {
        return;
    }
    if (w && worker_get() == NULL) {
        slot = worker_slot();
        if (slot && *slot == NULL) {
            *slot = w;
        }
        else {
            slot = NULL;
        }
    }
    log_print(level, NULL, 0, "%s", line);
    if (slot) {
        *slot = NULL;
    }
}

void ddgo_log_close(void)
{
    __atomic_store_n(&log_worker, NULL, __ATOMIC_RELEASE);
}

void *ddgo_instance_cmt(void *plugin, const char **why)
{
    char *ins = o_ins(plugin);
    void *cmt = NULL;
    if (!counter_create || !counter_set || !gauge_create || !gauge_set) {
        *why = "the host exports no cmetrics functions (not Fluent Bit)";
        return NULL;
    }
    if (output_get_cmt) {
        cmt = output_get_cmt(ins);
        *why = "Fluent Bit gave no metrics context for the instance";
    }
    else {
        cmt = v19_cmt(ins);
        *why = "this Fluent Bit's output instance is not laid out as 1.9.10's";
    }
    return cmt;
}

void *ddgo_metric_create(void *cmt, int gauge, char *ns, char *subsystem, char *name, char *help,
                         int nlabels, char **keys)
{
    metric_create_fn create = gauge ? gauge_create : counter_create;
    return cmt && create ? create(cmt, ns, subsystem, name, help, nlabels, keys) : NULL;
}

int ddgo_metric_set(void *metric, int gauge, double value, int nlabels, char **values)
{
    metric_set_fn set = gauge ? gauge_set : counter_set;
    struct timespec ts;
    if (!metric || !set) {
        return -1;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return set(metric, (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec, value, nlabels, values);
}

/*
 * Fluent Bit's configuration variables, with its own code (src/flb_env.c,
 * the same signatures in 1.9.10, 4.2.8 and 5.1.1): a struct flb_env of the
 * plugin's, filled as Fluent Bit fills its own (YAML env, then @SET), so a
 * value expands exactly as the running version expands it. Its warnings
 * for unset variables are off (flb_env_warn_unused(env, FLB_FALSE), a
 * header inline that sets warn_unused, struct flb_env's first member in
 * every line): Fluent Bit printed them already.
 */
void *ddgo_env_new(void)
{
    pthread_once(&resolved, resolve);
    if (!env_create || !env_destroy || !env_set || !env_translate || !sds_destroy) {
        return NULL;
    }
    void *env = env_create();
    if (env) {
        *(int *) env = 0;
    }
    return env;
}

void ddgo_env_set(void *env, const char *name, const char *value)
{
    env_set(env, name, value);
}

char *ddgo_env_expand(void *env, const char *value)
{
    char *sds = env_translate(env, value);
    char *out;
    if (!sds) {
        return NULL;
    }
    out = strdup(sds);
    sds_destroy(sds);
    return out;
}

void ddgo_env_free(void *env)
{
    env_destroy(env);
}

/* Fluent Bit 1.9.10's cmetrics (0.3.7) concatenates an instance's counters,
 * gauges and untyped metrics for its endpoints, not its histograms
 * (lib/cmetrics/src/cmt_cat.c); from 2.0 it copies them too. 1.9 is the
 * line without flb_output_get_cmt_instance. */
int ddgo_histograms_shown(void)
{
    pthread_once(&resolved, resolve);
    return output_get_cmt && hist_create && buckets_create && buckets_destroy && hist_set;
}

void *ddgo_histogram_create(void *cmt, char *ns, char *subsystem, char *name, char *help,
                            double *bounds, int nbounds, int nlabels, char **keys)
{
    void *buckets, *h;
    if (!cmt || !ddgo_histograms_shown()) {
        return NULL;
    }
    buckets = buckets_create(bounds, (size_t) nbounds);
    if (!buckets) {
        return NULL;
    }
    /* The histogram owns its buckets from here on, also when it fails
     * (cmt_histogram_create destroys them with itself). */
    h = hist_create(cmt, ns, subsystem, name, help, buckets, nlabels, keys);
    return h;
}

int ddgo_histogram_set(void *histogram, unsigned long long *cumulative, double sum,
                       unsigned long long count, int nlabels, char **values)
{
    struct timespec ts;
    if (!histogram || !hist_set) {
        return -1;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return hist_set(histogram, (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec,
                    (uint64_t *) cumulative, sum, (uint64_t) count, nlabels, values);
}

/* struct cmt and struct cmt_gauge, the same in cmetrics 0.3.7 (1.9.10),
 * 1.0.x (4.2.8) and 2.2.x (5.1.1), LP64: struct cmt { int log_level;
 * log_cb; internal_metadata; external_metadata; static_labels; list
 * counters; list gauges; ... } with lists of { prev, next }; struct
 * cmt_gauge { struct cmt_opts opts (ns, subsystem, name, description,
 * fqname, int resource_index); map; cmt; list _head }. */
enum {
    CMT_GAUGES = 56,    /* struct cmt: the gauges' list head */
    GAUGE_FQNAME = 32,  /* struct cmt_gauge: opts.fqname */
    GAUGE_CMT = 56,     /* struct cmt_gauge: its cmt */
    GAUGE_HEAD = 64,    /* struct cmt_gauge: _head in the gauges' list */
    MAX_GAUGES = 1024,  /* a walk's bound */
};

void *ddgo_find_gauge(void *cmt, const char *fqname)
{
    char *head = (char *) cmt + CMT_GAUGES, *node, *gauge;
    void *back;
    char *name;
    size_t n = strlen(fqname) + 1;
    char buf[128];
    if (!cmt || n > sizeof buf || !safe_read(head + sizeof(void *), &node, sizeof node)) {
        return NULL;
    }
    for (int i = 0; node && node != head && i < MAX_GAUGES; i++) {
        gauge = node - GAUGE_HEAD;
        /* A gauge of this context points back to it: else the layout is
         * not the one above, and nothing is read further. */
        if (!safe_read(gauge + GAUGE_CMT, &back, sizeof back) || back != cmt ||
            !safe_read(gauge + GAUGE_FQNAME, &name, sizeof name)) {
            return NULL;
        }
        if (name && safe_read(name, buf, n) && memcmp(buf, fqname, n) == 0) {
            return gauge;
        }
        if (!safe_read(node + sizeof(void *), &node, sizeof node)) {
            return NULL;
        }
    }
    return NULL;
}

/* From 2.0.9 (4.2.8, 5.1.1) struct flb_output_instance holds
 * { ... int log_level; int log_suppress_interval; char name[32];
 * char *alias; ... }, and Fluent Bit keeps log_suppress_interval to itself
 * (flb_output_set_property): the plugin finds the name field and reads the
 * int before it, once the int before that matches the instance's log level
 * and the alias pointer follows the name. -2 when those checks fail. */
enum { MAX_NAME_OFFSET = 256 };

int ddgo_log_suppress_interval(void *plugin)
{
    char *ins = o_ins(plugin);
    const char *shown;
    char *alias = NULL;
    int off = -1, level, interval;
    if (!ins || !output_name || !output_log_check) {
        return -1; /* 1.9: no such field; the key reaches the plugin */
    }
    shown = output_name(ins);
    if (!shown) {
        return -2;
    }
    if (shown > ins && shown < ins + MAX_NAME_OFFSET) {
        off = (int) (shown - ins); /* no Alias: the name field itself */
    }
    else {
        /* An Alias: the alias pointer follows the 32-byte name field. */
        for (int k = 40; k < MAX_NAME_OFFSET; k += (int) sizeof(void *)) {
            void *p;
            if (safe_read(ins + k, &p, sizeof p) && p == shown) {
                off = k - 32;
                alias = (char *) shown;
                break;
            }
        }
    }
    if (off < 8 || !safe_read(ins + off - 8, &level, sizeof level) ||
        !safe_read(ins + off - 4, &interval, sizeof interval)) {
        return -2;
    }
    if (!alias) {
        void *after;
        if (!safe_read(ins + off + 32, &after, sizeof after) || after != NULL) {
            return -2;
        }
    }
    if (level != ddgo_log_level(plugin) || interval < -1 || interval > 7 * 24 * 3600) {
        return -2;
    }
    return interval;
}

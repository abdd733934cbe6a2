/*
 * flbhost: loads a Fluent Bit Go output plugin (.so) the way Fluent Bit's Go
 * proxy does (src/flb_plugin_proxy.c, src/proxy/go/go.c) and drives it:
 * Register -> Init per instance -> FlushCtx per chunk (from N worker threads,
 * retrying FLB_RETRY like Fluent Bit's scheduler) -> ExitCtx -> Unregister.
 *
 * The structs below copy Fluent Bit's layouts. Each chunk is copied into a
 * fresh malloc'd buffer for every call and poisoned (0xAA) and freed as soon
 * as the call returns, so a plugin that keeps Fluent Bit's memory past the
 * call reads garbage and is caught by the tests.
 *
 * usage: flbhost -so PLUGIN.so -conf A.conf [-conf B.conf ...] [-workers N]
 *                [-retry-limit N] [-retry-wait-ms N] [-repeat N] [-tag TAG]
 *                [-abi 4|1.9] [-cpu] [-term-after-ms N] CHUNK.msgpack...
 * Config files hold "key value" or "key=value" lines ('#' comments, '['
 * section lines skipped). -c is -conf under Fluent Bit's name for it: the
 * plugin reads that file as Fluent Bit's configuration (package flbconf).
 * -term-after-ms sets exit_signal to SIGTERM that long after the flushes
 * start, as Fluent Bit's signal handler does (src/fluent-bit.c).
 * Prints one JSON summary line on stdout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <ctype.h>
#include <signal.h>

#define FLB_ERROR 0
#define FLB_OK    1
#define FLB_RETRY 2

/* include/fluent-bit/flb_plugin_proxy.h */
struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type; /* v2.x+; absent in fluent-bit-go's copy, zeroed here */
};

/* include/fluent-bit/flb_api.h (v4.x). 1.9 has only the first two. */
struct flb_api {
    char *(*output_get_property) (char *, void *);
    char *(*input_get_property) (char *, void *);
    void *(*output_get_cmt_instance) (void *);
    void *(*input_get_cmt_instance) (void *);
    void (*log_print) (int, const char*, int, const char*, ...);
    int (*input_log_check) (void *, int);
    int (*output_log_check) (void *, int);
    char *(*custom_get_property) (char *, void *);
    int (*custom_log_check) (void *, int);
};
struct flb_api_19 {
    char *(*output_get_property) (char *, void *);
    char *(*input_get_property) (char *, void *);
};

struct flb_plugin_proxy_context {
    void *remote_context;
};

/* src/proxy/go/go.h */
struct flbgo_output_plugin {
    void *_;
    void *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
};

typedef int (*register_fn)(void *);
typedef int (*init_fn)(void *);
typedef int (*flush_ctx_fn)(void *, const void *, int, char *);
typedef int (*exit_ctx_fn)(void *);
typedef void (*unregister_fn)(void *);

#define MAX_PROPS 128
struct instance {
    char *keys[MAX_PROPS];
    char *vals[MAX_PROPS];
    int nprops;
    char *path;
    struct flbgo_output_plugin plugin;
    struct flb_plugin_proxy_context ctx;
    int ok;
};

struct chunk {
    char *path;
    unsigned char *data;
    size_t size;
};

#define MAX_INST 16
static struct instance insts[MAX_INST];
static int ninst;
static struct chunk *chunks;
static int nchunks;
static int repeat = 1, retry_limit = 1, retry_wait_ms = 20;
static const char *tag = "app-firelens-0123456789abcdef";
static flush_ctx_fn flush_ctx;

/* Fluent Bit's main exports these (the binary is linked with its symbols
 * exported, as flbhost is with -rdynamic): the plugin watches exit_signal
 * to learn that Fluent Bit stops. */
volatile sig_atomic_t exit_signal = 0;
int flb_engine_exit(void *config) { (void) config; return 0; }
static int term_after_ms = -1;

static void *terminator(void *arg)
{
    (void) arg;
    struct timespec ts = {term_after_ms / 1000, (long) (term_after_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    exit_signal = SIGTERM;
    return NULL;
}

/* the work queue shared by the workers: (instance, chunk, round) */
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static long next_job, total_jobs;
static long n_calls, n_ok, n_retry, n_error, n_dropped, n_gaveup, n_other;

/* Keys Fluent Bit's core consumes for every output (flb_output_set_property):
 * they never reach a proxy plugin's properties. */
static int core_key(const char *k)
{
    static const char *exact[] = {"host", "port", "tls", "workers", "retry_limit", "match",
        "match_regex", "alias", "log_level", "log_suppress_interval", "ipv6", "name", NULL};
    static const char *prefix[] = {"tls.", "net.", "storage.", NULL};
    for (int i = 0; exact[i]; i++)
        if (strcasecmp(k, exact[i]) == 0) return 1;
    for (int i = 0; prefix[i]; i++)
        if (strncasecmp(k, prefix[i], strlen(prefix[i])) == 0) return 1;
    return 0;
}

static char *get_property(char *key, void *o_ins)
{
    struct instance *in = o_ins;
    if (core_key(key)) return NULL;
    for (int i = 0; i < in->nprops; i++)
        if (strcasecmp(in->keys[i], key) == 0) return in->vals[i];
    return NULL;
}
static char *no_property(char *key, void *ins) { (void) key; (void) ins; return NULL; }
static void *no_cmt(void *ins) { (void) ins; return NULL; }
static void log_print(int level, const char *file, int line, const char *fmt, ...) { (void) level; (void) file; (void) line; (void) fmt; }
static int log_check(void *ins, int level) { (void) ins; (void) level; return 1; }

static struct flb_api api4 = {get_property, no_property, no_cmt, no_cmt, log_print, log_check, log_check, no_property, log_check};
static struct flb_api_19 api19 = {get_property, no_property};

static char *trim(char *s)
{
    while (isspace((unsigned char) *s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1])) *--e = 0;
    return s;
}

static int load_conf(struct instance *in, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "flbhost: %s: %s\n", path, strerror(errno)); return -1; }
    char line[8192];
    in->path = strdup(path);
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s || *s == '#' || *s == '[') continue;
        char *sep = strpbrk(s, "= \t");
        if (!sep) continue;
        *sep = 0;
        char *v = trim(sep + 1);
        if (*v == '=') v = trim(v + 1);
        if (in->nprops < MAX_PROPS) {
            in->keys[in->nprops] = strdup(trim(s));
            in->vals[in->nprops] = strdup(v);
            in->nprops++;
        }
    }
    fclose(f);
    return 0;
}

static int load_chunk(struct chunk *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "flbhost: %s: %s\n", path, strerror(errno)); return -1; }
    struct stat st;
    fstat(fileno(f), &st);
    c->path = strdup(path);
    c->size = (size_t) st.st_size;
    c->data = malloc(c->size ? c->size : 1);
    if (c->size && fread(c->data, 1, c->size, f) != c->size) { fclose(f); return -1; }
    fclose(f);
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
    (void) arg;
    for (;;) {
        pthread_mutex_lock(&qmu);
        long job = next_job++;
        pthread_mutex_unlock(&qmu);
        if (job >= total_jobs) return NULL;
        struct instance *in = &insts[job % ninst];
        struct chunk *c = &chunks[(job / ninst) % nchunks];
        if (!in->ok) continue;
        for (int attempt = 0;; attempt++) {
            /* A fresh copy per call, as Fluent Bit hands out chunk memory it owns. */
            unsigned char *buf = malloc(c->size ? c->size : 1);
            memcpy(buf, c->data, c->size);
            char tagbuf[256];
            snprintf(tagbuf, sizeof tagbuf, "%s", tag);
            int ret = flush_ctx(in->ctx.remote_context, buf, (int) c->size, tagbuf);
            memset(buf, 0xAA, c->size);
            memset(tagbuf, 0xAA, sizeof tagbuf);
            free(buf);
            pthread_mutex_lock(&qmu);
            n_calls++;
            if (ret == FLB_OK) n_ok++;
            else if (ret == FLB_RETRY) n_retry++;
            else if (ret == FLB_ERROR) n_error++;
            else n_other++;
            pthread_mutex_unlock(&qmu);
            if (ret == FLB_RETRY && (retry_limit < 0 || attempt < retry_limit)) {
                sleep_ms(retry_wait_ms);
                continue;
            }
            pthread_mutex_lock(&qmu);
            if (ret == FLB_RETRY) n_gaveup++;
            else if (ret != FLB_OK) n_dropped++;
            pthread_mutex_unlock(&qmu);
            break;
        }
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* status_kb reads one memory figure of /proc/self/status ("VmRSS: %ld kB"
 * for the resident set now, "VmHWM: %ld kB" for its peak), 0 if unknown.
 * VmHWM rather than getrusage's ru_maxrss: the latter survives exec, so a
 * child of a large parent (the bench) would report the parent's peak. */
static long status_kb(const char *fmt)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kb) == 1) break;
    fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    const char *so = NULL;
    const char *abi = "4";
    int workers = 1, want_cpu = 0;
    chunks = calloc((size_t) argc, sizeof *chunks);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-so") && more) so = argv[++i];
        else if ((!strcmp(a, "-conf") || !strcmp(a, "-c")) && more) {
            if (ninst == MAX_INST || load_conf(&insts[ninst++], argv[++i]) < 0) return 2;
        }
        else if (!strcmp(a, "-workers") && more) workers = atoi(argv[++i]);
        else if (!strcmp(a, "-retry-limit") && more) retry_limit = atoi(argv[++i]);
        else if (!strcmp(a, "-retry-wait-ms") && more) retry_wait_ms = atoi(argv[++i]);
        else if (!strcmp(a, "-repeat") && more) repeat = atoi(argv[++i]);
        else if (!strcmp(a, "-tag") && more) tag = argv[++i];
        else if (!strcmp(a, "-abi") && more) abi = argv[++i];
        else if (!strcmp(a, "-cpu")) want_cpu = 1;
        else if (!strcmp(a, "-term-after-ms") && more) term_after_ms = atoi(argv[++i]);
        else if (a[0] == '-') { fprintf(stderr, "flbhost: unknown flag %s\n", a); return 2; }
        else if (load_chunk(&chunks[nchunks++], a) < 0) return 2;
    }
    if (!so || ninst == 0) {
        fprintf(stderr, "usage: flbhost -so PLUGIN.so -conf FILE [-conf FILE...] [-workers N] [-retry-limit N|-1] "
                        "[-retry-wait-ms N] [-repeat N] [-tag TAG] [-abi 4|1.9] [-cpu] CHUNK...\n");
        return 2;
    }
    if (workers < 1) workers = 1;
    /* Resident memory once the chunks are loaded: the peak beyond it is the
     * plugin's (and the Go runtime's) own. */
    long loaded_rss_kb = status_kb("VmRSS: %ld kB");

    /* flb_plugin_proxy_create: dlopen + FLBPluginRegister */
    void *h = dlopen(so, RTLD_LAZY);
    if (!h) { fprintf(stderr, "flbhost: dlopen: %s\n", dlerror()); return 3; }
    register_fn reg = (register_fn) dlsym(h, "FLBPluginRegister");
    init_fn init = (init_fn) dlsym(h, "FLBPluginInit");
    flush_ctx = (flush_ctx_fn) dlsym(h, "FLBPluginFlushCtx");
    exit_ctx_fn exitctx = (exit_ctx_fn) dlsym(h, "FLBPluginExitCtx");
    unregister_fn unreg = (unregister_fn) dlsym(h, "FLBPluginUnregister");
    if (!reg || !init || !flush_ctx) { fprintf(stderr, "flbhost: missing FLBPluginRegister/Init/FlushCtx\n"); return 3; }
    struct flb_plugin_proxy_def *def = calloc(1, sizeof *def);
    if (reg(def) != 0 || def->type != 2 || def->proxy != 11 || !def->name) {
        fprintf(stderr, "flbhost: FLBPluginRegister failed (type=%d proxy=%d)\n", def->type, def->proxy);
        return 3;
    }
    fprintf(stderr, "flbhost: registered output '%s' (%s)\n", def->name, def->description ? def->description : "");

    /* proxy_go_output_init per [OUTPUT] instance */
    int init_failed = 0;
    for (int i = 0; i < ninst; i++) {
        struct instance *in = &insts[i];
        in->plugin.api = strcmp(abi, "1.9") == 0 ? (void *) &api19 : (void *) &api4;
        in->plugin.o_ins = in;
        in->plugin.context = &in->ctx;
        int ret = init(&in->plugin);
        in->ok = ret > 0 && in->ctx.remote_context != NULL;
        if (!in->ok) {
            fprintf(stderr, "flbhost: [go proxy]: plugin '%s' failed to initialize (%s)\n", def->name, in->path);
            init_failed++;
        }
    }

    double t0 = now_ms();
    total_jobs = (long) ninst * nchunks * repeat;
    pthread_t term;
    if (term_after_ms >= 0) pthread_create(&term, NULL, terminator, NULL);
    pthread_t *th = calloc((size_t) workers, sizeof *th);
    for (int i = 0; i < workers; i++) pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < workers; i++) pthread_join(th[i], NULL);
    double t1 = now_ms();

    for (int i = 0; i < ninst; i++)
        if (insts[i].ok && exitctx) exitctx(insts[i].ctx.remote_context);
    double t2 = now_ms();
    if (unreg) unreg(def);

    printf("{\"chunks\":%ld,\"calls\":%ld,\"ok\":%ld,\"retry\":%ld,\"error\":%ld,\"other\":%ld,\"dropped\":%ld,"
           "\"gave_up\":%ld,\"init_failed\":%d,\"flush_ms\":%.1f,\"exit_ms\":%.1f",
           total_jobs, n_calls, n_ok, n_retry, n_error, n_other, n_dropped, n_gaveup, init_failed, t1 - t0, t2 - t1);
    if (want_cpu) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf(",\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f,\"max_rss_kb\":%ld,\"loaded_rss_kb\":%ld",
               ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, status_kb("VmHWM: %ld kB"),
               loaded_rss_kb);
    }
    printf("}\n");
    fflush(stdout);
    return init_failed ? 1 : 0;
}

/*
 * Checks fluentbit.c's reading of a Fluent Bit 1.9 output instance
 * (v19_head_ok, v19_cmt, ddgo_log_level) against fake instances: laid out
 * as 1.9.10's header says, with an Alias, laid out otherwise, and with
 * garbage where the metrics context should be. It exports the functions
 * fluentbit.c looks up (build with -rdynamic), as Fluent Bit 1.9 does:
 * flb_output_name and the cmetrics ones, not flb_output_log_check nor
 * flb_output_get_cmt_instance. Prints "ok" or what failed.
 */
#include "../fluentbit.c"

#include <stdio.h>
#include <string.h>

static char *name_at; /* what flb_output_name returns */

const char *flb_output_name(void *ins) { (void) ins; return name_at; }
void *cmt_counter_create(void *c, char *a, char *b, char *n, char *h, int k, char **l) { (void) c; (void) a; (void) b; (void) n; (void) h; (void) k; (void) l; return NULL; }
void *cmt_gauge_create(void *c, char *a, char *b, char *n, char *h, int k, char **l) { (void) c; (void) a; (void) b; (void) n; (void) h; (void) k; (void) l; return NULL; }
int cmt_counter_set(void *m, uint64_t t, double v, int k, char **l) { (void) m; (void) t; (void) v; (void) k; (void) l; return 0; }
int cmt_gauge_set(void *m, uint64_t t, double v, int k, char **l) { (void) m; (void) t; (void) v; (void) k; (void) l; return 0; }

static int failed;
#define CHECK(cond, what) do { if (!(cond)) { printf("FAIL: %s\n", what); failed = 1; } } while (0)

int main(void)
{
    static char ins[1024] __attribute__((aligned(16)));
    static char cmt[64], counter[128], alias[] = "router_dd";
    void *plugin[4] = {NULL, NULL, ins, NULL}; /* struct flbgo_output_plugin */
    const char *why = NULL;

    ddgo_open();
    CHECK(output_name && !output_log_check && !output_get_cmt, "the fake exports what 1.9 exports");

    /* As 1.9.10's header says: name at 84, log_level 80, cmt 448 whose
     * first counter (456) points back to it. */
    strcpy(ins + V19_NAME, "datadog_go.0");
    name_at = ins + V19_NAME;
    *(int *) (ins + V19_LOG_LEVEL) = DDGO_LOG_WARN;
    *(void **) (ins + V19_CMT) = cmt;
    *(void **) (ins + V19_CMT_PROC_RECORDS) = counter;
    *(void **) (counter + V19_COUNTER_CMT) = cmt;
    CHECK(ddgo_instance_cmt(plugin, &why) == cmt, "1.9.10 layout: the instance's cmt");
    CHECK(ddgo_log_level(plugin) == DDGO_LOG_WARN, "1.9.10 layout: the instance's log_level");

    /* With an Alias, flb_output_name returns the alias pointer, stored at 120. */
    name_at = alias;
    *(char **) (ins + V19_ALIAS) = alias;
    CHECK(ddgo_instance_cmt(plugin, &why) == cmt, "alias: the instance's cmt");

    /* The counter does not point back: not a cmt. */
    *(void **) (counter + V19_COUNTER_CMT) = counter;
    CHECK(ddgo_instance_cmt(plugin, &why) == NULL && why, "no back pointer: no cmt");

    /* Garbage where the counter pointer should be: an unmapped address is
     * read through a pipe, never dereferenced. */
    *(void **) (ins + V19_CMT_PROC_RECORDS) = (void *) 16;
    CHECK(ddgo_instance_cmt(plugin, &why) == NULL, "unmapped counter pointer: no cmt, no fault");

    /* Laid out otherwise (the name elsewhere): neither level nor cmt is read. */
    *(void **) (ins + V19_CMT_PROC_RECORDS) = counter;
    *(void **) (counter + V19_COUNTER_CMT) = cmt;
    *(char **) (ins + V19_ALIAS) = NULL;
    name_at = ins + V19_NAME + 8;
    CHECK(ddgo_instance_cmt(plugin, &why) == NULL, "other layout: no cmt");
    CHECK(ddgo_log_level(plugin) == -1, "other layout: level unknown (no logging worker here)");

    if (!failed) {
        printf("ok\n");
    }
    return failed;
}

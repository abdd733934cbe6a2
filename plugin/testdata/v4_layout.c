/*
 * Checks fluentbit.c's reading of what Fluent Bit 2.0.9 and later keep
 * from a Go output (ddgo_log_suppress_interval, ddgo_find_gauge) against
 * fake instances and metrics contexts: laid out as 4.2.8's and 5.1.1's
 * headers say, with an Alias, laid out otherwise, and with garbage
 * pointers. It exports what those lines export (build with -rdynamic):
 * flb_output_name, flb_output_log_check, flb_output_get_cmt_instance.
 * Prints "ok" or what failed.
 */
#include "../fluentbit.c"

#include <stdio.h>
#include <string.h>

static char *name_at; /* what flb_output_name returns */
static int level_is;  /* the level flb_output_log_check holds */

const char *flb_output_name(void *ins) { (void) ins; return name_at; }
int flb_output_log_check(void *ins, int l) { (void) ins; return l <= level_is; }
void *flb_output_get_cmt_instance(void *ins) { (void) ins; return NULL; }

static int failed;
#define CHECK(cond, what) do { if (!(cond)) { printf("FAIL: %s\n", what); failed = 1; } } while (0)

/* 4.2.8 and 5.1.1: { struct mk_event event; processor; int event_type, id,
 * log_level, log_suppress_interval; char name[32]; char *alias; ... } */
enum { NAME = 80 };

/* A gauge as cmetrics lays it out, linked into a context's gauges. */
struct fake_gauge {
    char *opts[5];
    int resource_index;
    void *map;
    void *cmt;
    void *head[2]; /* prev, next */
};

int main(void)
{
    static char ins[1024] __attribute__((aligned(16)));
    static char alias[] = "router_dd";
    void *plugin[4] = {NULL, NULL, ins, NULL};

    ddgo_open();
    CHECK(output_name && output_log_check, "the fake exports what 4.x exports");

    /* No Alias: the name field, the interval before it, the level before that. */
    strcpy(ins + NAME, "datadog_go.0");
    name_at = ins + NAME;
    level_is = DDGO_LOG_INFO;
    *(int *) (ins + NAME - 8) = DDGO_LOG_INFO;
    *(int *) (ins + NAME - 4) = 5;
    CHECK(ddgo_log_suppress_interval(plugin) == 5, "4.x layout: the interval");
    *(int *) (ins + NAME - 4) = -1;
    CHECK(ddgo_log_suppress_interval(plugin) == -1, "4.x layout: unset");

    /* An Alias: found where its pointer follows the name field. */
    *(int *) (ins + NAME - 4) = 30;
    *(char **) (ins + NAME + 32) = alias;
    name_at = alias;
    CHECK(ddgo_log_suppress_interval(plugin) == 30, "alias: the interval");

    /* The level before the interval is not the instance's: another layout. */
    level_is = DDGO_LOG_DEBUG;
    CHECK(ddgo_log_suppress_interval(plugin) == -2, "level mismatch: unknown");
    level_is = DDGO_LOG_INFO;

    /* No alias, but something follows the name field: not read. */
    name_at = ins + NAME;
    CHECK(ddgo_log_suppress_interval(plugin) == -2, "no alias but a pointer after the name: unknown");
    *(char **) (ins + NAME + 32) = NULL;
    CHECK(ddgo_log_suppress_interval(plugin) == 30, "no alias again: the interval");

    /* The name outside the instance and no alias pointer in it. */
    name_at = alias;
    *(char **) (ins + NAME + 32) = NULL;
    CHECK(ddgo_log_suppress_interval(plugin) == -2, "name nowhere: unknown");

    /* Gauges: a context with two, the second Fluent Bit's. */
    static char cmt[256] __attribute__((aligned(16)));
    static struct fake_gauge g1, g2;
    static char n1[] = "fluentbit_output_proc_bytes", n2[] = "fluentbit_output_upstream_total_connections";
    void **head = (void **) (cmt + CMT_GAUGES);
    CHECK(sizeof(struct fake_gauge) == GAUGE_HEAD + 16 && __builtin_offsetof(struct fake_gauge, cmt) == GAUGE_CMT,
          "the fake gauge is laid out as cmetrics'");
    g1.opts[4] = n1, g2.opts[4] = n2;
    g1.cmt = g2.cmt = cmt;
    head[1] = g1.head;          /* head -> g1 -> g2 -> head */
    g1.head[1] = g2.head;
    g2.head[1] = head;
    CHECK(ddgo_find_gauge(cmt, n2) == &g2, "the gauge by its full name");
    CHECK(ddgo_find_gauge(cmt, "fluentbit_output_upstream_busy_connections") == NULL, "a gauge not there");

    /* A gauge that does not point back to the context: the walk stops. */
    g1.cmt = g1.head;
    CHECK(ddgo_find_gauge(cmt, n2) == NULL, "no back pointer: nothing");
    g1.cmt = cmt;

    /* Garbage in the list: an unmapped next pointer is never followed. */
    g1.head[1] = (void *) 16;
    CHECK(ddgo_find_gauge(cmt, n2) == NULL, "unmapped next: nothing, no fault");
    /* A loop that never comes back to the head ends at the walk's bound. */
    g1.head[1] = g1.head;
    CHECK(ddgo_find_gauge(cmt, n2) == NULL, "a loop: nothing, and an end");

    if (!failed) {
        printf("ok\n");
    }
    return failed;
}

/* Fluent Bit's Go proxy ABI, as fluent-bit-go's output package declares it
 * (flb_plugin.h, flb_output.h) and Fluent Bit defines it
 * (include/fluent-bit/flb_plugin_proxy.h, src/proxy/go/go.h), the same in
 * 1.9.10, 4.2.8 and 5.1.1 (4.x appends event_type and 5.x config_map to the
 * definition, which Fluent Bit zeroes: flb_plugin_proxy_create callocs the
 * struct). Included by plugin/abi.go and benchmarks/null. */
#ifndef DDGO_PROXY_H
#define DDGO_PROXY_H

struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
};
struct flb_api {
    char *(*output_get_property)(char *, void *);
    char *_;
};
struct flb_plugin_proxy_context {
    void *remote_context;
};
struct flbgo_output_plugin {
    void *_;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
};

#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG        11
#define FLB_IO_OPT_TLS          4

#endif

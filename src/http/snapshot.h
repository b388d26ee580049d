/* snapshot: the pre-rendered bodies the API serves for one tick (internal to http/). */
#ifndef ARAS_HTTP_SNAPSHOT_H
#define ARAS_HTTP_SNAPSHOT_H

#include "http/http.h"

/* One host or VM: its name, its host (VMs), its JSON object. */
struct http_item {
    char name[MODEL_NAME_MAX];
    char host[MODEL_NAME_MAX];
    char *json;
};

struct http_snapshot {
    int refs; /* guarded by the server's lock; 0 until published */
    int64_t t_ms;
    char *status_json;
    struct http_item *hosts; /* sorted by name */
    size_t n_hosts;
    struct http_item *vms; /* sorted by name */
    size_t n_vms;
    char *hosts_json; /* {"t_ms":..,"hosts":[..]} */
    char *vms_json;   /* {"t_ms":..,"vms":[..]} */
    char *metrics;    /* Prometheus text */
};

/* The item called name, or NULL. */
const struct http_item *http_items_find(const struct http_item *items, size_t n, const char *name);
/* {"t_ms":T,"<key>":[items whose host is `host` (all when NULL)]}; caller frees. */
char *http_items_join(const struct http_item *items, size_t n, int64_t t_ms, const char *key,
                      const char *host);
/* Prometheus exposition text for the view (metrics.c); caller frees. */
char *http_metrics_render(const struct http_view *v);

#endif

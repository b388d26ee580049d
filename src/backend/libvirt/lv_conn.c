/* lv_conn: libvirt connections, one per host URI — open, name, reconnect,
 * error capture — and the driver's ops table. */
#include "backend/libvirt/libvirt_backend.h"
#include "backend/libvirt/lv.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

int lv_err(const struct lv_host *h, const char *vm, const char *what)
{
    virErrorPtr e = virGetLastError();
    const char *msg = e && e->message ? e->message : "unknown libvirt error";
    if (vm)
        err_set("%s: VM '%s': %s: %s", h->uri, vm, what, msg);
    else
        err_set("%s: %s: %s", h->uri, what, msg);
    virResetLastError();
    return -1;
}

int lv_uri_host(const char *uri, char *out, size_t out_size)
{
    const char *p = strstr(uri, "://");
    out[0] = '\0';
    if (!p)
        return 0;
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n > 0 && p[0] == '[') { /* [IPv6]:port */
        const char *close = memchr(p, ']', n);
        n = close ? (size_t)(close - p - 1) : n - 1;
        p++;
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n >= out_size)
        return err_set("host part of URI '%s' is longer than %zu characters", uri, out_size - 1);
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* The connection died (event-loop thread): poll() reconnects and reports it. */
static void lv_close_cb(virConnectPtr conn, int reason, void *opaque)
{
    struct lv_host *h = opaque;
    (void)conn;
    atomic_store(&h->drop_why, reason + 1);
    atomic_store(&h->dropped, true);
}

static const char *lv_drop_reason(const struct lv_host *h)
{
    static const char *const reasons[] = {"not answering", "connection error", "end of file",
                                          "keepalive timeout", "closed by client"};
    int r = atomic_load(&h->drop_why);
    return r >= 0 && (unsigned)r < ARRAY_LEN(reasons) ? reasons[r] : "connection lost";
}

/* Is this failure to connect the host being down (retry later) rather than a
 * wrong URI or configuration (report at open)? */
static bool lv_err_is_transient(void)
{
    virErrorPtr e = virGetLastError();
    return e && (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE);
}

/* Make c h's connection (lock held): keepalive, close callback, events. */
static void lv_host_setup(struct lv_host *h, virConnectPtr c)
{
    /* 5 s x 3: a dead host shows within ~20 s; test:// has no keepalive. */
    if (virConnectSetKeepAlive(c, 5, 3) < 0)
        virResetLastError();
    if (virConnectRegisterCloseCallback(c, lv_close_cb, h, NULL) < 0)
        virResetLastError();
    atomic_store(&h->dropped, false);
    atomic_store(&h->drop_why, 0);
    h->conn = c;
    lv_events_register(h, c);
}

/* Connect h (lock held). 0, or -1 with err_set() and *transient telling
 * whether the host looks down rather than misconfigured. */
static int lv_host_connect(struct lv_host *h, bool *transient)
{
    virConnectPtr c = virConnectOpen(h->uri);
    if (!c) {
        *transient = lv_err_is_transient();
        return lv_err(h, NULL, "cannot connect");
    }
    lv_host_setup(h, c);
    return 0;
}

/* Drop h's connection (lock held). */
static void lv_host_disconnect(struct lv_host *h)
{
    if (!h->conn)
        return;
    lv_events_deregister(h, h->conn);
    if (virConnectUnregisterCloseCallback(h->conn, lv_close_cb) < 0)
        virResetLastError();
    virConnectClose(h->conn);
    h->conn = NULL;
}

virConnectPtr lv_host_conn(struct lv_host *h)
{
    pthread_mutex_lock(&h->lock);
    virConnectPtr c = h->conn;
    if (c && virConnectRef(c) < 0)
        c = NULL;
    pthread_mutex_unlock(&h->lock);
    if (!c)
        err_set("%s: host '%s' is not connected", h->uri, h->name);
    return c;
}

static void *lv_reconnect_main(void *arg)
{
    struct lv_host *h = arg;
    virConnectPtr c = virConnectOpen(h->uri); /* may block: no lock held */
    if (!c) {
        lv_err(h, NULL, "cannot reconnect");
        log_debug("libvirt", "%s", err_msg());
    }
    pthread_mutex_lock(&h->lock);
    if (c) {
        lv_host_setup(h, c);
        h->retry_backoff_ms = 0;
        lv_event_push(h->lv, h->name, "", BACKEND_EVENT_HOST_UP, "reconnected");
    }
    h->connect_done = true;
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* Reap a finished reconnect thread (lock held). */
static void lv_reconnect_reap(struct lv_host *h, bool wait)
{
    if (!h->connecting || (!h->connect_done && !wait))
        return;
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->connect_thread, NULL);
    pthread_mutex_lock(&h->lock);
    h->connecting = false;
    h->connect_done = false;
}

bool lv_host_ensure(struct lv_host *h, int64_t now_ms)
{
    pthread_mutex_lock(&h->lock);
    lv_reconnect_reap(h, false);
    if (h->conn && (atomic_load(&h->dropped) || virConnectIsAlive(h->conn) != 1)) {
        virResetLastError();
        lv_event_push(h->lv, h->name, "", BACKEND_EVENT_HOST_DOWN, lv_drop_reason(h));
        lv_host_disconnect(h);
        h->retry_at_ms = now_ms; /* try again right away */
    }
    if (!h->conn && !h->connecting && now_ms >= h->retry_at_ms) {
        int64_t b = h->retry_backoff_ms ? h->retry_backoff_ms * 2 : LV_RECONNECT_MIN_MS;
        h->retry_backoff_ms = b > LV_RECONNECT_MAX_MS ? LV_RECONNECT_MAX_MS : b;
        h->retry_at_ms = now_ms + h->retry_backoff_ms;
        h->connect_done = false;
        h->connecting = pthread_create(&h->connect_thread, NULL, lv_reconnect_main, h) == 0;
    }
    bool up = h->conn != NULL;
    pthread_mutex_unlock(&h->lock);
    return up;
}

bool lv_host_up(struct lv_host *h)
{
    pthread_mutex_lock(&h->lock);
    bool up = h->conn != NULL && !atomic_load(&h->dropped);
    pthread_mutex_unlock(&h->lock);
    return up;
}

struct lv_host *lv_host_by_name(struct lv *lv, const char *name)
{
    for (size_t i = 0; i < lv->n_hosts; i++) {
        if (strcmp(lv->hosts[i].name, name) == 0)
            return &lv->hosts[i];
    }
    err_set("no host named '%s' in this cluster", name);
    return NULL;
}

/* How good a match d is: 2 running (or otherwise active and not the paused
 * incoming side of a migration), 1 active, 0 defined only. */
static int lv_domain_rank(virDomainPtr d)
{
    int st, reason;
    if (virDomainIsActive(d) != 1)
        return 0;
    if (virDomainGetState(d, &st, &reason, 0) == 0 && st == VIR_DOMAIN_PAUSED &&
        (reason == VIR_DOMAIN_PAUSED_MIGRATION || reason == VIR_DOMAIN_PAUSED_POSTCOPY))
        return 1;
    return 2;
}

virDomainPtr lv_domain_find(struct lv *lv, const char *vm, struct lv_host **host_out)
{
    virDomainPtr best = NULL;
    int best_rank = -1;
    for (size_t i = 0; i < lv->n_hosts && best_rank < 2; i++) {
        struct lv_host *h = &lv->hosts[i];
        pthread_mutex_lock(&h->lock);
        virDomainPtr d = h->conn ? virDomainLookupByName(h->conn, vm) : NULL;
        pthread_mutex_unlock(&h->lock);
        if (!d) {
            virResetLastError();
            continue;
        }
        int rank = lv_domain_rank(d);
        virResetLastError();
        if (rank > best_rank) {
            if (best)
                virDomainFree(best);
            best = d;
            best_rank = rank;
            *host_out = h;
        } else {
            virDomainFree(d);
        }
    }
    if (!best)
        err_set("VM '%s' not found on any connected host", vm);
    return best;
}

/* Name hosts: URI host part, else the host's own hostname; made unique. */
static int lv_host_name(struct lv *lv, struct lv_host *h)
{
    char base[MODEL_NAME_MAX];
    if (lv_uri_host(h->uri, base, sizeof(base)) < 0)
        return -1;
    if (!base[0] && h->conn) {
        char *hn = virConnectGetHostname(h->conn);
        if (!hn)
            return lv_err(h, NULL, "cannot read the host name");
        int rc = model_name_set(base, sizeof(base), hn);
        free(hn);
        if (rc < 0)
            return -1;
    }
    if (!base[0])
        snprintf(base, sizeof(base), "host%zu", (size_t)(h - lv->hosts) + 1);
    snprintf(h->name, sizeof(h->name), "%s", base);
    for (unsigned k = 2;; k++) {
        bool taken = false;
        for (struct lv_host *o = lv->hosts; o < h; o++)
            taken = taken || strcmp(o->name, h->name) == 0;
        if (!taken)
            return 0;
        int n = snprintf(h->name, sizeof(h->name), "%s-%u", base, k);
        if (n < 0 || (size_t)n >= sizeof(h->name))
            return err_set("cannot make host name '%s' unique", base);
    }
}

int lv_open(struct backend *b, const char *const *uris, size_t n_uris)
{
    if (lv_events_start() < 0)
        return -1;
    struct lv *lv = xcalloc(1, sizeof(*lv));
    lv->b = b;
    b->priv = lv;
    pthread_mutex_init(&lv->ev_lock, NULL);
    pthread_mutex_init(&lv->job_lock, NULL);
    lv->ev = xcalloc(LV_EVENT_QUEUE_MAX, sizeof(*lv->ev));
    lv->hosts = xcalloc(n_uris, sizeof(*lv->hosts));
    int64_t now = clock_mono_ms(b->clock);
    for (size_t i = 0; i < n_uris; i++) {
        struct lv_host *h = &lv->hosts[i];
        h->lv = lv;
        pthread_mutex_init(&h->lock, NULL);
        pthread_mutex_init(&h->memcaps_lock, NULL);
        strmap_init(&h->memcaps);
        lv->n_hosts = i + 1;
        if (model_name_set(h->uri, sizeof(h->uri), uris[i]) < 0)
            goto fail;
        bool transient = false;
        if (lv_host_connect(h, &transient) < 0) {
            if (!transient)
                goto fail;
            /* Down now: listed with up = false, retried by poll(). */
            h->retry_backoff_ms = LV_RECONNECT_MIN_MS;
            h->retry_at_ms = now + h->retry_backoff_ms;
        }
        if (lv_host_name(lv, h) < 0)
            goto fail;
    }
    return 0;
fail:
    lv_close(b);
    return -1;
}

void lv_close(struct backend *b)
{
    struct lv *lv = lv_of(b);
    if (!lv)
        return;
    for (size_t i = 0; i < lv->n_hosts; i++) {
        pthread_mutex_lock(&lv->hosts[i].lock);
        lv_reconnect_reap(&lv->hosts[i], true);
        lv_host_disconnect(&lv->hosts[i]);
        pthread_mutex_unlock(&lv->hosts[i].lock);
    }
    /* Stop the event thread before freeing what its callbacks point to. */
    lv_events_stop();
    for (size_t i = 0; i < lv->n_hosts; i++) {
        lv_mem_cache_free(&lv->hosts[i]);
        pthread_mutex_destroy(&lv->hosts[i].memcaps_lock);
        pthread_mutex_destroy(&lv->hosts[i].lock);
    }
    pthread_mutex_destroy(&lv->ev_lock);
    pthread_mutex_destroy(&lv->job_lock);
    free(lv->hosts);
    free(lv->ev);
    free(lv);
    b->priv = NULL;
}

const struct backend_ops backend_libvirt_ops = {
    .name = "libvirt",
    .open = lv_open,
    .close = lv_close,
    .poll = lv_poll,
    .set_vcpus = lv_set_vcpus,
    .set_memory = lv_set_memory,
    .attach_disk = lv_attach_disk,
    .migrate = lv_migrate,
    .migrate_progress = lv_migrate_progress,
    .migrate_abort = lv_migrate_abort,
    .migrate_start_postcopy = lv_migrate_start_postcopy,
    .dirty_rate_start = lv_dirty_rate_start,
    .drain_events = lv_drain_events,
    .vm_placement = lv_vm_placement,
};

/* lv_events: libvirt's default event loop on a background thread, domain
 * lifecycle and migration-iteration callbacks on every connection, and a
 * bounded thread-safe queue the loop drains (drain_events). */
#include "backend/libvirt/lv.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_init_rc;
static pthread_mutex_t lv_loop_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned lv_loop_users;
static pthread_t lv_loop_thread;
static atomic_bool lv_loop_quit;

/* libvirt prints every error to stderr unless a handler is set; we read the
 * thread's last error where the context is instead (lv_err). */
static void lv_silent_error(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

/* Process-wide, once: libvirt itself, the error handler, the event loop
 * implementation (must precede the first connection for keepalives and
 * events to work). */
static void lv_global_init(void)
{
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
        lv_init_rc = -1;
        return;
    }
    virSetErrorFunc(NULL, lv_silent_error);
}

static void *lv_loop_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&lv_loop_quit)) {
        if (virEventRunDefaultImpl() < 0)
            virResetLastError();
    }
    return NULL;
}

int lv_events_start(void)
{
    pthread_once(&lv_once, lv_global_init);
    if (lv_init_rc < 0)
        return err_set("cannot initialise libvirt or its event loop");
    int rc = 0;
    pthread_mutex_lock(&lv_loop_lock);
    if (lv_loop_users == 0) {
        atomic_store(&lv_loop_quit, false);
        if (pthread_create(&lv_loop_thread, NULL, lv_loop_main, NULL) != 0)
            rc = err_set("cannot start the libvirt event-loop thread");
    }
    if (rc == 0)
        lv_loop_users++;
    pthread_mutex_unlock(&lv_loop_lock);
    return rc;
}

static void lv_wake_cb(int timer, void *opaque)
{
    (void)opaque;
    virEventRemoveTimeout(timer);
}

void lv_events_stop(void)
{
    pthread_mutex_lock(&lv_loop_lock);
    if (lv_loop_users > 0 && --lv_loop_users == 0) {
        atomic_store(&lv_loop_quit, true);
        /* A zero timeout makes the loop's current iteration return. */
        if (virEventAddTimeout(0, lv_wake_cb, NULL, NULL) < 0)
            virResetLastError();
        pthread_join(lv_loop_thread, NULL);
    }
    pthread_mutex_unlock(&lv_loop_lock);
}

void lv_event_push(struct lv *lv, const char *host, const char *vm, enum backend_event_kind kind,
                   const char *detail)
{
    struct clock *c = lv->b->clock;
    pthread_mutex_lock(&lv->ev_lock);
    if (lv->ev_n == LV_EVENT_QUEUE_MAX) { /* full: drop the oldest */
        lv->ev_head = (lv->ev_head + 1) % LV_EVENT_QUEUE_MAX;
        lv->ev_n--;
        lv->ev_dropped++;
    }
    struct backend_event *e = &lv->ev[(lv->ev_head + lv->ev_n) % LV_EVENT_QUEUE_MAX];
    lv->ev_n++;
    memset(e, 0, sizeof(*e));
    /* A virtual clock belongs to the loop thread: stamp those at drain. */
    e->t_ms = clock_is_virtual(c) ? 0 : clock_now_ms(c);
    snprintf(e->host, sizeof(e->host), "%s", host);
    snprintf(e->vm, sizeof(e->vm), "%s", vm);
    e->kind = kind;
    snprintf(e->detail, sizeof(e->detail), "%s", detail);
    pthread_mutex_unlock(&lv->ev_lock);
}

int lv_drain_events(struct backend *b, struct backend_event *out, size_t max)
{
    struct lv *lv = lv_of(b);
    int64_t now = clock_now_ms(b->clock);
    size_t n = 0;
    pthread_mutex_lock(&lv->ev_lock);
    if (lv->ev_dropped > 0) { /* say so before the oldest event we still have */
        memset(&out[0], 0, sizeof(out[0]));
        out[0].t_ms = now;
        out[0].kind = BACKEND_EVENT_OTHER;
        snprintf(out[0].detail, sizeof(out[0].detail), "%llu events dropped (queue full)",
                 (unsigned long long)lv->ev_dropped);
        lv->ev_dropped = 0;
        n = 1;
    }
    while (n < max && lv->ev_n > 0 && n < (size_t)INT32_MAX) {
        out[n] = lv->ev[lv->ev_head];
        if (out[n].t_ms == 0)
            out[n].t_ms = now;
        lv->ev_head = (lv->ev_head + 1) % LV_EVENT_QUEUE_MAX;
        lv->ev_n--;
        n++;
    }
    pthread_mutex_unlock(&lv->ev_lock);
    return (int)n;
}

static const char *lv_event_detail(int event, int detail)
{
    static const char *const started[] = {"booted",        "migrated", "restored",
                                          "from snapshot", "wakeup",   "recreated"};
    static const char *const stopped[] = {"shutdown", "destroyed", "crashed",      "migrated",
                                          "saved",    "failed",    "from snapshot"};
    static const char *const suspended[] = {"paused",    "migrated", "ioerror",
                                            "watchdog",  "restored", "from snapshot",
                                            "api error", "postcopy", "postcopy failed"};
    static const char *const resumed[] = {"unpaused", "migrated", "from snapshot", "postcopy",
                                          "postcopy failed"};
    static const char *const defined[] = {"added", "updated", "renamed", "from snapshot"};
    static const char *const undefined[] = {"removed", "renamed"};
#define PICK(t) return (unsigned)detail < ARRAY_LEN(t) ? t[detail] : ""
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        PICK(started);
    case VIR_DOMAIN_EVENT_STOPPED:
        PICK(stopped);
    case VIR_DOMAIN_EVENT_SUSPENDED:
        PICK(suspended);
    case VIR_DOMAIN_EVENT_RESUMED:
        PICK(resumed);
    case VIR_DOMAIN_EVENT_DEFINED:
        PICK(defined);
    case VIR_DOMAIN_EVENT_UNDEFINED:
        PICK(undefined);
    default:
        return "";
    }
#undef PICK
}

static int lv_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                           void *opaque)
{
    struct lv_host *h = opaque;
    (void)conn;
    static const enum backend_event_kind kinds[] = {
        [VIR_DOMAIN_EVENT_DEFINED] = BACKEND_EVENT_DEFINED,
        [VIR_DOMAIN_EVENT_UNDEFINED] = BACKEND_EVENT_UNDEFINED,
        [VIR_DOMAIN_EVENT_STARTED] = BACKEND_EVENT_STARTED,
        [VIR_DOMAIN_EVENT_SUSPENDED] = BACKEND_EVENT_SUSPENDED,
        [VIR_DOMAIN_EVENT_RESUMED] = BACKEND_EVENT_RESUMED,
        [VIR_DOMAIN_EVENT_STOPPED] = BACKEND_EVENT_STOPPED,
        [VIR_DOMAIN_EVENT_SHUTDOWN] = BACKEND_EVENT_SHUTDOWN,
        [VIR_DOMAIN_EVENT_PMSUSPENDED] = BACKEND_EVENT_PMSUSPENDED,
        [VIR_DOMAIN_EVENT_CRASHED] = BACKEND_EVENT_CRASHED,
    };
    enum backend_event_kind k =
        (unsigned)event < ARRAY_LEN(kinds) ? kinds[event] : BACKEND_EVENT_OTHER;
    const char *name = virDomainGetName(dom);
    lv_event_push(h->lv, h->name, name ? name : "?", k, lv_event_detail(event, detail));
    return 0;
}

static void lv_migiter_cb(virConnectPtr conn, virDomainPtr dom, int iteration, void *opaque)
{
    struct lv_host *h = opaque;
    (void)conn;
    char detail[32];
    snprintf(detail, sizeof(detail), "iteration %d", iteration);
    const char *name = virDomainGetName(dom);
    lv_event_push(h->lv, h->name, name ? name : "?", BACKEND_EVENT_MIGRATION_ITERATION, detail);
}

void lv_events_register(struct lv_host *h, virConnectPtr conn)
{
    h->cb_lifecycle =
        virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(lv_lifecycle_cb), h, NULL);
    if (h->cb_lifecycle < 0)
        virResetLastError(); /* the host still works, only without events */
    h->cb_migiter =
        virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                                         VIR_DOMAIN_EVENT_CALLBACK(lv_migiter_cb), h, NULL);
    if (h->cb_migiter < 0)
        virResetLastError();
}

void lv_events_deregister(struct lv_host *h, virConnectPtr conn)
{
    if (h->cb_lifecycle >= 0 && virConnectDomainEventDeregisterAny(conn, h->cb_lifecycle) < 0)
        virResetLastError();
    if (h->cb_migiter >= 0 && virConnectDomainEventDeregisterAny(conn, h->cb_migiter) < 0)
        virResetLastError();
    h->cb_lifecycle = h->cb_migiter = -1;
}

/* lv_migrate: live migration with typed parameters, peer-to-peer, watched by a
 * thread that applies the max downtime once the job runs, switches to
 * post-copy after postcopy_after_ms and aborts at timeout_ms; progress from job
 * stats; and the "exactly once" placement check after every migration. */
#include "backend/libvirt/lv.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define LV_WATCH_PERIOD_MS 200

struct lv_job {
    struct lv_job *next;
    char vm[MODEL_NAME_MAX];
    struct lv_host *src;
    virDomainPtr dom; /* on the source connection */
    const struct migrate_params *p;
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t cond;
    bool done, downtime_set, postcopy_started, timeout_seen;
    bool abort_pending;       /* an abort waits for the transfer to begin */
    bool timed_out;           /* aborted at timeout_ms */
    bool aborted;             /* aborted by migrate_abort() */
    int64_t running_since_ms; /* watcher's clock when the job first ran, -1 before */
    struct migrate_progress last;
};

/* Running jobs by VM name (job_lock held by the caller). */
static struct lv_job *lv_job_find(struct lv *lv, const char *vm)
{
    for (struct lv_job *j = lv->jobs; j; j = j->next) {
        if (strcmp(j->vm, vm) == 0)
            return j;
    }
    return NULL;
}

int lv_job_stats(virDomainPtr d, unsigned flags, struct migrate_progress *out)
{
    int type = 0, n = 0;
    virTypedParameterPtr params = NULL;
    if (virDomainGetJobStats(d, &type, &params, &n, flags) < 0)
        return -1;
    unsigned long long v;
    memset(out, 0, sizeof(*out));
    out->downtime_ms = -1;
    switch (type) {
    case VIR_DOMAIN_JOB_BOUNDED:
    case VIR_DOMAIN_JOB_UNBOUNDED:
        out->state = MIGRATE_JOB_RUNNING;
        break;
    case VIR_DOMAIN_JOB_COMPLETED:
        out->state = MIGRATE_JOB_COMPLETED;
        break;
    case VIR_DOMAIN_JOB_FAILED:
        out->state = MIGRATE_JOB_FAILED;
        break;
    case VIR_DOMAIN_JOB_CANCELLED:
        out->state = MIGRATE_JOB_CANCELLED;
        break;
    default:
        out->state = MIGRATE_JOB_NONE;
        break;
    }
#define GET(field, dst)                                                                            \
    if (virTypedParamsGetULLong(params, n, field, &v) == 1)                                        \
    dst = v
    GET(VIR_DOMAIN_JOB_TIME_ELAPSED, out->elapsed_ms);
    GET(VIR_DOMAIN_JOB_DOWNTIME, out->downtime_ms);
    GET(VIR_DOMAIN_JOB_DATA_TOTAL, out->data_total_bytes);
    GET(VIR_DOMAIN_JOB_DATA_PROCESSED, out->data_processed_bytes);
    GET(VIR_DOMAIN_JOB_DATA_REMAINING, out->data_remaining_bytes);
    GET(VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, out->mem_dirty_rate_pages_s);
    GET(VIR_DOMAIN_JOB_MEMORY_ITERATION, out->iterations);
#undef GET
    virTypedParamsFree(params, n);
    return 0;
}

/* What the watcher does after one look (decided under the job's lock). */
struct lv_watch_acts {
    bool set_downtime, go_postcopy, abort, timeout_in_postcopy;
};

/* Decide the timed actions (j->lock held). They wait until QEMU is actually
 * transferring (data_total known): libvirt 9.0 was seen to hang for good when
 * a p2p job was aborted in its setup phase, and downtime / post-copy only
 * apply to an active migration. Post-copy comes after postcopy_after_ms of
 * transfer; the timeout counts from the call (an abort it asks for waits for
 * the transfer to begin, like one from migrate_abort()). */
static struct lv_watch_acts lv_watch_decide(struct lv_job *j, const struct migrate_progress *pr,
                                            int64_t elapsed_ms)
{
    const struct migrate_params *p = j->p;
    struct lv_watch_acts a = {0};
    bool moving = pr->state == MIGRATE_JOB_RUNNING && pr->data_total_bytes > 0 && !j->done;
    if (moving && j->running_since_ms < 0)
        j->running_since_ms = elapsed_ms;
    if (p->timeout_ms > 0 && elapsed_ms >= p->timeout_ms && !j->timeout_seen) {
        j->timeout_seen = true;
        if (pr->postcopy_active) /* post-copy cannot be undone */
            a.timeout_in_postcopy = true;
        else
            j->timed_out = j->abort_pending = true;
    }
    if (!moving)
        return a;
    a.set_downtime = p->max_downtime_ms > 0 && !j->downtime_set;
    a.go_postcopy = p->postcopy && p->postcopy_after_ms > 0 && !j->postcopy_started &&
                    !j->abort_pending && elapsed_ms - j->running_since_ms >= p->postcopy_after_ms;
    a.abort = j->abort_pending && !pr->postcopy_active;
    j->downtime_set |= a.set_downtime;
    j->postcopy_started |= a.go_postcopy;
    if (a.abort) {
        j->abort_pending = false;
        j->aborted |= !j->timed_out; /* asked for by migrate_abort() */
    }
    return a;
}

/* One look at a running job: progress, then the timed actions. */
static void lv_watch_once(struct lv_job *j, int64_t elapsed_ms)
{
    struct migrate_progress pr;
    if (lv_job_stats(j->dom, 0, &pr) < 0) {
        virResetLastError();
        return;
    }
    int st, reason;
    if (virDomainGetState(j->dom, &st, &reason, 0) == 0)
        pr.postcopy_active = st == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_POSTCOPY;
    virResetLastError();
    pthread_mutex_lock(&j->lock);
    pr.postcopy_active = pr.postcopy_active || j->postcopy_started;
    j->last = pr;
    struct lv_watch_acts a = lv_watch_decide(j, &pr, elapsed_ms);
    pthread_mutex_unlock(&j->lock);
    /* No typed max-downtime parameter in libvirt 9.0: set it on the running job. */
    if (a.set_downtime &&
        virDomainMigrateSetMaxDowntime(j->dom, (unsigned long long)j->p->max_downtime_ms, 0) < 0) {
        lv_err(j->src, j->vm, "setting max downtime");
        log_warn("libvirt", "%s", err_msg());
    }
    if (a.go_postcopy && virDomainMigrateStartPostCopy(j->dom, 0) < 0) {
        lv_err(j->src, j->vm, "switching to post-copy");
        log_warn("libvirt", "%s", err_msg());
    }
    if (a.timeout_in_postcopy)
        log_warn("libvirt", "%s: VM '%s': migration timed out in post-copy; cannot abort",
                 j->src->uri, j->vm);
    if (a.abort && virDomainAbortJob(j->dom) < 0) {
        lv_err(j->src, j->vm, "aborting the migration");
        log_warn("libvirt", "%s", err_msg());
    }
}

static void *lv_watch_main(void *arg)
{
    struct lv_job *j = arg;
    struct clock rc;
    clock_init_real(&rc);
    int64_t start = clock_mono_ms(&rc);
    pthread_mutex_lock(&j->lock);
    while (!j->done) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += LV_WATCH_PERIOD_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&j->cond, &j->lock, &ts);
        if (j->done)
            break;
        pthread_mutex_unlock(&j->lock);
        lv_watch_once(j, clock_mono_ms(&rc) - start);
        pthread_mutex_lock(&j->lock);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* Typed parameters and flags from p. -1 (err_set) on a bad value. */
static int lv_migrate_args(const struct lv_host *dst, const struct migrate_params *p,
                           virTypedParameterPtr *params, int *n, unsigned *flags)
{
    int max = 0;
    *flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
             VIR_MIGRATE_UNDEFINE_SOURCE;
    int rc = 0;
    if (p->dest_uri[0])
        rc |= virTypedParamsAddString(params, n, &max, VIR_MIGRATE_PARAM_URI, p->dest_uri);
    if (p->bandwidth_bytes_per_s > 0) { /* libvirt takes MiB/s */
        double mib = ceil(p->bandwidth_bytes_per_s / (1024.0 * 1024.0));
        rc |= virTypedParamsAddULLong(params, n, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
                                      (unsigned long long)mib);
    }
    if (p->parallel_connections > 1) {
        if (p->parallel_connections > 255)
            return err_set("%s: %u parallel connections is out of range (2..255)", dst->uri,
                           p->parallel_connections);
        *flags |= VIR_MIGRATE_PARALLEL;
        rc |= virTypedParamsAddInt(params, n, &max, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                                   (int)p->parallel_connections);
    }
    if (p->compress) {
        *flags |= VIR_MIGRATE_COMPRESSED;
        if (!(*flags & VIR_MIGRATE_PARALLEL)) /* multifd takes no xbzrle */
            rc |= virTypedParamsAddString(params, n, &max, VIR_MIGRATE_PARAM_COMPRESSION, "xbzrle");
    }
    if (p->auto_converge)
        *flags |= VIR_MIGRATE_AUTO_CONVERGE;
    if (p->postcopy)
        *flags |= VIR_MIGRATE_POSTCOPY;
    if (p->storage == STORAGE_COPY_ALL)
        *flags |= VIR_MIGRATE_NON_SHARED_DISK;
    else if (p->storage == STORAGE_COPY_INC)
        *flags |= VIR_MIGRATE_NON_SHARED_INC;
    if (rc < 0)
        return lv_err(dst, NULL, "building migration parameters");
    return 0;
}

/* Final stats: the destination keeps the completed job's statistics after a
 * successful migration; the source after a failed one. */
static void lv_final_stats(struct lv_host *dst, virDomainPtr src_dom, bool ok,
                           struct migrate_progress *out)
{
    struct migrate_progress pr;
    bool have = false;
    if (ok) {
        virConnectPtr c = lv_host_conn(dst);
        unsigned char uuid[VIR_UUID_BUFLEN];
        if (c && virDomainGetUUID(src_dom, uuid) == 0) {
            virDomainPtr d = virDomainLookupByUUID(c, uuid);
            have = d && lv_job_stats(d, VIR_DOMAIN_JOB_STATS_COMPLETED, &pr) == 0;
            if (d)
                virDomainFree(d);
        }
        if (c)
            virConnectClose(c);
    }
    if (!have)
        have = lv_job_stats(src_dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &pr) == 0;
    virResetLastError();
    if (have && pr.state != MIGRATE_JOB_NONE) {
        pr.state = out->state; /* what the call itself returned decides */
        pr.postcopy_active = out->postcopy_active;
        if (pr.elapsed_ms == 0)
            pr.elapsed_ms = out->elapsed_ms;
        *out = pr;
    }
}

/* Run the blocking migration call with the watcher alongside; 0 or -1 with
 * err_set(); *timed_out tells whether the watcher aborted it. */
static int lv_migrate_run(struct lv *lv, struct lv_job *j, struct lv_host *dst,
                          virTypedParameterPtr params, int n, unsigned flags, bool *timed_out)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->lock, NULL);
    pthread_mutex_lock(&lv->job_lock);
    j->next = lv->jobs;
    lv->jobs = j;
    pthread_mutex_unlock(&lv->job_lock);
    pthread_t watcher;
    bool watching = pthread_create(&watcher, NULL, lv_watch_main, j) == 0;
    int rc = 0;
    if (virDomainMigrateToURI3(j->dom, dst->uri, params, (unsigned)n, flags) < 0)
        rc = lv_err(j->src, j->vm, "migrating");
    pthread_mutex_lock(&j->lock);
    j->done = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (watching)
        pthread_join(watcher, NULL);
    pthread_mutex_lock(&lv->job_lock);
    for (struct lv_job **pp = &lv->jobs; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    }
    pthread_mutex_unlock(&lv->job_lock);
    *timed_out = j->timed_out;
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    return rc;
}

static int lv_migrate_check(struct backend *b, struct lv_job *j, struct lv_host *dst, int rc,
                            bool timed_out, int64_t elapsed_ms, struct migrate_progress *result)
{
    char why[ERR_MSG_MAX] = "";
    if (rc < 0)
        snprintf(why, sizeof(why), "%s", err_msg());
    if (rc < 0)
        lv_resume_after_failure(j->src, dst, j->vm);
    memset(result, 0, sizeof(*result));
    result->state = rc == 0                   ? MIGRATE_JOB_COMPLETED
                    : timed_out || j->aborted ? MIGRATE_JOB_CANCELLED
                                              : MIGRATE_JOB_FAILED;
    result->elapsed_ms = elapsed_ms;
    result->downtime_ms = -1;
    result->postcopy_active = j->last.postcopy_active;
    lv_final_stats(dst, j->dom, rc == 0, result);
    char where[MODEL_NAME_MAX];
    if (backend_vm_check_once(b, j->vm, j->src->name, dst->name, where, sizeof(where)) < 0) {
        if (rc < 0)
            err_prefix("%s; after it", why);
        return -1;
    }
    if (rc < 0)
        return err_set("%s%s (VM '%s' still runs once, on '%s')", why,
                       timed_out    ? " (aborted at its timeout)"
                       : j->aborted ? " (aborted on request)"
                                    : "",
                       j->vm, where);
    if (strcmp(where, dst->name) != 0)
        return err_set("%s: VM '%s': migration to '%s' reported success but the VM runs on '%s'",
                       j->src->uri, j->vm, dst->name, where);
    return 0;
}

int lv_migrate(struct backend *b, const char *vm, const char *dst_host,
               const struct migrate_params *p, struct migrate_progress *result)
{
    struct lv *lv = lv_of(b);
    struct lv_host *dst = lv_host_by_name(lv, dst_host), *src;
    memset(result, 0, sizeof(*result));
    result->state = MIGRATE_JOB_FAILED;
    result->downtime_ms = -1;
    if (!dst)
        return -1;
    virDomainPtr dom = lv_domain_find(lv, vm, &src);
    if (!dom)
        return -1;
    struct lv_job j = {.src = src, .dom = dom, .p = p, .running_since_ms = -1};
    snprintf(j.vm, sizeof(j.vm), "%s", vm);
    virTypedParameterPtr params = NULL;
    int n = 0, rc;
    unsigned flags = 0;
    pthread_mutex_lock(&lv->job_lock);
    bool busy = lv_job_find(lv, vm) != NULL;
    pthread_mutex_unlock(&lv->job_lock);
    if (busy)
        rc = err_set("VM '%s' is already being migrated", vm);
    else if (src == dst)
        rc = err_set("VM '%s' already runs on '%s'", vm, dst_host);
    else if (!lv_host_up(dst))
        rc = err_set("%s: destination host '%s' is not connected", dst->uri, dst_host);
    else if (virDomainIsActive(dom) != 1)
        rc = err_set("%s: VM '%s' is not running; only live migration is supported", src->uri, vm);
    else
        rc = lv_migrate_args(dst, p, &params, &n, &flags);
    if (rc == 0) {
        struct clock rclk;
        clock_init_real(&rclk);
        int64_t t0 = clock_mono_ms(&rclk);
        bool timed_out = false;
        rc = lv_migrate_run(lv, &j, dst, params, n, flags, &timed_out);
        rc = lv_migrate_check(b, &j, dst, rc, timed_out, clock_mono_ms(&rclk) - t0, result);
    }
    virResetLastError();
    virTypedParamsFree(params, n);
    virDomainFree(dom);
    return rc;
}

/* Apply fn to the running job of vm (job_lock held across, so the job stays). */
int lv_migrate_progress(struct backend *b, const char *vm, struct migrate_progress *out)
{
    struct lv *lv = lv_of(b);
    pthread_mutex_lock(&lv->job_lock);
    struct lv_job *j = lv_job_find(lv, vm);
    if (j) {
        pthread_mutex_lock(&j->lock);
        *out = j->last;
        pthread_mutex_unlock(&j->lock);
    }
    pthread_mutex_unlock(&lv->job_lock);
    if (!j) /* not ours: started by an earlier arasd, or by someone else */
        return lv_vm_job(lv, vm, out);
    return 0;
}

static int lv_job_act(struct backend *b, const char *vm, bool postcopy)
{
    struct lv *lv = lv_of(b);
    pthread_mutex_lock(&lv->job_lock);
    struct lv_job *j = lv_job_find(lv, vm);
    int rc = 0;
    if (!j)
        rc = err_set("no migration of VM '%s' is running", vm);
    else if (postcopy && !j->p->postcopy)
        rc = err_set("VM '%s': the migration was not started with post-copy allowed", vm);
    else if (postcopy && virDomainMigrateStartPostCopy(j->dom, 0) < 0)
        rc = lv_err(j->src, vm, "switching to post-copy");
    if (j && rc == 0) {
        /* An abort is issued by the watcher as soon as QEMU transfers (at
         * once if it already does; see lv_watch_decide). */
        pthread_mutex_lock(&j->lock);
        if (postcopy)
            j->postcopy_started = true;
        else if (j->last.postcopy_active)
            rc = err_set("VM '%s': the migration is in post-copy and cannot be aborted", vm);
        else
            j->abort_pending = true;
        pthread_mutex_unlock(&j->lock);
        if (!postcopy && rc == 0)
            pthread_cond_signal(&j->cond); /* let the watcher look now */
    }
    pthread_mutex_unlock(&lv->job_lock);
    return rc;
}

int lv_migrate_abort(struct backend *b, const char *vm)
{
    return lv_job_act(b, vm, false);
}

int lv_migrate_start_postcopy(struct backend *b, const char *vm)
{
    return lv_job_act(b, vm, true);
}

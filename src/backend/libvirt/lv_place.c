/* lv_place: where a VM is on two hosts (the "exactly once" check after a
 * migration), the migration job libvirt runs for a VM whoever started it, and
 * putting a paused source back to work after a failed one. */
#include "backend/libvirt/lv.h"
#include "util/error.h"
#include "util/log.h"

/* State of vm on one host: absent (UNKNOWN, inactive) or its state. */
static int lv_place_on(struct lv_host *h, const char *vm, bool *active, enum vm_state *st,
                       int *reason)
{
    virConnectPtr c = lv_host_conn(h);
    if (!c)
        return -1;
    *active = false;
    *st = VM_STATE_UNKNOWN;
    *reason = 0;
    virDomainPtr d = virDomainLookupByName(c, vm);
    int rc = 0;
    if (!d) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code != VIR_ERR_NO_DOMAIN)
            rc = lv_err(h, vm, "looking up the domain");
        virResetLastError();
    } else {
        int s;
        *active = virDomainIsActive(d) == 1;
        if (virDomainGetState(d, &s, reason, 0) < 0)
            rc = lv_err(h, vm, "reading the domain state");
        else
            *st = lv_state_map(s);
        virDomainFree(d);
    }
    virConnectClose(c);
    return rc;
}

int lv_vm_placement(struct backend *b, const char *vm, const char *src_host, const char *dst_host,
                    struct vm_placement *out)
{
    struct lv *lv = lv_of(b);
    struct lv_host *s = lv_host_by_name(lv, src_host), *d = lv_host_by_name(lv, dst_host);
    int rs, rd;
    if (!s || !d)
        return -1;
    if (lv_place_on(s, vm, &out->src_active, &out->src_state, &rs) < 0 ||
        lv_place_on(d, vm, &out->dst_active, &out->dst_state, &rd) < 0)
        return -1;
    return 0;
}

/* A migration job of d (outgoing on the source, incoming on the
 * destination), as progress; false when d runs no migration job. */
static bool lv_job_is_migration(virDomainPtr d, struct migrate_progress *out)
{
    int type = 0, n = 0, op = 0;
    virTypedParameterPtr params = NULL;
    bool migrating = false;
    if (virDomainGetJobStats(d, &type, &params, &n, 0) == 0) {
        migrating = (type == VIR_DOMAIN_JOB_BOUNDED || type == VIR_DOMAIN_JOB_UNBOUNDED) &&
                    virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
                    (op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT ||
                     op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN);
        virTypedParamsFree(params, n);
    }
    virResetLastError();
    if (migrating && lv_job_stats(d, 0, out) < 0) {
        virResetLastError();
        return false;
    }
    return migrating;
}

int lv_vm_job(struct lv *lv, const char *vm, struct migrate_progress *out)
{
    bool found = false;
    for (size_t i = 0; i < lv->n_hosts && !found; i++) {
        virConnectPtr c = lv_host_conn(&lv->hosts[i]);
        if (!c)
            continue;
        virDomainPtr d = virDomainLookupByName(c, vm);
        virResetLastError();
        if (d) {
            found = lv_job_is_migration(d, out);
            int st, reason;
            if (found && virDomainGetState(d, &st, &reason, 0) == 0)
                out->postcopy_active =
                    reason == VIR_DOMAIN_PAUSED_POSTCOPY ||
                    (st == VIR_DOMAIN_RUNNING && reason == VIR_DOMAIN_RUNNING_POSTCOPY);
            virResetLastError();
            virDomainFree(d);
        }
        virConnectClose(c);
    }
    err_clear();
    if (!found)
        return err_set("no migration of VM '%s' is running", vm);
    out->state = MIGRATE_JOB_RUNNING;
    return 0;
}

/* After a failed pre-copy migration the source may be left paused: resume it
 * there, so the VM runs exactly once (never when it is active on dst). */
void lv_resume_after_failure(struct lv_host *src, struct lv_host *dst, const char *vm)
{
    bool sa, da;
    enum vm_state ss, ds;
    int sr, dr;
    if (lv_place_on(src, vm, &sa, &ss, &sr) < 0 || lv_place_on(dst, vm, &da, &ds, &dr) < 0)
        return;
    if (!sa || da || ss != VM_STATE_PAUSED || sr != VIR_DOMAIN_PAUSED_MIGRATION)
        return;
    virConnectPtr c = lv_host_conn(src);
    virDomainPtr d = c ? virDomainLookupByName(c, vm) : NULL;
    if (d && virDomainResume(d) < 0) {
        lv_err(src, vm, "resuming on the source after a failed migration");
        log_warn("libvirt", "%s", err_msg());
    }
    if (d)
        virDomainFree(d);
    if (c)
        virConnectClose(c);
    virResetLastError();
}

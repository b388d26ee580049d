/* sim_backend: the sim:// driver — a trace-driven cluster embedded in the daemon.
 *
 * URI: sim://[/DIR][?hosts=N&vms=N&speed=X&policy=NAME&start=SECONDS]
 *   DIR     trace directory (default: the bundled PlanetLab day,
 *           $ARAS_SOURCE_DIR/data/planetlab/20110303)
 *   hosts   simulated hosts, alternating HP ML110 G4/G5 (default 800)
 *   vms     VMs (default one per trace file; more reuse traces round-robin)
 *   speed   simulated seconds per second of b->clock (default 1)
 *   policy  none (default: the daemon decides) or a consolidation baseline
 *           run inside the simulator (e.g. lr-mmt-1.2)
 *   start   offset into the day where the replay starts (seconds, default 0)
 *
 * Simulated time is (b->clock monotonic ms since open) * speed + start; the
 * day repeats. Counters are integrated from the traces between polls: a VM's
 * cpu_time_ns grows by its demand (one vCPU's worth at 100 %) times the share
 * its host's scheduler gives it; a host's busy time by its VMs' MIPS over its
 * PE MIPS; power follows the host's SPECpower model (0 W when it has no VM,
 * i.e. switched off). VMs are never dropped at zero demand here. set_vcpus and
 * set_memory change what the daemon sees (the work a trace asks for does not
 * change, so the VM's CPU % falls when it gets more vCPUs); migrate starts a
 * modelled migration (RAM over half the link) and returns at once with its
 * modelled duration; the VM reports MIGRATING until the simulated clock
 * passes the end. All entry points take one mutex, so migrate() may run on a
 * worker thread while the loop polls.
 */
#include "backend/sim/simb.h"

#include "aras-config.h"
#include "policy/policy.h"
#include "sim/sim.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SIM_BACKEND_MAX_HOSTS 100000u
#define SIM_BACKEND_MAX_VMS   1000000u

/* Decode %XX escapes of a URI path component into a new string. */
static char *uri_unescape(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned hi, lo;
        if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%1x%1x", &hi, &lo) == 2) {
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    return out;
}

struct sim_uri {
    char *dir;
    uint32_t hosts, vms;
    double speed, start_s;
    char policy[48];
};

static int parse_option(struct sim_uri *u, const char *key, const char *val, const char *uri)
{
    int64_t n;
    if (strcmp(key, "hosts") == 0) {
        if (parse_int64(val, 1, SIM_BACKEND_MAX_HOSTS, &n) < 0)
            return err_prefix("%s: hosts", uri);
        u->hosts = (uint32_t)n;
    } else if (strcmp(key, "vms") == 0) {
        if (parse_int64(val, 0, SIM_BACKEND_MAX_VMS, &n) < 0)
            return err_prefix("%s: vms", uri);
        u->vms = (uint32_t)n;
    } else if (strcmp(key, "speed") == 0) {
        if (parse_double(val, 1e-6, 1e9, &u->speed) < 0)
            return err_prefix("%s: speed", uri);
    } else if (strcmp(key, "start") == 0) {
        if (parse_double(val, 0, 1e9, &u->start_s) < 0)
            return err_prefix("%s: start", uri);
    } else if (strcmp(key, "policy") == 0) {
        if (strlen(val) >= sizeof(u->policy))
            return err_set("%s: policy name too long", uri);
        snprintf(u->policy, sizeof(u->policy), "%s", val);
    } else {
        return err_set("%s: unknown option '%s' (known: hosts, vms, speed, policy, start)", uri,
                       key);
    }
    return 0;
}

/* sim://[/DIR][?k=v&...] -> u (u->dir owned by the caller). */
static int parse_uri(const char *uri, struct sim_uri *u)
{
    memset(u, 0, sizeof(*u));
    u->hosts = 800;
    u->speed = 1;
    snprintf(u->policy, sizeof(u->policy), "none");
    if (strncmp(uri, "sim://", 6) != 0)
        return err_set("'%s' is not a sim:// URI", uri);
    const char *p = uri + 6, *q = strchr(p, '?');
    size_t plen = q ? (size_t)(q - p) : strlen(p);
    if (plen > 0 && p[0] != '/')
        return err_set("%s: expected sim:// or sim:///path/to/traces (no host part)", uri);
    u->dir =
        plen > 0 ? uri_unescape(p, plen) : xasprintf("%s/data/planetlab/20110303", ARAS_SOURCE_DIR);
    if (!q)
        return 0;
    AUTOFREE char *query = xstrdup(q + 1);
    char *save = NULL;
    for (char *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return free(u->dir), err_set("%s: option '%s' needs a value (key=value)", uri, kv);
        *eq = '\0';
        if (parse_option(u, kv, eq + 1, uri) < 0)
            return free(u->dir), -1;
    }
    return 0;
}

static void simb_free(struct simb *sb)
{
    if (!sb)
        return;
    sim_free(sb->sim);
    sim_traceset_free(&sb->ts);
    policy_consolidation_fini(&sb->pc);
    free(sb->vm_cpu_ns);
    free(sb->vm_cpu_frac);
    free(sb->host_busy_ns);
    free(sb->host_total_ns);
    pthread_mutex_destroy(&sb->lock);
    free(sb);
}

static int simb_build(struct simb *sb, const struct sim_uri *u, const char *uri)
{
    if (sim_traceset_load(u->dir, &sb->ts) < 0)
        return err_prefix("%s", uri);
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.start_s = u->start_s;
    cfg.n_hosts = u->hosts;
    cfg.n_vms = u->vms;
    cfg.limit_s = INFINITY;
    cfg.keep_idle_vms = true;
    sb->sim = sim_new(&sb->ts, &cfg);
    if (!sb->sim)
        return err_prefix("%s", uri);
    sb->none = (struct sim_policy){.name = "none", .place = NULL};
    if (strcmp(u->policy, "none") == 0) {
        if (policy_consolidation_init(&sb->pc, "dvfs") < 0)
            return -1;
        sb->none.place = sb->pc.ops.place; /* first fit at creation */
        sb->none.ctx = sb->pc.ops.ctx;
        sb->policy = &sb->none;
    } else {
        if (policy_consolidation_init(&sb->pc, u->policy) < 0)
            return err_prefix("%s", uri);
        sb->policy = &sb->pc.ops;
    }
    if (sim_place_all(sb->sim, sb->policy) < 0)
        return err_prefix("%s", uri);
    return 0;
}

static int simb_open(struct backend *b, const char *const *uris, size_t n_uris)
{
    if (n_uris != 1)
        return err_set("the simulator is one cluster: give one sim:// URI, not %zu", n_uris);
    struct sim_uri u;
    if (parse_uri(uris[0], &u) < 0)
        return -1;
    struct simb *sb = xcalloc(1, sizeof(*sb));
    pthread_mutex_init(&sb->lock, NULL);
    sb->speed = u.speed;
    sb->start_s = u.start_s;
    int rc = simb_build(sb, &u, uris[0]);
    free(u.dir);
    if (rc < 0) {
        simb_free(sb);
        return -1;
    }
    sb->vm_cpu_ns = xcalloc(sb->sim->n_vms, sizeof(*sb->vm_cpu_ns));
    sb->vm_cpu_frac = xcalloc(sb->sim->n_vms, sizeof(*sb->vm_cpu_frac));
    sb->host_busy_ns = xcalloc(sb->sim->n_hosts, sizeof(*sb->host_busy_ns));
    sb->host_total_ns = xcalloc(sb->sim->n_hosts, sizeof(*sb->host_total_ns));
    sb->t0_ms = clock_mono_ms(b->clock);
    sb->t_s = sb->start_s;
    sb->sim->now_s = sb->start_s;
    b->priv = sb;
    return 0;
}

static void simb_close(struct backend *b)
{
    simb_free(b->priv);
    b->priv = NULL;
}

const struct backend_ops sim_backend_ops = {
    .name = "sim",
    .open = simb_open,
    .close = simb_close,
    .poll = simb_poll,
    .set_vcpus = simb_set_vcpus,
    .set_memory = simb_set_memory,
    .migrate = simb_migrate,
    .migrate_progress = simb_migrate_progress,
};

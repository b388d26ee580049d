/* score: the planner's configuration defaults, load classes and the host cost
 * (normalised utilisation above target, same-class interference, soft rules). */
#include "planner/planner.h"

#include <math.h>
#include <string.h>

static const char *const res_names[] = {"cpu", "mem", "disk", "net"};
static const char *const class_names[] = {"light", "cpu", "mem", "io"};
static const char *const rule_names[] = {"affinity", "anti-affinity", "host-affinity",
                                         "host-anti-affinity"};

const char *planner_res_str(enum planner_res r)
{
    return (unsigned)r < PLANNER_RES_COUNT ? res_names[r] : "?";
}

const char *planner_class_str(enum planner_class c)
{
    return (unsigned)c < PLANNER_CLASS_COUNT ? class_names[c] : "?";
}

const char *planner_rule_kind_str(enum planner_rule_kind k)
{
    return (unsigned)k < sizeof(rule_names) / sizeof(rule_names[0]) ? rule_names[k] : "?";
}

void planner_config_default(struct planner_config *c)
{
    memset(c, 0, sizeof(*c));
    c->weight[PLANNER_RES_CPU] = 1;
    c->weight[PLANNER_RES_MEM] = 1;
    c->weight[PLANNER_RES_DISK] = 0.5;
    c->weight[PLANNER_RES_NET] = 0.5;
    /* Same-class pairs contend for the same resource (cache and memory
     * bandwidth, disk queue); measured values replace these defaults. */
    for (int a = PLANNER_CLASS_CPU; a < PLANNER_CLASS_COUNT; a++)
        c->interference[a][a] = 0.02;
    c->trigger_util = 0.9;
    c->target_util = 0.75;
    c->margin = 0.05;
    c->low_util = 0.3;
    c->cooldown_s = 3600;
    c->pingpong_s = 3600;
    c->min_gain = 0.005;
    c->benefit_ratio = 2;
    c->default_horizon_s = 3600;
    c->max_horizon_s = 86400;
    c->link_bytes_per_s = 125e6;
    migrate_limits_default(&c->limits);
    c->max_moves_per_cycle = 64;
    c->max_migrations_host = 2;
    c->max_migrations_total = 16;
}

enum planner_class planner_classify(const double *mean_use, const double *ref_cap,
                                    double light_frac)
{
    int best = -1;
    double best_share = 0;
    for (int r = 0; r < PLANNER_RES_COUNT; r++) {
        if (ref_cap[r] <= 0)
            continue;
        double share = mean_use[r] / ref_cap[r];
        if (share > best_share) {
            best_share = share;
            best = r;
        }
    }
    if (best < 0 || best_share < light_frac)
        return PLANNER_CLASS_LIGHT;
    if (best == PLANNER_RES_CPU)
        return PLANNER_CLASS_CPU;
    return best == PLANNER_RES_MEM ? PLANNER_CLASS_MEM : PLANNER_CLASS_IO;
}

void planner_cluster_update(struct planner_cluster *cl)
{
    for (uint32_t h = 0; h < cl->n_hosts; h++) {
        struct planner_host *hh = &cl->hosts[h];
        memset(hh->used, 0, sizeof(hh->used));
        memset(hh->peak, 0, sizeof(hh->peak));
        memset(hh->n_class, 0, sizeof(hh->n_class));
        hh->n_vms = 0;
    }
    for (uint32_t i = 0; i < cl->n_vms; i++) {
        const struct planner_vm *v = &cl->vms[i];
        if (v->host < 0 || (uint32_t)v->host >= cl->n_hosts)
            continue;
        struct planner_host *hh = &cl->hosts[v->host];
        for (int r = 0; r < PLANNER_RES_COUNT; r++) {
            hh->used[r] += v->use[r];
            hh->peak[r] += v->peak[r];
        }
        hh->n_vms++;
        if ((unsigned)v->cls < PLANNER_CLASS_COUNT)
            hh->n_class[v->cls]++;
    }
}

double planner_host_util(const struct planner_cluster *cl, uint32_t h, int32_t add, int32_t del,
                         enum planner_res *res)
{
    const struct planner_host *hh = &cl->hosts[h];
    double worst = 0;
    enum planner_res wr = PLANNER_RES_CPU;
    for (int r = 0; r < PLANNER_RES_COUNT; r++) {
        if (hh->cap[r] <= 0)
            continue;
        double p = hh->peak[r];
        if (add >= 0)
            p += cl->vms[add].peak[r];
        if (del >= 0)
            p -= cl->vms[del].peak[r];
        double u = p / hh->cap[r];
        if (u > worst) {
            worst = u;
            wr = (enum planner_res)r;
        }
    }
    if (res)
        *res = wr;
    return worst;
}

/* Cost of one resource at utilisation u: nothing up to the target, quadratic
 * up to full, and ten times steeper beyond (demand that cannot be served). */
static double util_cost(double u, double target)
{
    if (u <= target)
        return 0;
    double over = u - target;
    double c = over * over;
    if (u > 1)
        c += 10 * (u - 1) * (u - 1);
    return c;
}

/* Is VM i on host h in the state considered (add joins, del leaves)? */
static bool on_host(const struct planner_cluster *cl, uint32_t i, uint32_t h, int32_t add,
                    int32_t del)
{
    if ((int32_t)i == del)
        return false;
    return (int32_t)i == add || cl->vms[i].host == (int32_t)h;
}

/* Interference of every co-located pair on host h in the state considered,
 * from the host's per-class counts. */
static double interference_cost(const struct planner_cluster *cl, const struct planner_config *cfg,
                                uint32_t h, int32_t add, int32_t del)
{
    double cnt[PLANNER_CLASS_COUNT];
    for (int k = 0; k < PLANNER_CLASS_COUNT; k++)
        cnt[k] = cl->hosts[h].n_class[k];
    if (add >= 0 && cl->vms[add].host != (int32_t)h)
        cnt[cl->vms[add].cls]++;
    if (del >= 0 && cl->vms[del].host == (int32_t)h)
        cnt[cl->vms[del].cls]--;
    double c = 0;
    for (int a = 0; a < PLANNER_CLASS_COUNT; a++)
        for (int b = a; b < PLANNER_CLASS_COUNT; b++)
            c += cfg->interference[a][b] * (a == b ? cnt[a] * (cnt[a] - 1) / 2 : cnt[a] * cnt[b]);
    return c;
}

/* Soft rules broken on host h in the state considered. */
static double rules_cost(const struct planner_cluster *cl, uint32_t h, int32_t add, int32_t del)
{
    double c = 0;
    for (size_t k = 0; k < cl->n_rules; k++) {
        const struct planner_rule *r = &cl->rules[k];
        if (r->hard)
            continue;
        bool a_here = r->a < cl->n_vms && on_host(cl, r->a, h, add, del);
        switch (r->kind) {
        case PLANNER_RULE_AFFINITY:
        case PLANNER_RULE_ANTI_AFFINITY: {
            if (r->b >= cl->n_vms)
                break;
            bool b_here = on_host(cl, r->b, h, add, del);
            bool same = a_here && b_here;
            /* an affinity pair split across hosts is counted on the host of each */
            if (r->kind == PLANNER_RULE_ANTI_AFFINITY ? same : (a_here != b_here))
                c += r->weight;
            break;
        }
        case PLANNER_RULE_HOST_AFFINITY:
            if (a_here && r->b != h)
                c += r->weight;
            break;
        case PLANNER_RULE_HOST_ANTI:
            if (a_here && r->b == h)
                c += r->weight;
            break;
        }
    }
    return c;
}

double planner_host_cost(const struct planner_cluster *cl, const struct planner_config *cfg,
                         uint32_t h, int32_t add, int32_t del)
{
    const struct planner_host *hh = &cl->hosts[h];
    double c = 0;
    for (int r = 0; r < PLANNER_RES_COUNT; r++) {
        if (hh->cap[r] <= 0)
            continue;
        double p = hh->peak[r];
        if (add >= 0)
            p += cl->vms[add].peak[r];
        if (del >= 0)
            p -= cl->vms[del].peak[r];
        c += cfg->weight[r] * util_cost(p / hh->cap[r], cfg->target_util);
    }
    return c + interference_cost(cl, cfg, h, add, del) + rules_cost(cl, h, add, del);
}

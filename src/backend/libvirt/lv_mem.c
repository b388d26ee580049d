/* lv_mem: live memory growth — the balloon up to the domain's current
 * maximum, beyond it a DIMM where the domain has <maxMemory slots> — and the
 * hot-plug ceiling the poll reports as a VM's maximum memory, cached per
 * domain so the XML is read once per domain and size, not every tick. */
#include "backend/libvirt/lv.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

/* Guest memory blocks are 128 MiB on x86-64: a DIMM of another size leaves
 * part of it offline in a Linux guest. */
#define LV_DIMM_ALIGN_KIB (128 * 1024)

/* One domain's cached ceiling (per host, keyed by UUID). */
struct lv_memcache {
    uint64_t seen_max_kib; /* the domain's <memory> when parsed */
    uint64_t ceiling_kib;  /* what the poll reports as its maximum */
    uint64_t gen;          /* poll generation that last saw it */
};

void lv_mem_cache_free(struct lv_host *h)
{
    const char *k;
    void *v;
    for (size_t i = 0; strmap_next(&h->memcaps, &i, &k, &v);)
        free(v);
    strmap_free(&h->memcaps);
    strmap_init(&h->memcaps);
}

/* The ceiling from the XML: <maxMemory> while a slot is free, else max_kib. */
static uint64_t lv_mem_ceiling_of(virDomainPtr d, uint64_t max_kib)
{
    char *xml = virDomainGetXMLDesc(d, 0);
    struct lv_memcaps caps;
    uint64_t ceiling = max_kib;
    if (xml && lv_xml_memory_caps(xml, &caps) == 0 && caps.slots > caps.dimms &&
        caps.max_kib > max_kib)
        ceiling = caps.max_kib;
    if (!xml)
        virResetLastError();
    free(xml);
    return ceiling;
}

uint64_t lv_mem_ceiling(struct lv_host *h, virDomainPtr d, const char *uuid, uint64_t max_kib,
                        uint64_t gen)
{
    pthread_mutex_lock(&h->memcaps_lock);
    struct lv_memcache *c = uuid[0] ? strmap_get(&h->memcaps, uuid) : NULL;
    bool fresh = c && c->seen_max_kib == max_kib;
    pthread_mutex_unlock(&h->memcaps_lock);
    uint64_t ceiling = fresh ? c->ceiling_kib : lv_mem_ceiling_of(d, max_kib);
    if (!uuid[0])
        return ceiling;
    pthread_mutex_lock(&h->memcaps_lock);
    c = strmap_get(&h->memcaps, uuid);
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        strmap_put(&h->memcaps, uuid, c);
    }
    c->seen_max_kib = max_kib;
    c->ceiling_kib = ceiling;
    c->gen = gen;
    pthread_mutex_unlock(&h->memcaps_lock);
    return ceiling;
}

void lv_mem_cache_sweep(struct lv_host *h, uint64_t gen)
{
    const char *k;
    void *v;
    pthread_mutex_lock(&h->memcaps_lock);
    for (size_t i = 0; strmap_next(&h->memcaps, &i, &k, &v);) {
        struct lv_memcache *c = v;
        if (c->gen != gen) {
            strmap_del(&h->memcaps, k);
            free(c);
        }
    }
    pthread_mutex_unlock(&h->memcaps_lock);
}

/* Hot-plug one DIMM so that the domain has at least want_kib (its current
 * maximum is max_kib); the DIMM is rounded up to whole guest memory blocks
 * and never takes the domain past <maxMemory>. */
static int lv_mem_add_dimm(struct lv_host *h, virDomainPtr d, const char *vm, uint64_t max_kib,
                           uint64_t want_kib)
{
    char *xml = virDomainGetXMLDesc(d, 0);
    if (!xml)
        return lv_err(h, vm, "reading domain XML");
    struct lv_memcaps caps;
    int ok = lv_xml_memory_caps(xml, &caps);
    free(xml);
    if (ok < 0)
        return err_set("%s: VM '%s': cannot read <maxMemory> from the domain XML", h->uri, vm);
    if (caps.slots == 0)
        return err_set("%s: VM '%s': %llu MiB is above its maximum of %llu MiB and the domain "
                       "has no <maxMemory slots=...> for memory hot-plug",
                       h->uri, vm, (unsigned long long)(want_kib >> 10),
                       (unsigned long long)(max_kib >> 10));
    if (caps.dimms >= caps.slots)
        return err_set("%s: VM '%s': all %u memory slots are in use", h->uri, vm, caps.slots);
    uint64_t room = caps.max_kib > max_kib ? caps.max_kib - max_kib : 0;
    uint64_t need = want_kib - max_kib;
    uint64_t size = (need + LV_DIMM_ALIGN_KIB - 1) / LV_DIMM_ALIGN_KIB * LV_DIMM_ALIGN_KIB;
    if (size > room)
        size = room / LV_DIMM_ALIGN_KIB * LV_DIMM_ALIGN_KIB;
    if (size < need)
        return err_set("%s: VM '%s': %llu MiB does not fit under its <maxMemory> of %llu MiB "
                       "(now %llu MiB, DIMMs in steps of %d MiB)",
                       h->uri, vm, (unsigned long long)(want_kib >> 10),
                       (unsigned long long)(caps.max_kib >> 10),
                       (unsigned long long)(max_kib >> 10), LV_DIMM_ALIGN_KIB >> 10);
    AUTOFREE char *dev =
        xasprintf("<memory model='dimm'><target><size unit='KiB'>%llu</size>%s</target></memory>",
                  (unsigned long long)size, caps.numa ? "<node>0</node>" : "");
    if (virDomainAttachDeviceFlags(d, dev, VIR_DOMAIN_AFFECT_LIVE) < 0)
        return lv_err(h, vm, "hot-plugging a DIMM");
    log_info("libvirt", "%s: VM '%s': hot-plugged a %llu MiB DIMM", h->uri, vm,
             (unsigned long long)(size >> 10));
    return 0;
}

int lv_set_memory(struct backend *b, const char *vm, uint64_t mem_kib)
{
    struct lv_host *h;
    virDomainPtr d = lv_domain_find(lv_of(b), vm, &h);
    if (!d)
        return -1;
    int rc = 0;
    unsigned long max = virDomainGetMaxMemory(d);
    if (mem_kib == 0 || mem_kib > (uint64_t)(unsigned long)-1)
        rc = err_set("%s: VM '%s': memory size %llu KiB is out of range", h->uri, vm,
                     (unsigned long long)mem_kib);
    else if (max == 0)
        rc = lv_err(h, vm, "reading the maximum memory");
    else if (mem_kib > max)
        rc = lv_mem_add_dimm(h, d, vm, max, mem_kib);
    /* The balloon gives exactly what was asked (a DIMM may be larger). After
     * a hot-plug libvirt has already grown the balloon by the DIMM's size. */
    if (rc == 0 && virDomainSetMemoryFlags(d, (unsigned long)mem_kib, VIR_DOMAIN_AFFECT_LIVE) < 0)
        rc = lv_err(h, vm, "setting memory live");
    virDomainFree(d);
    return rc;
}

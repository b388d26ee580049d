/* scan: per-process mappings, uffd-wp registration and PAGEMAP_SCAN read-and-clear.
 *
 * Every mapping (except [vdso], [vvar], [vsyscall]) is registered with the
 * process's asynchronous write-protect userfaultfd. A write to a protected page
 * just clears its uffd-wp bit (no fault reaches us); PAGEMAP_SCAN with
 * PM_SCAN_WP_MATCHING then returns the pages without the bit (PAGE_IS_WRITTEN)
 * and protects them again, atomically per page table.
 */
#include "dirtytrace.h"
#include "migrate/migrate.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* linux/fs.h >= 6.7 (Debian 12 ships 6.1 headers). */
#define DT_PAGE_IS_WPALLOWED     (1 << 0)
#define DT_PAGE_IS_WRITTEN       (1 << 1)
#define DT_PAGE_IS_FILE          (1 << 2)
#define DT_PAGE_IS_PRESENT       (1 << 3)
#define DT_PAGE_IS_SWAPPED       (1 << 4)
#define DT_PAGE_IS_PFNZERO       (1 << 5)
#define DT_PM_SCAN_WP_MATCHING   (1 << 0)
#define DT_PM_SCAN_CHECK_WPASYNC (1 << 1)

struct dt_page_region {
    uint64_t start, end, categories;
};

struct dt_pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define DT_PAGEMAP_SCAN _IOWR('f', 16, struct dt_pm_scan_arg)
#define VEC_LEN         4096
#define PAGE_SHIFT      12
#define HUGE_VMA        (64ull << 30)

static uint32_t object_index(struct dt_objects *o, uint64_t dev, uint64_t inode, const char *path)
{
    for (size_t i = 0; i < o->len; i++) {
        if (o->v[i].dev == dev && o->v[i].inode == inode)
            return (uint32_t)i;
    }
    xgrow((void **)&o->v, &o->cap, o->len + 1, sizeof(*o->v));
    o->v[o->len].dev = dev;
    o->v[o->len].inode = inode;
    snprintf(o->v[o->len].path, sizeof(o->v[o->len].path), "%s", path);
    return (uint32_t)o->len++;
}

static bool was_registered(const struct dt_proc *p, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < p->n_seen; i++) {
        if (p->seen_ranges[2 * i] == start && p->seen_ranges[2 * i + 1] == end)
            return true;
    }
    return false;
}

static void vma_register(struct dt_proc *p, struct dt_vma *v)
{
    if (was_registered(p, v->start, v->end)) {
        v->registered = true;
        return;
    }
    struct uffdio_register reg = {.range = {.start = v->start, .len = v->end - v->start},
                                  .mode = UFFDIO_REGISTER_MODE_WP};
    /* EPERM: a read-only MAP_SHARED file mapping (cannot be written at all). */
    v->registered = ioctl(p->uffd, UFFDIO_REGISTER, &reg) == 0;
    v->fresh = v->registered;
}

/* Parse one maps line into *v; returns false for lines to skip. */
static bool parse_maps_line(struct dt_proc *p, struct dt_objects *objs, const char *line,
                            struct dt_vma *v)
{
    uint64_t start, end, off, inode;
    unsigned maj, min;
    char perms[8];
    int n = 0;
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &start, &end,
               perms, &off, &maj, &min, &inode, &n) < 7)
        return false;
    const char *path = line + n;
    if (strncmp(path, "[vdso]", 6) == 0 || strncmp(path, "[vvar", 5) == 0 ||
        strncmp(path, "[vsyscall]", 10) == 0)
        return false;
    memset(v, 0, sizeof(*v));
    v->start = start;
    v->end = end;
    if (perms[3] == 's') {
        uint64_t dev = (uint64_t)maj << 32 | min;
        uint32_t obj = object_index(objs, dev, inode, path);
        v->key_base =
            MIGRATE_KEY_SHARED | (uint64_t)obj << MIGRATE_KEY_IDX_SHIFT | (off >> PAGE_SHIFT);
    } else {
        v->key_base = (uint64_t)p->index << MIGRATE_KEY_IDX_SHIFT | (start >> PAGE_SHIFT);
    }
    return true;
}

/* Re-read /proc/PID/maps; register new mappings. Returns -1 (no err) if gone. */
static int read_maps(struct dt_proc *p, struct dt_objects *objs)
{
    char path[64], line[4096];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    p->n_vmas = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        struct dt_vma v;
        if (!parse_maps_line(p, objs, line, &v))
            continue;
        vma_register(p, &v);
        xgrow((void **)&p->vmas, &p->cap_vmas, p->n_vmas + 1, sizeof(*p->vmas));
        p->vmas[p->n_vmas++] = v;
    }
    fclose(f);
    p->n_seen = 0;
    for (size_t i = 0; i < p->n_vmas; i++) {
        if (!p->vmas[i].registered)
            continue;
        xgrow((void **)&p->seen_ranges, &p->cap_seen, 2 * (p->n_seen + 1), sizeof(uint64_t));
        p->seen_ranges[2 * p->n_seen] = p->vmas[i].start;
        p->seen_ranges[2 * p->n_seen + 1] = p->vmas[i].end;
        p->n_seen++;
    }
    return p->n_vmas ? 0 : -1; /* a zombie has no mappings */
}

static void add_region(const struct dt_vma *v, const struct dt_page_region *r,
                       struct dt_keyset *set)
{
    for (uint64_t a = r->start; a < r->end; a += 1u << PAGE_SHIFT)
        dt_keyset_add(set, v->key_base + ((a - v->start) >> PAGE_SHIFT));
}

/* One PAGEMAP_SCAN pass over v. wp: read-and-clear written pages into `set`;
 * else add present (or swapped) pages. Returns -1 with errno on failure. */
struct ranges {
    uint64_t *v; /* start, end pairs */
    size_t len, cap;
};

static int scan_vma(struct dt_proc *p, const struct dt_vma *v, bool wp, uint64_t start,
                    uint64_t end, struct dt_keyset *set, struct ranges *present)
{
    static struct dt_page_region vec[VEC_LEN];
    struct dt_pm_scan_arg a = {.size = sizeof(a), .start = start, .end = end};
    a.vec = (uint64_t)(uintptr_t)vec;
    a.vec_len = VEC_LEN;
    if (wp) {
        a.flags = DT_PM_SCAN_WP_MATCHING | DT_PM_SCAN_CHECK_WPASYNC;
        a.category_mask = DT_PAGE_IS_WRITTEN;
        a.return_mask = DT_PAGE_IS_WRITTEN | DT_PAGE_IS_FILE | DT_PAGE_IS_PFNZERO |
                        DT_PAGE_IS_PRESENT | DT_PAGE_IS_SWAPPED;
    } else {
        /* Resident = present or swapped, but not the shared zero page (reads
         * of never-written memory, e.g. a sanitizer's shadow, hold no data). */
        a.category_inverted = DT_PAGE_IS_PFNZERO;
        a.category_mask = DT_PAGE_IS_PFNZERO;
        a.category_anyof_mask = DT_PAGE_IS_PRESENT | DT_PAGE_IS_SWAPPED;
        a.return_mask = DT_PAGE_IS_PRESENT | DT_PAGE_IS_SWAPPED;
    }
    while (a.start < a.end) {
        long n = ioctl(p->pagemap_fd, DT_PAGEMAP_SCAN, &a);
        if (n < 0)
            return -1;
        for (long i = 0; i < n; i++) {
            uint64_t c = vec[i].categories;
            /* The zero page is a read; a fresh mapping's clean file pages were
             * present (unprotected) before we registered it, not written; and
             * holes of a fresh mapping (no pte marker yet) hold no data. */
            if (wp && ((c & DT_PAGE_IS_PFNZERO) || (v->fresh && (c & DT_PAGE_IS_FILE)) ||
                       !(c & (DT_PAGE_IS_PRESENT | DT_PAGE_IS_SWAPPED))))
                continue;
            if (set)
                add_region(v, &vec[i], set);
            if (present) {
                xgrow((void **)&present->v, &present->cap, 2 * (present->len + 1),
                      sizeof(uint64_t));
                present->v[2 * present->len] = vec[i].start;
                present->v[2 * present->len + 1] = vec[i].end;
                present->len++;
            }
        }
        if (a.walk_end <= a.start)
            break;
        a.start = a.walk_end;
    }
    return 0;
}

/* Read-and-clear the written pages of v. A huge mapping (sanitizer shadow, a
 * runtime's address-space reservation) is scanned only where pages are present:
 * a write-protect scan over an unpopulated terabyte would install pte markers
 * for all of it. There, a first touch of a hole still shows as written. */
static int scan_written(struct dt_proc *p, const struct dt_vma *v, const struct ranges *present,
                        struct dt_keyset *written)
{
    if (v->end - v->start <= HUGE_VMA)
        return scan_vma(p, v, true, v->start, v->end, written, NULL);
    for (size_t i = 0; i < present->len; i++) {
        if (scan_vma(p, v, true, present->v[2 * i], present->v[2 * i + 1], written, NULL) < 0)
            return -1;
    }
    return 0;
}

int dt_proc_scan(struct dt_proc *p, struct dt_objects *objs, struct dt_keyset *present,
                 struct dt_keyset *written)
{
    if (!p->alive)
        return 0;
    if (read_maps(p, objs) < 0) {
        dt_proc_close(p);
        return 0;
    }
    struct ranges pr = {0};
    int rc = 0;
    for (size_t i = 0; i < p->n_vmas && p->alive; i++) {
        struct dt_vma *v = &p->vmas[i];
        pr.len = 0;
        if (scan_vma(p, v, false, v->start, v->end, present, &pr) < 0 && errno == ESRCH) {
            dt_proc_close(p);
            break;
        }
        /* EPERM: the mapping changed under us (not registered); next scan. */
        if (written && v->registered && scan_written(p, v, &pr, written) < 0 && errno != EPERM &&
            errno != ENOENT && errno != EINVAL) {
            if (errno == ESRCH || errno == EIO) {
                dt_proc_close(p);
                break;
            }
            rc = err_set_errno("pid %d: PAGEMAP_SCAN", (int)p->pid);
            break;
        }
        v->fresh = false;
    }
    free(pr.v);
    return rc;
}

int dt_proc_attach(struct dt_proc *p, pid_t pid, uint32_t index, bool traced)
{
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    p->index = index;
    p->uffd = p->pagemap_fd = -1;
    if (index >= (1u << 26))
        return err_set("too many processes (%u)", index);
    if (dt_inject_uffd(pid, traced, &p->uffd) < 0)
        return -1;
    if (dt_uffd_api(p->uffd) < 0) {
        dt_proc_close(p);
        return -1;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
    p->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (p->pagemap_fd < 0) {
        err_set_errno("%s", path);
        dt_proc_close(p);
        return -1;
    }
    /* Probe PAGEMAP_SCAN itself (Linux >= 6.7). */
    struct dt_pm_scan_arg a = {.size = sizeof(a), .start = 0, .end = 0};
    if (ioctl(p->pagemap_fd, DT_PAGEMAP_SCAN, &a) < 0 && (errno == ENOTTY || errno == EOPNOTSUPP)) {
        dt_proc_close(p);
        return err_set("kernel lacks ioctl(PAGEMAP_SCAN) on /proc/PID/pagemap (Linux >= 6.7)");
    }
    p->alive = true;
    return 0;
}

void dt_proc_close(struct dt_proc *p)
{
    if (p->uffd >= 0)
        close(p->uffd);
    if (p->pagemap_fd >= 0)
        close(p->pagemap_fd);
    p->uffd = p->pagemap_fd = -1;
    p->alive = false;
}

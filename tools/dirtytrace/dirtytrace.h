/* dirtytrace: internal interfaces of aras-dirtytrace (injection, scanning, key table). */
#ifndef ARAS_DIRTYTRACE_H
#define ARAS_DIRTYTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- inject.c: a userfaultfd created inside another process ---- */

/* Create a userfaultfd (O_CLOEXEC | O_NONBLOCK) in the address space of `pid`
 * by ptrace syscall injection and return a duplicate of it in *out_fd (ours;
 * the target's copy is closed again). `traced` is true when pid is already our
 * ptrace-stopped tracee (started with PTRACE_TRACEME); otherwise the process is
 * seized, stopped and released. The tracee is detached in every case. */
int dt_inject_uffd(pid_t pid, bool traced, int *out_fd);

/* Enable UFFD_FEATURE_WP_ASYNC | WP_UNPOPULATED on a fresh uffd; names the
 * missing feature on failure. */
int dt_uffd_api(int uffd);

/* ---- keyset.c: a growable hash set of u64 keys ---- */
struct dt_keyset {
    uint64_t *slots; /* 0 = empty; keys are stored + 1 so that key 0 is allowed */
    size_t cap, len;
};
void dt_keyset_add(struct dt_keyset *s, uint64_t key);
bool dt_keyset_has(const struct dt_keyset *s, uint64_t key);
/* All keys, sorted ascending, into a new array of s->len entries. */
uint64_t *dt_keyset_sorted(const struct dt_keyset *s);
void dt_keyset_free(struct dt_keyset *s);

/* ---- scan.c: one traced process ---- */
struct dt_vma {
    uint64_t start, end;
    uint64_t key_base; /* key of the page at `start` */
    bool registered;   /* uffd-wp registered (else read-only: never written) */
    bool fresh;        /* registered in this scan: present file pages are not writes */
};

struct dt_objects; /* shared-object table (dev:inode -> index) */

struct dt_proc {
    pid_t pid;
    uint32_t index; /* pid_index in keys */
    int uffd, pagemap_fd;
    bool alive;
    struct dt_vma *vmas;
    size_t n_vmas, cap_vmas;
    uint64_t *seen_ranges; /* start,end pairs registered so far (sorted by start) */
    size_t n_seen, cap_seen;
};

struct dt_objects {
    struct {
        uint64_t dev, inode;
        char path[128];
    } * v;
    size_t len, cap;
};

/* Attach: inject a uffd into pid, open its pagemap. */
int dt_proc_attach(struct dt_proc *p, pid_t pid, uint32_t index, bool traced);
void dt_proc_close(struct dt_proc *p);
/* Re-read the mappings, register new ones; then add every present page's key to
 * `present` (if not NULL) and every page written since the last scan to `written`
 * (read-and-clear through PAGEMAP_SCAN with PM_SCAN_WP_MATCHING). A process that
 * has exited is marked !alive and returns 0. */
int dt_proc_scan(struct dt_proc *p, struct dt_objects *objs, struct dt_keyset *present,
                 struct dt_keyset *written);

#endif

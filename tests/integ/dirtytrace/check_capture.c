/* check_capture: compare a trace of `writer` with its known write patterns.
 * Usage: check_capture TRACE INDEX_FILE INFO_FILE. Exit 0 iff exact. */
#include "migrate/migrate.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB 4

static uint64_t a_vpn, obj = UINT64_MAX;

static uint64_t key_a(uint64_t pid_index, unsigned page)
{
    return pid_index << MIGRATE_KEY_IDX_SHIFT | (a_vpn + page);
}

static uint64_t key_s(unsigned page)
{
    return MIGRATE_KEY_SHARED | obj << MIGRATE_KEY_IDX_SHIFT | page;
}

/* Which region page a key is, or -1 (pages outside the test's regions). */
static int region_page(uint64_t k)
{
    for (uint64_t pi = 0; pi < 2; pi++) {
        for (unsigned p = 0; p < 32; p++) {
            if (k == key_a(pi, p))
                return (int)(pi * 100 + p);
        }
    }
    for (unsigned p = 0; p < 16; p++) {
        if (k == key_s(p))
            return (int)(1000 + p);
    }
    return -1;
}

static int read_files(const char *index, const char *info)
{
    char line[512];
    unsigned long inode = 0, a = 0;
    FILE *f = fopen(info, "r");
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "A %lx", &a);
        sscanf(line, "S %lu", &inode);
    }
    if (f)
        fclose(f);
    f = fopen(index, "r");
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long long i, ino;
        unsigned maj, min;
        if (sscanf(line, "object %llu %u:%u %llu", &i, &maj, &min, &ino) == 4 && ino == inode)
            obj = i;
    }
    if (f)
        fclose(f);
    a_vpn = a >> 12;
    return a && obj != UINT64_MAX ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4 || read_files(argv[2], argv[3]) < 0) {
        fprintf(stderr, "check_capture: bad arguments or info/index files\n");
        return 2;
    }
    struct migrate_trace t;
    if (migrate_trace_read(argv[1], &t) < 0) {
        fprintf(stderr, "check_capture: %s\n", err_msg());
        return 1;
    }
    uint64_t expect[NB][8] = {
        {key_a(0, 0), key_a(0, 1), key_a(0, 2), key_a(0, 3), key_a(0, 4), key_a(0, 5), key_a(0, 6),
         key_a(0, 7)},
        {key_a(0, 0), key_a(0, 2), key_a(0, 4), key_a(0, 20), key_s(1), key_s(10)},
        {key_a(1, 5), key_a(1, 6), key_s(2)},
        {key_a(0, 31), key_s(15)},
    };
    unsigned n_expect[NB] = {8, 6, 3, 2};
    uint64_t b1_s[4] = {key_s(0), key_s(1), key_s(2), key_s(3)};
    int fails = 0, burst = -1;
    bool prev_empty = true;
    /* Union of region writes per burst (runs of intervals with any). */
    static char got[NB][1100];
    for (uint32_t i = 0; i < t.n_intervals; i++) {
        const uint8_t *row = migrate_trace_row(&t, i);
        bool any = false;
        for (uint32_t p = 0; p < t.n_pages; p++) {
            int rp = migrate_bit(row, p) ? region_page(t.keys[p]) : -1;
            if (rp < 0)
                continue;
            if (!any && prev_empty)
                burst++;
            any = true;
            if (burst >= NB) {
                fprintf(stderr, "unexpected writes in interval %u (region page %d)\n", i, rp);
                fails++;
                continue;
            }
            got[burst][rp] = 1;
        }
        prev_empty = !any;
    }
    if (burst + 1 != NB) {
        fprintf(stderr, "expected %d bursts of writes, saw %d\n", NB, burst + 1);
        fails++;
    }
    for (int b = 0; b < NB && b <= burst; b++) {
        static char want[1100];
        memset(want, 0, sizeof(want));
        for (unsigned j = 0; j < n_expect[b]; j++)
            want[region_page(expect[b][j])] = 1;
        for (unsigned j = 0; b == 0 && j < 4; j++)
            want[region_page(b1_s[j])] = 1;
        for (int r = 0; r < 1100; r++) {
            if (want[r] != got[b][r]) {
                fprintf(stderr, "burst %d: region page %d %s\n", b + 1, r,
                        want[r] ? "missing" : "unexpected");
                fails++;
            }
        }
    }
    /* Universe: all of A is resident after the read pass; nothing was at start. */
    for (unsigned p = 0; p < 32; p++) {
        uint64_t k = key_a(0, p);
        uint32_t lo = 0, hi = t.n_pages;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (t.keys[mid] < k)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == t.n_pages || t.keys[lo] != k) {
            fprintf(stderr, "A[%u] missing from the page universe\n", p);
            fails++;
        } else if (migrate_bit(t.resident0, lo)) {
            fprintf(stderr, "A[%u] marked resident at trace start\n", p);
            fails++;
        }
    }
    printf("check_capture: %u pages, %u intervals, %d bursts, %d mismatches\n", t.n_pages,
           t.n_intervals, burst + 1, fails);
    migrate_trace_free(&t);
    return fails ? 1 : 0;
}

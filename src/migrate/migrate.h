/* migrate: page-level dirty traces (DIRTYTR1) and the pre-copy simulator.
 *
 * A dirty trace holds, for each sampling interval, one bit per page: 1 iff the
 * page was written in that interval (format: DIRTYTR1, see the project's
 * formats/dirty-trace-v1.md). The simulator replays a trace against
 * a pre-copy live migration over a link of given bandwidth and a downtime budget,
 * with a pluggable per-page deferral policy. Everything here is pure computation
 * except migrate_trace_read()/migrate_trace_write().
 */
#ifndef ARAS_MIGRATE_MIGRATE_H
#define ARAS_MIGRATE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIGRATE_TRACE_MAGIC      "DIRTYTR1"
#define MIGRATE_TRACE_VERSION    1
#define MIGRATE_TRACE_HEADER_LEN 112
#define MIGRATE_TRACE_NAME_LEN   32
/* flags bit0: keys are composite (pid/object index << 36 | page number). */
#define MIGRATE_TRACE_COMPOSITE_KEYS 1u
/* Key bit 63 marks a page of a MAP_SHARED object. */
#define MIGRATE_KEY_SHARED    (1ull << 63)
#define MIGRATE_KEY_IDX_SHIFT 36

/* One trace in memory. All arrays are owned by the struct (migrate_trace_free). */
struct migrate_trace {
    uint32_t page_size, n_pages, n_intervals, interval_us, flags;
    uint64_t rss_start_pages;
    char workload[MIGRATE_TRACE_NAME_LEN + 1], method[MIGRATE_TRACE_NAME_LEN + 1];
    double *t_end;      /* [n_intervals] seconds since the baseline scan, non-decreasing */
    uint64_t *keys;     /* [n_pages], strictly increasing */
    uint8_t *resident0; /* [migrate_trace_row_bytes()] */
    uint8_t *bitmaps;   /* [n_intervals][migrate_trace_row_bytes()] */
};

/* Bytes of one packed bitmap row: ceil(n_pages / 8). */
size_t migrate_trace_row_bytes(uint32_t n_pages);

static inline bool migrate_bit(const uint8_t *row, uint32_t p)
{
    return (row[p >> 3] >> (p & 7)) & 1;
}

static inline void migrate_bit_set(uint8_t *row, uint32_t p)
{
    row[p >> 3] |= (uint8_t)(1u << (p & 7));
}

/* Row of interval i. */
static inline const uint8_t *migrate_trace_row(const struct migrate_trace *t, uint32_t i)
{
    return t->bitmaps + (size_t)i * migrate_trace_row_bytes(t->n_pages);
}

/* Allocate the arrays of a trace with the given sizes (zeroed); header fields
 * other than sizes are set to defaults (page_size 4096, version fields). */
void migrate_trace_alloc(struct migrate_trace *t, uint32_t n_pages, uint32_t n_intervals);
/* Free the arrays; the struct may be reused. NULL-safe on a zeroed struct. */
void migrate_trace_free(struct migrate_trace *t);

/* Parse a DIRTYTR1 image of `len` bytes. `name` (a file name) prefixes every
 * error, which names the field at fault. Payloads larger than max_payload bytes
 * are refused. On success *out owns new arrays; on failure *out is zeroed. */
int migrate_trace_parse(const uint8_t *buf, size_t len, const char *name, uint64_t max_payload,
                        struct migrate_trace *out);
/* Read and validate a trace file (payload limit 4 GiB). */
int migrate_trace_read(const char *path, struct migrate_trace *out);
/* Validate t and write it atomically (path.tmp + rename), zstd level 3. */
int migrate_trace_write(const char *path, const struct migrate_trace *t);
/* Check the in-memory invariants (sizes, sorted keys, monotonic t_end). */
int migrate_trace_check(const struct migrate_trace *t, const char *name);

/* ---- pre-copy simulator ---- */

enum migrate_policy_kind {
    MIGRATE_POLICY_PLAIN,  /* QEMU-like: send every dirty page, stop when it fits */
    MIGRATE_POLICY_XEN,    /* plain + Xen's stop rules (29 rounds or 3x memory sent) */
    MIGRATE_POLICY_MARKOV, /* per-page two-state Markov chain, defer if P(rewrite) >= th */
    MIGRATE_POLICY_GE,     /* Gilbert-Elliott hidden two-state model, defer if P >= th */
    MIGRATE_POLICY_LASTK,  /* defer pages dirty in each of the last k rounds */
    MIGRATE_POLICY_ARAS,   /* reliable deferral + early non-convergence detection */
    MIGRATE_POLICY_COUNT
};
const char *migrate_policy_kind_str(enum migrate_policy_kind k);

struct migrate_policy_spec {
    enum migrate_policy_kind kind;
    double threshold;  /* markov, ge: defer when P(rewritten before next round) >= threshold */
    double eps1, eps2; /* ge: write probability in the good / bad state */
    bool ge_fit;       /* ge: fit eps1/eps2 too (ge:fit,TH) */
    uint32_t k;        /* lastk */
};
/* Parse "plain", "xen", "markov:0.7", "ge:0.1,0.9,0.7", "ge:fit,0.7", "lastk:3", "aras". */
int migrate_policy_parse(const char *s, struct migrate_policy_spec *out);
/* Canonical name of spec into buf. */
void migrate_policy_name(const struct migrate_policy_spec *spec, char *buf, size_t len);

struct migrate_sim_config {
    double bandwidth_bytes_per_s;
    double max_downtime_s;
    uint32_t max_rounds;      /* forced stop-and-copy after this many rounds (plain: 30) */
    double history_s;         /* trace time before the start offset the predictors may see */
    double postcopy_switch_s; /* aras: downtime of a switch to post-copy (device state) */
};

/* The outcome of one simulated migration. */
struct migrate_sim_result {
    double start_s;         /* start offset in the trace */
    double bytes;           /* total bytes sent (pre-copy rounds + stop-and-copy [+ post-copy]) */
    double total_s;         /* start to resume on the destination (+ post-copy pull) */
    double downtime_s;      /* stop-and-copy (or switch) time */
    uint32_t rounds;        /* pre-copy rounds, stop-and-copy not counted */
    bool converged;         /* remaining fit the budget before a stop rule fired */
    bool postcopy;          /* aras switched to post-copy after detecting non-convergence */
    double postcopy_s;      /* time to pull the remaining pages after the switch */
    uint64_t deferred;      /* page deferrals */
    uint64_t deferred_hit;  /* deferrals of pages that were rewritten before the next round */
    double populated_bytes; /* pages with data at the start: what any policy must send */
};

/* Simulate one migration starting at interval `start`. Writes are replayed from
 * the trace, wrapping around to interval 0 when the migration outlasts it.
 * Returns 0, or -1 on a bad configuration (err_set). */
int migrate_sim_run(const struct migrate_trace *t, const struct migrate_sim_config *cfg,
                    const struct migrate_policy_spec *spec, uint32_t start,
                    struct migrate_sim_result *out);

/* Start intervals for n offsets: evenly spaced after history_s of trace. */
uint32_t migrate_sim_offsets(const struct migrate_trace *t, double history_s, uint32_t n,
                             uint32_t *out);

#endif

/* fuzz_dirtytrace: libFuzzer target for the DIRTYTR1 trace reader — any bytes
 * must give a valid trace or an error naming the file, never a crash or a leak;
 * a small trace that parsed must also simulate without trouble. */
#include "migrate/migrate.h"
#include "util/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct migrate_trace t;
    /* 64 MiB payload limit: decompression bombs are refused, not allocated. */
    if (migrate_trace_parse(data, size, "fuzz.trace", 64u << 20, &t) < 0) {
        if (strncmp(err_msg(), "fuzz.trace: ", 12) != 0) {
            fprintf(stderr, "error without the file name: %s\n", err_msg());
            abort();
        }
        if (t.keys || t.bitmaps)
            abort();
        return 0;
    }
    if (migrate_trace_check(&t, "fuzz.trace") < 0)
        abort();
    /* Keys sorted, times monotonic: the simulator may rely on it. */
    for (uint32_t p = 1; p < t.n_pages; p++) {
        if (t.keys[p] <= t.keys[p - 1])
            abort();
    }
    if (t.n_pages && t.n_intervals && t.t_end[t.n_intervals - 1] > 0 && t.n_pages < 4096 &&
        t.n_intervals < 256) {
        struct migrate_sim_config cfg = {.bandwidth_bytes_per_s = 4096 * 64,
                                         .max_downtime_s = 0.01,
                                         .max_rounds = 5,
                                         .history_s = 0.5,
                                         .postcopy_switch_s = 0.005};
        struct migrate_policy_spec spec = {.kind = MIGRATE_POLICY_ARAS};
        struct migrate_sim_result r;
        if (migrate_sim_run(&t, &cfg, &spec, t.n_intervals / 2, &r) < 0 || !(r.bytes >= 0))
            abort();
    }
    migrate_trace_free(&t);
    return 0;
}

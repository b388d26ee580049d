/* clock: the only source of time for policy and monitoring code.
 *
 * A real clock reads CLOCK_MONOTONIC (for intervals) and CLOCK_REALTIME (for
 * timestamps stored in history). A virtual clock only moves when told to, so a
 * trace replay is deterministic and runs as fast as the CPU allows. Policy code
 * never calls time() itself: it is handed a `struct clock *` or a timestamp.
 */
#ifndef ARAS_UTIL_CLOCK_H
#define ARAS_UTIL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

enum clock_kind {
    CLOCK_KIND_REAL,
    CLOCK_KIND_VIRTUAL,
};

struct clock {
    enum clock_kind kind;
    int64_t virtual_ms;  /* virtual clocks: current time in ms since the epoch */
    int64_t mono_origin; /* real clocks: monotonic ms at init, for elapsed time */
};

void clock_init_real(struct clock *c);
/* Start a virtual clock at start_ms (ms since the Unix epoch; 0 is fine). */
void clock_init_virtual(struct clock *c, int64_t start_ms);

/* Wall time in ms since the Unix epoch (virtual: the virtual time). */
int64_t clock_now_ms(const struct clock *c);
/* Monotonic ms (virtual: the virtual time), for measuring intervals. */
int64_t clock_mono_ms(const struct clock *c);

/* Virtual clocks only: move time forward by delta_ms (>= 0) or to t_ms.
 * Moving a virtual clock backwards is allowed (tests of clock jumps) but it
 * must be asked for explicitly with clock_set_ms(). */
void clock_advance_ms(struct clock *c, int64_t delta_ms);
void clock_set_ms(struct clock *c, int64_t t_ms);

bool clock_is_virtual(const struct clock *c);

#endif

/* clock: real and virtual clocks (see clock.h). */
#include "util/clock.h"

#include <assert.h>
#include <time.h>

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_init_real(struct clock *c)
{
    c->kind = CLOCK_KIND_REAL;
    c->virtual_ms = 0;
    c->mono_origin = read_ms(CLOCK_MONOTONIC);
}

void clock_init_virtual(struct clock *c, int64_t start_ms)
{
    c->kind = CLOCK_KIND_VIRTUAL;
    c->virtual_ms = start_ms;
    c->mono_origin = 0;
}

int64_t clock_now_ms(const struct clock *c)
{
    if (c->kind == CLOCK_KIND_VIRTUAL)
        return c->virtual_ms;
    return read_ms(CLOCK_REALTIME);
}

int64_t clock_mono_ms(const struct clock *c)
{
    if (c->kind == CLOCK_KIND_VIRTUAL)
        return c->virtual_ms;
    return read_ms(CLOCK_MONOTONIC);
}

void clock_advance_ms(struct clock *c, int64_t delta_ms)
{
    assert(c->kind == CLOCK_KIND_VIRTUAL && delta_ms >= 0);
    c->virtual_ms += delta_ms;
}

void clock_set_ms(struct clock *c, int64_t t_ms)
{
    assert(c->kind == CLOCK_KIND_VIRTUAL);
    c->virtual_ms = t_ms;
}

bool clock_is_virtual(const struct clock *c)
{
    return c->kind == CLOCK_KIND_VIRTUAL;
}

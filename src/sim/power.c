/* power: SPECpower models of the PlanetLab hosts and CloudSim's interpolation. */
#include "sim/sim.h"

#include <math.h>

/* SPECpower_ssj2008 results as used by CloudSim (watts at 0, 10, ..., 100 %). */
const struct sim_power_model sim_power_hp_ml110_g4 = {
    "hp-ml110-g4", {86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117}};
const struct sim_power_model sim_power_hp_ml110_g5 = {
    "hp-ml110-g5", {93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135}};

/* Synthetic: the G5 curve times 8, for the "large" host of scale runs (no
 * measurement behind it; the scale benchmark measures time, not energy). */
const struct sim_power_model sim_power_synthetic_large = {
    "synthetic-g5x8", {749.6, 776, 808, 840, 880, 928, 968, 1000, 1032, 1064, 1080}};

double sim_power_w(const struct sim_power_model *m, double util)
{
    if (!(util > 0))
        return m->watts[0];
    if (util >= 1)
        return m->watts[10];
    /* The same operations in the same order as PowerModelSpecPower.getPower,
     * so that energy sums agree with CloudSim's to the last bits. fmod is
     * exact, so a zero remainder needs util * 10 within rounding of an
     * integer; test that first to skip the slow fmod almost always. */
    double tenths = util * 10;
    int k = (int)tenths; /* floor, util > 0 */
    double frac = tenths - k;
    if (frac > 1e-9 && frac < 1 - 1e-9) {
        /* util * 10 is clearly not an integer: the remainder is not zero,
         * floor = k and ceil = k + 1 (the general case, without libm) */
        double q1 = m->watts[k], q2 = m->watts[k + 1];
        double d = (q2 - q1) / 10;
        return q1 + d * (util - (double)k / 10) * 100;
    }
    if (fabs(tenths - (double)(long)(tenths + 0.5)) < 1e-9 && fmod(util, 0.1) == 0)
        return m->watts[(int)(util * 10)];
    int u1 = (int)floor(util * 10);
    int u2 = (int)ceil(util * 10);
    double p1 = m->watts[u1], p2 = m->watts[u2];
    double delta = (p2 - p1) / 10;
    return p1 + delta * (util - (double)u1 / 10) * 100;
}

/* SPDX-License-Identifier: MIT */
/*
 * The per-handle generator: xoshiro256** seeded through splitmix64, so that
 * initialisation and shuffling depend on the seed alone, on every machine.
 * There is no global generator.
 */
#include <math.h>

#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void nn__rng_seed(uint64_t state[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        state[i] = splitmix64(&seed);
}

uint64_t nn__rng_next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nn__rng_uniform(uint64_t state[4])
{
    return (double)(nn__rng_next(state) >> 11) * 0x1.0p-53;
}

void nn__rng_dropout_mask(uint64_t s[4], float *mask, size_t n, double p,
                          float keep_scale)
{
    /* u = k 2^-53 with k the top 53 bits of a draw, and k 2^-53 < p exactly
     * when k < ceil(p 2^53): the comparison in integers, and the generator
     * in registers for the whole loop (a call per unit is overhead paid on
     * every hidden unit of every sample). */
    uint64_t below = (uint64_t)ceil(p * 0x1.0p53);
    uint64_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    for (size_t i = 0; i < n; i++) {
        uint64_t k = (rotl(s1 * 5, 7) * 9) >> 11;
        uint64_t t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = rotl(s3, 45);
        mask[i] = k < below ? 0.0f : keep_scale;
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

uint64_t nn__rng_below(uint64_t state[4], uint64_t bound)
{
    /* Rejection of the top partial block keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do
        r = nn__rng_next(state);
    while (r >= limit);
    return r % bound;
}

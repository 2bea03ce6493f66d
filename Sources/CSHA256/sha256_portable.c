// SHA-256 compression in portable C (FIPS 180-4 section 6.2.2), with a rolling 16-word message schedule.
//
// Rather than shifting a..h every round, each round updates only d and h in place and the next round is
// called with the names rotated by one, so eight rounds bring them back to where they started.
#include "sha256_internal.h"

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }
static inline uint32_t big_sigma0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static inline uint32_t big_sigma1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static inline uint32_t small_sigma0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static inline uint32_t small_sigma1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }
static inline uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static inline uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/// One round with message word `wt` and constant `kt`: T1 goes into d (the new e) and T1+T2 into h (the new a).
#define ROUND(a, b, c, d, e, f, g, h, kt, wt)                                 \
    do {                                                                      \
        uint32_t t1 = (h) + big_sigma1(e) + ch((e), (f), (g)) + (kt) + (wt);  \
        uint32_t t2 = big_sigma0(a) + maj((a), (b), (c));                     \
        (d) += t1;                                                            \
        (h) = t1 + t2;                                                        \
    } while (0)

/// W[t] for t >= 16 into w[t mod 16]; `i` is t mod 16.
#define EXPAND(i) \
    (w[i] += small_sigma1(w[((i) + 14) & 15]) + w[((i) + 9) & 15] + small_sigma0(w[((i) + 1) & 15]))

/// Eight rounds t0..t0+7, where `W(i)` yields the message word for round t0+i.
#define EIGHT_ROUNDS(t0, W)                                                   \
    do {                                                                      \
        ROUND(a, b, c, d, e, f, g, h, pare_sha256_k[(t0) + 0], W(0));         \
        ROUND(h, a, b, c, d, e, f, g, pare_sha256_k[(t0) + 1], W(1));         \
        ROUND(g, h, a, b, c, d, e, f, pare_sha256_k[(t0) + 2], W(2));         \
        ROUND(f, g, h, a, b, c, d, e, pare_sha256_k[(t0) + 3], W(3));         \
        ROUND(e, f, g, h, a, b, c, d, pare_sha256_k[(t0) + 4], W(4));         \
        ROUND(d, e, f, g, h, a, b, c, pare_sha256_k[(t0) + 5], W(5));         \
        ROUND(c, d, e, f, g, h, a, b, pare_sha256_k[(t0) + 6], W(6));         \
        ROUND(b, c, d, e, f, g, h, a, pare_sha256_k[(t0) + 7], W(7));         \
    } while (0)

void pare_sha256_blocks_portable(uint32_t state[8], const uint8_t *p, size_t nblocks) {
    uint32_t w[16];  // W[t mod 16]: the schedule only ever looks 16 words back
    for (; nblocks > 0; nblocks--, p += 64) {
        for (int i = 0; i < 16; i++) w[i] = load_be32(p + 4 * i);
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];

#define W_LOW(i) w[i]
#define W_HIGH(i) w[8 + (i)]
        EIGHT_ROUNDS(0, W_LOW);
        EIGHT_ROUNDS(8, W_HIGH);
        for (int t = 16; t < 64; t += 16) {
#define X_LOW(i) EXPAND(i)
#define X_HIGH(i) EXPAND(8 + (i))
            EIGHT_ROUNDS(t, X_LOW);
            EIGHT_ROUNDS(t + 8, X_HIGH);
#undef X_LOW
#undef X_HIGH
        }
#undef W_LOW
#undef W_HIGH

        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
    }
}

// Encoders: float32 rows into block formats the kernels read (f16, q8_0, q4_0, q4_1). Portable C only: they run
// at compile time (and in the interpreter's `quantize(...)` view), never per token. Each block starts as ggml's
// reference quantisers write it; 4-bit blocks are then refined by least squares (below), never to a larger squared
// error. Deterministic, so the interpreter simulating `quantize(...)` sees exactly the values the plan will hold.
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

int pk_encodable(int type) {
    return type == PK_F16 || type == PK_Q8_0 || type == PK_Q4_0 || type == PK_Q4_1;
}

static void put_half(uint8_t *p, float f) {
    uint16_t h = pk_float_to_half(f);
    p[0] = (uint8_t)(h & 0xff);
    p[1] = (uint8_t)(h >> 8);
}

// q8_0: d = amax / 127, q = round(x / d) (half away from zero).
static void encode_q8_0(const float *x, uint8_t *b) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    put_half(b, d);
    for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}

// q4_0: d = (the element of largest magnitude, with its sign) / -8, q = min(15, trunc(x / d + 8.5)); element j in
// the low nibble of byte j, element j + 16 in its high nibble.
static void encode_q4_0(const float *x, uint8_t *b) {
    float amax = 0, max = 0;
    for (int j = 0; j < 32; j++) {
        if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    }
    float d = max / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
    put_half(b, d);
    for (int j = 0; j < 16; j++) {
        int lo = (int8_t)(x[j] * id + 8.5f), hi = (int8_t)(x[j + 16] * id + 8.5f);
        lo = lo > 15 ? 15 : lo;
        hi = hi > 15 ? 15 : hi;
        b[2 + j] = (uint8_t)(lo | hi << 4);
    }
}

// q4_1: d = (max - min) / 15, m = min, q = min(15, trunc((x - min) / d + 0.5)); nibbles as q4_0.
static void encode_q4_1(const float *x, uint8_t *b) {
    float lo_v = x[0], hi_v = x[0];
    for (int j = 1; j < 32; j++) {
        lo_v = fminf(lo_v, x[j]);
        hi_v = fmaxf(hi_v, x[j]);
    }
    float d = (hi_v - lo_v) / 15.0f, id = d != 0 ? 1.0f / d : 0.0f;
    put_half(b, d);
    put_half(b + 2, lo_v);
    for (int j = 0; j < 16; j++) {
        int lo = (int8_t)((x[j] - lo_v) * id + 0.5f), hi = (int8_t)((x[j + 16] - lo_v) * id + 0.5f);
        lo = lo > 15 ? 15 : lo;
        hi = hi > 15 ? 15 : hi;
        b[4 + j] = (uint8_t)(lo | hi << 4);
    }
}

// ---- Least-squares refinement (q4_0, q4_1) ----
// Min-max scales leave error on the table: a block's largest value sets the scale even when most values sit near
// zero. Starting from the reference encoding (and from a few shrunken scales), alternate: fit the scale (and min)
// to the current integers by least squares, round them to halves, re-round the integers; keep the block with the
// smallest squared error, measured on the values as decoded (half scales). Never worse than the reference block.

/// Squared error of a q4_0 (`q4_1` 0) or q4_1 (`q4_1` 1) block against x.
static double sse_q4(const float *x, const uint8_t *b, int q4_1) {
    float d = pk_h(b), m = q4_1 ? pk_h(b + 2) : 0;
    const uint8_t *qs = b + (q4_1 ? 4 : 2);
    double e = 0;
    for (int j = 0; j < 16; j++) {
        float lo = (float)(qs[j] & 0x0f), hi = (float)(qs[j] >> 4);
        float y0 = q4_1 ? d * lo + m : d * (lo - 8), y1 = q4_1 ? d * hi + m : d * (hi - 8);
        e += (double)(x[j] - y0) * (x[j] - y0) + (double)(x[j + 16] - y1) * (x[j + 16] - y1);
    }
    return e;
}

/// Writes the block for scale d (and min m): integers rounded to nearest and clamped to 0..15.
static void put_q4(const float *x, uint8_t *b, int q4_1, float d, float m) {
    put_half(b, d);
    if (q4_1) put_half(b + 2, m);
    float dd = pk_h(b), mm = q4_1 ? pk_h(b + 2) : 0, id = dd != 0 ? 1.0f / dd : 0.0f;
    uint8_t *qs = b + (q4_1 ? 4 : 2);
    for (int j = 0; j < 16; j++) {
        int q[2];
        for (int k = 0; k < 2; k++) {
            float v = q4_1 ? (x[j + 16 * k] - mm) * id : x[j + 16 * k] * id + 8.0f;
            int r = (int)roundf(v);
            q[k] = r < 0 ? 0 : r > 15 ? 15 : r;
        }
        qs[j] = (uint8_t)(q[0] | q[1] << 4);
    }
}

/// Least-squares scale (and min) for the block's current integers; 0 when they are all equal.
static int fit_q4(const float *x, const uint8_t *b, int q4_1, float *d, float *m) {
    const uint8_t *qs = b + (q4_1 ? 4 : 2);
    double sq = 0, sqq = 0, sx = 0, sxq = 0;
    for (int j = 0; j < 32; j++) {
        double q = (double)(j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4) - (q4_1 ? 0 : 8);
        sq += q; sqq += q * q; sx += x[j]; sxq += x[j] * q;
    }
    if (q4_1) {
        double det = 32 * sqq - sq * sq;
        if (det <= 0) return 0;
        *d = (float)((32 * sxq - sq * sx) / det);
        *m = (float)((sx - *d * sq) / 32);
        return *d > 0;
    }
    if (sqq <= 0) return 0;
    *d = (float)(sxq / sqq);
    *m = 0;
    return 1;
}

static void refine_q4(const float *x, uint8_t *b, int q4_1) {
    size_t bytes = q4_1 ? 20 : 18;
    uint8_t best[20], cur[20];
    memcpy(best, b, bytes);
    double best_e = sse_q4(x, best, q4_1);
    float d0 = pk_h(b), m0 = q4_1 ? pk_h(b + 2) : 0;
    static const float shrink[] = {1.0f, 0.9f, 0.8f};
    for (int s = 0; s < 3; s++) {
        // Start: the reference scale shrunk (q4_1: around the block's midpoint), values rounded to it.
        float d = d0 * shrink[s], m = q4_1 ? m0 + 7.5f * d0 * (1 - shrink[s]) : 0;
        put_q4(x, cur, q4_1, d, m);
        for (int it = 0; it < 4; it++) {
            double e = sse_q4(x, cur, q4_1);
            if (e < best_e) { best_e = e; memcpy(best, cur, bytes); }
            if (!fit_q4(x, cur, q4_1, &d, &m) || !isfinite(d) || !isfinite(m)) break;
            put_q4(x, cur, q4_1, d, m);
        }
        double e = sse_q4(x, cur, q4_1);
        if (e < best_e) { best_e = e; memcpy(best, cur, bytes); }
    }
    memcpy(b, best, bytes);
}

int pk_quantize_row(int type, const float *x, void *dst, int64_t n) {
    if (!pk_encodable(type) || (pk_row_bytes(type, n) == 0 && n != 0)) return -1;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return -2;
    }
    uint8_t *b = (uint8_t *)dst;
    if (type == PK_F16) {
        for (int64_t i = 0; i < n; i++) put_half(b + 2 * i, x[i]);
        return 0;
    }
    size_t bb = pk_block_bytes(type);
    for (int64_t i = 0; i < n / 32; i++, x += 32, b += bb) {
        switch (type) {
        case PK_Q8_0: encode_q8_0(x, b); break;
        case PK_Q4_0: encode_q4_0(x, b); refine_q4(x, b, 0); break;
        default: encode_q4_1(x, b); refine_q4(x, b, 1); break;
        }
    }
    return 0;
}

// Encoders: float32 rows into block formats the kernels read (f16, q8_0, q4_0, q4_1). Portable C only: they run
// at compile time (and in the interpreter's `quantize(...)` view), never per token. The rounding is the one ggml's
// reference quantisers use, so a block written here is the block ggml would write from the same floats, and a
// Pare interpreter that simulates `quantize(...)` sees exactly the values the plan will hold.
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
        case PK_Q4_0: encode_q4_0(x, b); break;
        default: encode_q4_1(x, b); break;
        }
    }
    return 0;
}

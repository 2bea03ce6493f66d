// The portable definitions: block sizes, half floats, activation quantisation, dot products, dequantisation,
// and the level dispatch. The AVX2 kernels (kernels_avx2.c) must give the same integer sums as these.
#include "kernels_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

// ---- Half floats ----

float pk_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { // subnormal: normalise
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000 | man << 13;
    } else {
        bits = sign | (exp + 112) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t pk_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffff;
    if (ax >= 0x7f800000) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0)); // inf, nan
    if (ax >= 0x477ff000) return (uint16_t)(sign | 0x7c00);                                  // rounds to inf
    if (ax < 0x38800000) { // subnormal or zero in half: round to nearest even at 2^-24
        float v;
        memcpy(&v, &ax, 4);
        return (uint16_t)(sign | (uint32_t)nearbyintf(v * 16777216.0f));
    }
    uint32_t r = ax + 0xfff + ((ax >> 13) & 1); // round to nearest even on the 13 dropped bits
    return (uint16_t)(sign | ((r - 0x38000000) >> 13));
}

// ---- Sizes ----

int64_t pk_block_elems(int type) {
    switch (type) {
    case PK_F32: case PK_F16: return 1;
    case PK_Q4_0: case PK_Q4_1: case PK_Q5_0: case PK_Q5_1: case PK_Q8_0: return 32;
    case PK_Q4_K: case PK_Q6_K: return 256;
    default: return 0;
    }
}

size_t pk_block_bytes(int type) {
    switch (type) {
    case PK_F32: return 4;
    case PK_F16: return 2;
    case PK_Q4_0: return 18;
    case PK_Q4_1: return 20;
    case PK_Q5_0: return 22;
    case PK_Q5_1: return 24;
    case PK_Q8_0: return 34;
    case PK_Q4_K: return 144;
    case PK_Q6_K: return 210;
    default: return 0;
    }
}

int pk_supported(int type) { return pk_block_elems(type) > 0; }

size_t pk_row_bytes(int type, int64_t n) {
    int64_t b = pk_block_elems(type);
    if (b == 0 || n < 0 || n % b != 0) return 0;
    return (size_t)(n / b) * pk_block_bytes(type);
}

/// The activation format a weight type pairs with: 0 float32, 32 pk_act32, 256 pk_act256.
static int act_kind(int type) {
    switch (type) {
    case PK_F32: case PK_F16: return 0;
    case PK_Q4_K: case PK_Q6_K: return 256;
    default: return 32;
    }
}

size_t pk_act_bytes(int type, int64_t n) {
    switch (act_kind(type)) {
    case 0: return (size_t)n * sizeof(float);
    case 32: return (size_t)(n / 32) * sizeof(pk_act32);
    default: return (size_t)(n / 256) * sizeof(pk_act256);
    }
}

// ---- Portable activation quantisation ----

static void quant32_portable(const float *x, const float *gain, float scale, int64_t n, void *act) {
    pk_act32 *a = (pk_act32 *)act;
    for (int64_t b = 0; b < n / 32; b++) {
        float v[32], amax = 0;
        for (int j = 0; j < 32; j++) {
            v[j] = x[b * 32 + j] * scale * (gain ? gain[b * 32 + j] : 1.0f);
            amax = fmaxf(amax, fabsf(v[j]));
        }
        float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            a[b].q[j] = (int8_t)nearbyintf(v[j] * id);
            sum += a[b].q[j];
        }
        a[b].d = d;
        a[b].s = d * (float)sum;
    }
}

static void quant256_portable(const float *x, const float *gain, float scale, int64_t n, void *act) {
    pk_act256 *a = (pk_act256 *)act;
    for (int64_t b = 0; b < n / 256; b++) {
        float v[256], amax = 0;
        for (int j = 0; j < 256; j++) {
            v[j] = x[b * 256 + j] * scale * (gain ? gain[b * 256 + j] : 1.0f);
            amax = fmaxf(amax, fabsf(v[j]));
        }
        float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 16 * g; j < 16 * g + 16; j++) {
                a[b].q[j] = (int8_t)nearbyintf(v[j] * id);
                sum += a[b].q[j];
            }
            a[b].bsums[g] = (int16_t)sum;
        }
        a[b].d = d;
    }
}

static void quant_float(const float *x, const float *gain, float scale, int64_t n, void *act) {
    float *a = (float *)act;
    for (int64_t i = 0; i < n; i++) a[i] = x[i] * scale * (gain ? gain[i] : 1.0f);
}

// ---- Portable dot products (the definitions) ----

static float dot_f32(const void *w, const void *act, int64_t n) {
    const float *a = (const float *)w, *x = (const float *)act;
    double s = 0; // exact enough to be the reference; the fast path is BLAS's, not this
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * x[i];
    return (float)s;
}

static float dot_f16(const void *w, const void *act, int64_t n) {
    const uint8_t *a = (const uint8_t *)w;
    const float *x = (const float *)act;
    float s = 0;
    for (int64_t i = 0; i < n; i++) s += pk_h(a + 2 * i) * x[i];
    return s;
}

static float dot_q4_0(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    float s = 0;
    for (int64_t i = 0; i < nb; i++, b += 18) {
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            sum += ((b[2 + j] & 0x0f) - 8) * a[i].q[j] + ((b[2 + j] >> 4) - 8) * a[i].q[j + 16];
        }
        s += pk_h(b) * a[i].d * (float)sum;
    }
    return s;
}

static float dot_q4_1(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    float s = 0;
    for (int64_t i = 0; i < nb; i++, b += 20) {
        int sum = 0;
        for (int j = 0; j < 16; j++) sum += (b[4 + j] & 0x0f) * a[i].q[j] + (b[4 + j] >> 4) * a[i].q[j + 16];
        s += pk_h(b) * a[i].d * (float)sum + pk_h(b + 2) * a[i].s;
    }
    return s;
}

static uint32_t load32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static float dot_q5_0(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    float s = 0;
    for (int64_t i = 0; i < nb; i++, b += 22) {
        uint32_t qh = load32(b + 2);
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (b[6 + j] & 0x0f) | (int)((qh >> j) & 1) << 4;
            int hi = (b[6 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            sum += (lo - 16) * a[i].q[j] + (hi - 16) * a[i].q[j + 16];
        }
        s += pk_h(b) * a[i].d * (float)sum;
    }
    return s;
}

static float dot_q5_1(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    float s = 0;
    for (int64_t i = 0; i < nb; i++, b += 24) {
        uint32_t qh = load32(b + 4);
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (b[8 + j] & 0x0f) | (int)((qh >> j) & 1) << 4;
            int hi = (b[8 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            sum += lo * a[i].q[j] + hi * a[i].q[j + 16];
        }
        s += pk_h(b) * a[i].d * (float)sum + pk_h(b + 2) * a[i].s;
    }
    return s;
}

static float dot_q8_0(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    float s = 0;
    for (int64_t i = 0; i < nb; i++, b += 34) {
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += (int8_t)b[2 + j] * a[i].q[j];
        s += pk_h(b) * a[i].d * (float)sum;
    }
    return s;
}

/// Q4_K/Q5_K's 6-bit scale and min of sub-block j (0 ..< 8).
static void scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0f) | (q[j - 4] >> 6) << 4;
        *m = (q[j + 4] >> 4) | (q[j] >> 6) << 4;
    }
}

static float dot_q4_k(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act256 *a = (const pk_act256 *)act;
    float s = 0;
    for (int64_t i = 0; i < nb; i++, b += 144) {
        const uint8_t *qs = b + 16;
        int sumq = 0, summ = 0;
        for (int c = 0; c < 4; c++) {
            int sc1, m1, sc2, m2;
            scale_min_k4(2 * c, b + 4, &sc1, &m1);
            scale_min_k4(2 * c + 1, b + 4, &sc2, &m2);
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += (qs[32 * c + l] & 0x0f) * a[i].q[64 * c + l];
                s2 += (qs[32 * c + l] >> 4) * a[i].q[64 * c + 32 + l];
            }
            sumq += sc1 * s1 + sc2 * s2;
            summ += m1 * (a[i].bsums[4 * c] + a[i].bsums[4 * c + 1]) + m2 * (a[i].bsums[4 * c + 2] + a[i].bsums[4 * c + 3]);
        }
        s += a[i].d * (pk_h(b) * (float)sumq - pk_h(b + 2) * (float)summ);
    }
    return s;
}

static float dot_q6_k(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act256 *a = (const pk_act256 *)act;
    float s = 0;
    for (int64_t i = 0; i < nb; i++, b += 210) {
        int sum = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = b + 64 * half, *qh = b + 128 + 32 * half;
            const int8_t *sc = (const int8_t *)(b + 192 + 8 * half);
            const int8_t *q = a[i].q + 128 * half;
            int g[8] = {0};
            for (int l = 0; l < 32; l++) {
                int h = qh[l], k = l / 16;
                g[0 + k] += (((ql[l] & 0x0f) | (h & 3) << 4) - 32) * q[l];
                g[2 + k] += (((ql[l + 32] & 0x0f) | ((h >> 2) & 3) << 4) - 32) * q[l + 32];
                g[4 + k] += (((ql[l] >> 4) | ((h >> 4) & 3) << 4) - 32) * q[l + 64];
                g[6 + k] += (((ql[l + 32] >> 4) | ((h >> 6) & 3) << 4) - 32) * q[l + 96];
            }
            for (int k = 0; k < 8; k++) sum += sc[k] * g[k];
        }
        s += pk_h(b + 208) * a[i].d * (float)sum;
    }
    return s;
}

static void f16_to_f32_portable(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = pk_half_to_float(src[i]);
}

const pk_table pk_portable_table = {
    .dot = {
        [PK_F32] = dot_f32, [PK_F16] = dot_f16, [PK_Q4_0] = dot_q4_0, [PK_Q4_1] = dot_q4_1, [PK_Q5_0] = dot_q5_0,
        [PK_Q5_1] = dot_q5_1, [PK_Q8_0] = dot_q8_0, [PK_Q4_K] = dot_q4_k, [PK_Q6_K] = dot_q6_k,
    },
    .quant32 = quant32_portable,
    .quant256 = quant256_portable,
    .f16_to_f32 = f16_to_f32_portable,
};

// ---- Level dispatch ----

static int detect_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) return PK_LEVEL_AVX2;
#endif
    return PK_LEVEL_PORTABLE;
}

static _Atomic int level_in_use = -1;

int pk_level_max(void) {
    static _Atomic int best = -1;
    int b = atomic_load(&best);
    if (b < 0) { b = detect_level(); atomic_store(&best, b); }
    return b;
}

int pk_level(void) {
    int l = atomic_load(&level_in_use);
    if (l < 0) { l = pk_level_max(); atomic_store(&level_in_use, l); }
    return l;
}

int pk_set_level(int level) {
    int max = pk_level_max();
    int l = level >= PK_LEVEL_AVX2 && max >= PK_LEVEL_AVX2 ? PK_LEVEL_AVX2 : PK_LEVEL_PORTABLE;
    atomic_store(&level_in_use, l);
    return l;
}

static const pk_table *table(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (pk_level() >= PK_LEVEL_AVX2) return &pk_avx2_table;
#endif
    return &pk_portable_table;
}

static pk_dot_fn dot_for(int type) {
    if (type < 0 || type >= 16) return NULL;
    pk_dot_fn f = table()->dot[type];
    return f ? f : pk_portable_table.dot[type];
}

void pk_quantize_act(int type, const float *x, const float *gain, float scale, int64_t n, void *act) {
    const pk_table *t = table();
    switch (act_kind(type)) {
    case 0: quant_float(x, gain, scale, n, act); break;
    case 32: (t->quant32 ? t->quant32 : quant32_portable)(x, gain, scale, n, act); break;
    default: (t->quant256 ? t->quant256 : quant256_portable)(x, gain, scale, n, act); break;
    }
}

void pk_matmul_rows(int type, const void *w, int64_t n, int64_t r0, int64_t r1,
                    const void *act, size_t act_stride, int64_t m, float *y, int64_t y_stride) {
    pk_dot_fn dot = dot_for(type);
    size_t rb = pk_row_bytes(type, n);
    if (!dot || rb == 0) return;
    int64_t units = act_kind(type) == 0 ? n : n / pk_block_elems(type);
    const char *wb = (const char *)w, *ab = (const char *)act;
    for (int64_t r = r0; r < r1; r++) {
        const void *row = wb + (size_t)r * rb;
        for (int64_t i = 0; i < m; i++) y[i * y_stride + r] = dot(row, ab + (size_t)i * act_stride, units);
    }
}

// ---- Dequantisation (portable; used for embedding rows, not in hot loops) ----

void pk_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    if (type >= 0 && type < 16 && table()->dequant[type]) {
        table()->dequant[type](src, dst, n);
        return;
    }
    pk_dequantize_row_portable(type, src, dst, n);
}

void pk_dequantize_row_portable(int type, const void *src, float *dst, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    switch (type) {
    case PK_F32: memcpy(dst, src, (size_t)n * 4); return;
    case PK_F16: table()->f16_to_f32((const uint16_t *)src, dst, n); return;
    default: break;
    }
    int64_t be = pk_block_elems(type);
    size_t bb = pk_block_bytes(type);
    if (be == 0 || n % be != 0) return;
    for (int64_t i = 0; i < n / be; i++, b += bb, dst += be) {
        switch (type) {
        case PK_Q4_0: {
            float d = pk_h(b);
            for (int j = 0; j < 16; j++) { dst[j] = d * ((b[2 + j] & 0x0f) - 8); dst[j + 16] = d * ((b[2 + j] >> 4) - 8); }
            break;
        }
        case PK_Q4_1: {
            float d = pk_h(b), m = pk_h(b + 2);
            for (int j = 0; j < 16; j++) { dst[j] = d * (b[4 + j] & 0x0f) + m; dst[j + 16] = d * (b[4 + j] >> 4) + m; }
            break;
        }
        case PK_Q5_0: case PK_Q5_1: {
            int one = type == PK_Q5_1;
            float d = pk_h(b), m = one ? pk_h(b + 2) : 0;
            uint32_t qh = load32(b + 2 + 2 * one);
            const uint8_t *qs = b + 6 + 2 * one;
            int off = one ? 0 : 16;
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (((qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4) - off) + m;
                dst[j + 16] = d * (((qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - off) + m;
            }
            break;
        }
        case PK_Q8_0: {
            float d = pk_h(b);
            for (int j = 0; j < 32; j++) dst[j] = d * (int8_t)b[2 + j];
            break;
        }
        case PK_Q4_K: {
            float d = pk_h(b), dmin = pk_h(b + 2);
            for (int c = 0; c < 4; c++) {
                int sc1, m1, sc2, m2;
                scale_min_k4(2 * c, b + 4, &sc1, &m1);
                scale_min_k4(2 * c + 1, b + 4, &sc2, &m2);
                for (int l = 0; l < 32; l++) {
                    dst[64 * c + l] = d * sc1 * (b[16 + 32 * c + l] & 0x0f) - dmin * m1;
                    dst[64 * c + 32 + l] = d * sc2 * (b[16 + 32 * c + l] >> 4) - dmin * m2;
                }
            }
            break;
        }
        case PK_Q6_K: {
            float d = pk_h(b + 208);
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = b + 64 * half, *qh = b + 128 + 32 * half;
                const int8_t *sc = (const int8_t *)(b + 192 + 8 * half);
                float *o = dst + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int h = qh[l], k = l / 16;
                    o[l] = d * sc[0 + k] * (((ql[l] & 0x0f) | (h & 3) << 4) - 32);
                    o[l + 32] = d * sc[2 + k] * (((ql[l + 32] & 0x0f) | ((h >> 2) & 3) << 4) - 32);
                    o[l + 64] = d * sc[4 + k] * (((ql[l] >> 4) | ((h >> 4) & 3) << 4) - 32);
                    o[l + 96] = d * sc[6 + k] * (((ql[l + 32] >> 4) | ((h >> 6) & 3) << 4) - 32);
                }
            }
            break;
        }
        default: return;
        }
    }
}

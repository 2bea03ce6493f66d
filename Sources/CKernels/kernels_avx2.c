// AVX2 (with FMA and F16C) kernels: the same integer sums as the portable definitions in kernels.c, eight or
// thirty-two lanes at a time. Compiled for any x86-64 target; only called after runtime detection (kernels.c).
#include "kernels_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline int hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

AVX2 static inline float h16(const uint8_t *p) {
    uint16_t v = (uint16_t)(p[0] | (p[1] << 8));
    return _cvtsh_ss(v);
}

/// 32 nibbles of 16 bytes: byte j low nibble -> lane j, high nibble -> lane j + 16.
AVX2 static inline __m256i nibbles32(const uint8_t *qs) {
    __m128i t = _mm_loadu_si128((const __m128i *)qs);
    __m128i m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(t, 4), m), _mm_and_si128(t, m));
}

/// Byte j is 0xff when bit j of x is set, else 0.
AVX2 static inline __m256i bytes_from_bits(uint32_t x) {
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
    v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}

/// Eight int32 partial sums of signed bytes w * a (the sign trick: |w| * (a with w's sign)).
AVX2 static inline __m256i dot_i8(__m256i w, __m256i a) {
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/// Eight int32 partial sums of unsigned bytes u (< 128) times signed bytes a.
AVX2 static inline __m256i dot_u8(__m256i u, __m256i a) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), _mm256_set1_epi16(1));
}

AVX2 static float dot_q8_0(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++, b += 34) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(b + 2));
        __m256i s = dot_i8(q, _mm256_loadu_si256((const __m256i *)a[i].q));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h16(b) * a[i].d), _mm256_cvtepi32_ps(s), acc);
    }
    return hsum8(acc);
}

AVX2 static float dot_q4_0(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    // Unsigned q (0..15) times the activation, then 8 * the activation's sum taken off (as q5_0 below, no sign
    // trick); two blocks per iteration into two accumulators.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float offsets = 0;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2, b += 36) {
        __m256i s0 = dot_u8(nibbles32(b + 2), _mm256_loadu_si256((const __m256i *)a[i].q));
        __m256i s1 = dot_u8(nibbles32(b + 20), _mm256_loadu_si256((const __m256i *)a[i + 1].q));
        float d0 = h16(b), d1 = h16(b + 18);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * a[i].d), _mm256_cvtepi32_ps(s0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * a[i + 1].d), _mm256_cvtepi32_ps(s1), acc1);
        offsets += d0 * a[i].s + d1 * a[i + 1].s;
    }
    for (; i < nb; i++, b += 18) {
        __m256i s = dot_u8(nibbles32(b + 2), _mm256_loadu_si256((const __m256i *)a[i].q));
        float d = h16(b);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d * a[i].d), _mm256_cvtepi32_ps(s), acc0);
        offsets += d * a[i].s;
    }
    return hsum8(_mm256_add_ps(acc0, acc1)) - 8 * offsets;
}

AVX2 static float dot_q4_1(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2, b += 40) {
        __m256i s0 = dot_u8(nibbles32(b + 4), _mm256_loadu_si256((const __m256i *)a[i].q));
        __m256i s1 = dot_u8(nibbles32(b + 24), _mm256_loadu_si256((const __m256i *)a[i + 1].q));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h16(b) * a[i].d), _mm256_cvtepi32_ps(s0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h16(b + 20) * a[i + 1].d), _mm256_cvtepi32_ps(s1), acc1);
        mins += h16(b + 2) * a[i].s + h16(b + 22) * a[i + 1].s;
    }
    for (; i < nb; i++, b += 20) {
        __m256i s = dot_u8(nibbles32(b + 4), _mm256_loadu_si256((const __m256i *)a[i].q));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h16(b) * a[i].d), _mm256_cvtepi32_ps(s), acc0);
        mins += h16(b + 2) * a[i].s;
    }
    return hsum8(_mm256_add_ps(acc0, acc1)) + mins;
}

AVX2 static float dot_q5_0(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    // Unsigned q (0..31) times the activation, then 16 * the activation's sum taken off: the same integer sum as
    // sum((q - 16) * a), without the sign trick. Two accumulators: consecutive blocks do not wait on each other.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float offsets = 0;
    const __m256i x10 = _mm256_set1_epi8(0x10);
    int64_t i = 0;
    for (; i + 1 < nb; i += 2, b += 44) {
        uint32_t qh0, qh1;
        __builtin_memcpy(&qh0, b + 2, 4);
        __builtin_memcpy(&qh1, b + 24, 4);
        __m256i q0 = _mm256_or_si256(nibbles32(b + 6), _mm256_and_si256(bytes_from_bits(qh0), x10));
        __m256i q1 = _mm256_or_si256(nibbles32(b + 28), _mm256_and_si256(bytes_from_bits(qh1), x10));
        __m256i s0 = dot_u8(q0, _mm256_loadu_si256((const __m256i *)a[i].q));
        __m256i s1 = dot_u8(q1, _mm256_loadu_si256((const __m256i *)a[i + 1].q));
        float d0 = h16(b), d1 = h16(b + 22);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * a[i].d), _mm256_cvtepi32_ps(s0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * a[i + 1].d), _mm256_cvtepi32_ps(s1), acc1);
        offsets += d0 * a[i].s + d1 * a[i + 1].s;
    }
    for (; i < nb; i++, b += 22) {
        uint32_t qh;
        __builtin_memcpy(&qh, b + 2, 4);
        __m256i q = _mm256_or_si256(nibbles32(b + 6), _mm256_and_si256(bytes_from_bits(qh), x10));
        __m256i s = dot_u8(q, _mm256_loadu_si256((const __m256i *)a[i].q));
        float d = h16(b);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d * a[i].d), _mm256_cvtepi32_ps(s), acc0);
        offsets += d * a[i].s;
    }
    return hsum8(_mm256_add_ps(acc0, acc1)) - 16 * offsets;
}

AVX2 static float dot_q5_1(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act32 *a = (const pk_act32 *)act;
    __m256 acc = _mm256_setzero_ps();
    const __m256i x10 = _mm256_set1_epi8(0x10);
    float mins = 0;
    for (int64_t i = 0; i < nb; i++, b += 24) {
        uint32_t qh;
        __builtin_memcpy(&qh, b + 4, 4);
        __m256i q = _mm256_or_si256(nibbles32(b + 8), _mm256_and_si256(bytes_from_bits(qh), x10));
        __m256i s = dot_u8(q, _mm256_loadu_si256((const __m256i *)a[i].q));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h16(b) * a[i].d), _mm256_cvtepi32_ps(s), acc);
        mins += h16(b + 2) * a[i].s;
    }
    return hsum8(acc) + mins;
}

AVX2 static float dot_q4_k(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act256 *a = (const pk_act256 *)act;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < nb; i++, b += 144) {
        const uint8_t *sc = b + 4, *qs = b + 16;
        int s[8], m[8];
        for (int j = 0; j < 4; j++) {
            s[j] = sc[j] & 63;
            m[j] = sc[j + 4] & 63;
            s[j + 4] = (sc[j + 8] & 0x0f) | (sc[j] >> 6) << 4;
            m[j + 4] = (sc[j + 8] >> 4) | (sc[j + 4] >> 6) << 4;
        }
        __m256i sumi = _mm256_setzero_si256();
        int summ = 0;
        for (int c = 0; c < 4; c++) {
            __m256i q4 = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(q4, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
            __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(a[i].q + 64 * c)));
            __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a[i].q + 64 * c + 32)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, _mm256_set1_epi16((short)s[2 * c])));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, _mm256_set1_epi16((short)s[2 * c + 1])));
            summ += m[2 * c] * (a[i].bsums[4 * c] + a[i].bsums[4 * c + 1])
                  + m[2 * c + 1] * (a[i].bsums[4 * c + 2] + a[i].bsums[4 * c + 3]);
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h16(b) * a[i].d), _mm256_cvtepi32_ps(sumi), acc);
        mins += h16(b + 2) * a[i].d * (float)summ;
    }
    return hsum8(acc) - mins;
}

AVX2 static float dot_q6_k(const void *w, const void *act, int64_t nb) {
    const uint8_t *b = (const uint8_t *)w;
    const pk_act256 *a = (const pk_act256 *)act;
    float acc = 0;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m03 = _mm256_set1_epi8(0x03), m0c = _mm256_set1_epi8(0x0c),
                  m30 = _mm256_set1_epi8(0x30);
    for (int64_t i = 0; i < nb; i++, b += 210) {
        const int8_t *sc = (const int8_t *)(b + 192);
        __m256i sumi = _mm256_setzero_si256();
        int offset = 0; // 32 * sum over groups of scale * bsum: the "- 32" of every element
        for (int g = 0; g < 16; g++) offset += sc[g] * a[i].bsums[g];
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = b + 64 * half, *qh = b + 128 + 32 * half;
            const int8_t *q = a[i].q + 128 * half, *s = sc + 8 * half;
            __m256i la = _mm256_loadu_si256((const __m256i *)ql), lb = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(la, m4), _mm256_slli_epi16(_mm256_and_si256(h, m03), 4));
            __m256i q2 = _mm256_or_si256(_mm256_and_si256(lb, m4), _mm256_slli_epi16(_mm256_and_si256(h, m0c), 2));
            __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(la, 4), m4), _mm256_and_si256(h, m30));
            __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lb, 4), m4),
                                         _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
            __m256i qs[4] = {q1, q2, q3, q4};
            for (int k = 0; k < 4; k++) {
                __m256i p = _mm256_maddubs_epi16(qs[k], _mm256_loadu_si256((const __m256i *)(q + 32 * k)));
                __m256i scale = _mm256_set_m128i(_mm_set1_epi16(s[2 * k + 1]), _mm_set1_epi16(s[2 * k]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale));
            }
        }
        int total = hsum8i(sumi) - 32 * offset;
        acc += h16(b + 208) * a[i].d * (float)total;
    }
    return acc;
}

AVX2 static float dot_f16(const void *w, const void *act, int64_t n) {
    const uint16_t *h = (const uint16_t *)w;
    const float *x = (const float *)act;
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i)));
        acc = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i), acc);
    }
    float s = hsum8(acc);
    for (; i < n; i++) s += _cvtsh_ss(h[i]) * x[i];
    return s;
}

AVX2 static void f16_to_f32(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}

/// 32 floats x * scale * gain (in that order, as the portable code), their absolute maximum.
AVX2 static inline float load_scaled(const float *x, const float *gain, float scale, __m256 v[4]) {
    __m256 sc = _mm256_set1_ps(scale), amax = _mm256_setzero_ps();
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), sc);
        if (gain) v[k] = _mm256_mul_ps(v[k], _mm256_loadu_ps(gain + 8 * k));
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/// Rounds 32 floats * id to nearest even, stores them as bytes; returns their int32 sums per 16-element half
/// in sums[0], sums[1].
AVX2 static inline void round_store(__m256 v[4], float id, int8_t *q, int sums[2]) {
    __m256 m = _mm256_set1_ps(id);
    __m256i i[4];
    for (int k = 0; k < 4; k++) {
        i[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], m), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    sums[0] = hsum8i(_mm256_add_epi32(i[0], i[1]));
    sums[1] = hsum8i(_mm256_add_epi32(i[2], i[3]));
    __m256i a = _mm256_packs_epi32(i[0], i[1]), b = _mm256_packs_epi32(i[2], i[3]);
    __m256i p = _mm256_packs_epi16(a, b);
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p);
}

AVX2 static void quant32(const float *x, const float *gain, float scale, int64_t n, void *act) {
    pk_act32 *a = (pk_act32 *)act;
    for (int64_t b = 0; b < n / 32; b++) {
        __m256 v[4];
        float amax = load_scaled(x + 32 * b, gain ? gain + 32 * b : NULL, scale, v);
        float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
        int sums[2];
        round_store(v, id, a[b].q, sums);
        a[b].d = d;
        a[b].s = d * (float)(sums[0] + sums[1]);
    }
}

AVX2 static void quant256(const float *x, const float *gain, float scale, int64_t n, void *act) {
    pk_act256 *a = (pk_act256 *)act;
    for (int64_t b = 0; b < n / 256; b++) {
        __m256 v[8][4];
        float amax = 0;
        for (int c = 0; c < 8; c++) {
            float m = load_scaled(x + 256 * b + 32 * c, gain ? gain + 256 * b + 32 * c : NULL, scale, v[c]);
            amax = amax > m ? amax : m;
        }
        float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
        for (int c = 0; c < 8; c++) {
            int sums[2];
            round_store(v[c], id, a[b].q + 32 * c, sums);
            a[b].bsums[2 * c] = (int16_t)sums[0];
            a[b].bsums[2 * c + 1] = (int16_t)sums[1];
        }
        a[b].d = d;
    }
}

/// 32 signed bytes times d, stored as 32 floats.
AVX2 static inline void store_scaled(__m256i q, float d, float *dst) {
    __m256 dv = _mm256_set1_ps(d);
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(dst, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
    _mm256_storeu_ps(dst + 8, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
    _mm256_storeu_ps(dst + 16, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
    _mm256_storeu_ps(dst + 24, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
}

AVX2 static void dequant_q8_0(const void *src, float *dst, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < n / 32; i++, b += 34, dst += 32) store_scaled(_mm256_loadu_si256((const __m256i *)(b + 2)), h16(b), dst);
}

AVX2 static void dequant_q5_0(const void *src, float *dst, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    const __m256i f0 = _mm256_set1_epi8((char)0xf0);
    for (int64_t i = 0; i < n / 32; i++, b += 22, dst += 32) {
        uint32_t qh;
        __builtin_memcpy(&qh, b + 2, 4);
        store_scaled(_mm256_or_si256(nibbles32(b + 6), _mm256_and_si256(bytes_from_bits(~qh), f0)), h16(b), dst);
    }
}

AVX2 static void dequant_q4_0(const void *src, float *dst, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    const __m256i eight = _mm256_set1_epi8(8);
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) store_scaled(_mm256_sub_epi8(nibbles32(b + 2), eight), h16(b), dst);
}

/// 32 unsigned bytes times d minus m, stored as 32 floats.
AVX2 static inline void store_affine(__m256i q, float d, float m, float *dst) {
    __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(m);
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(dst, _mm256_sub_ps(_mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo))), mv));
    _mm256_storeu_ps(dst + 8, _mm256_sub_ps(_mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)))), mv));
    _mm256_storeu_ps(dst + 16, _mm256_sub_ps(_mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi))), mv));
    _mm256_storeu_ps(dst + 24, _mm256_sub_ps(_mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)))), mv));
}

AVX2 static void dequant_q4_1(const void *src, float *dst, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < n / 32; i++, b += 20, dst += 32) store_affine(nibbles32(b + 4), h16(b), -h16(b + 2), dst);
}

AVX2 static void dequant_q4_k(const void *src, float *dst, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < n / 256; i++, b += 144, dst += 256) {
        const uint8_t *sc = b + 4;
        float d = h16(b), dmin = h16(b + 2);
        for (int c = 0; c < 4; c++) {
            int j = 2 * c, s1, m1, s2, m2;
            if (j < 4) { s1 = sc[j] & 63; m1 = sc[j + 4] & 63; } else { s1 = (sc[j + 4] & 0x0f) | (sc[j - 4] >> 6) << 4; m1 = (sc[j + 4] >> 4) | (sc[j] >> 6) << 4; }
            j++;
            if (j < 4) { s2 = sc[j] & 63; m2 = sc[j + 4] & 63; } else { s2 = (sc[j + 4] & 0x0f) | (sc[j - 4] >> 6) << 4; m2 = (sc[j + 4] >> 4) | (sc[j] >> 6) << 4; }
            __m256i q = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
            // As the portable code: d * scale * q - dmin * min, in that order of float operations.
            store_affine(_mm256_and_si256(q, m4), d * s1, dmin * m1, dst + 64 * c);
            store_affine(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), d * s2, dmin * m2, dst + 64 * c + 32);
        }
    }
}

const pk_table pk_avx2_table = {
    .dot = {
        [PK_F16] = dot_f16, [PK_Q4_0] = dot_q4_0, [PK_Q4_1] = dot_q4_1, [PK_Q5_0] = dot_q5_0, [PK_Q5_1] = dot_q5_1,
        [PK_Q8_0] = dot_q8_0, [PK_Q4_K] = dot_q4_k, [PK_Q6_K] = dot_q6_k,
    },
    .quant32 = quant32,
    .quant256 = quant256,
    .f16_to_f32 = f16_to_f32,
    .dequant = {[PK_Q8_0] = dequant_q8_0, [PK_Q5_0] = dequant_q5_0, [PK_Q4_0] = dequant_q4_0, [PK_Q4_1] = dequant_q4_1,
                [PK_Q4_K] = dequant_q4_k},
};

#endif

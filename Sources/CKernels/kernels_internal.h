// Shared by the kernel files: block and activation layouts, and the per-level function tables.
#ifndef PARE_KERNELS_INTERNAL_H
#define PARE_KERNELS_INTERNAL_H

#include "pare_kernels.h"

/// The activation of 32-element weight blocks: q = round(x / d), |q| <= 127; s = d * sum(q) (for formats with a
/// min, whose dot product needs the activation's block sum).
typedef struct {
    float d;
    float s;
    int8_t q[32];
} pk_act32;

/// The activation of 256-element k-quant super-blocks: q = round(x / d); bsums[g] = sum of q over elements
/// 16g ..< 16g + 16.
typedef struct {
    float d;
    int16_t bsums[16];
    int8_t q[256];
} pk_act256;

/// Dot product of one weight row (`nb` blocks) with one activation row of the matching format.
typedef float (*pk_dot_fn)(const void *w, const void *act, int64_t nb);
/// Quantises n elements (x * scale * gain) into an activation row.
typedef void (*pk_quant_fn)(const float *x, const float *gain, float scale, int64_t n, void *act);

/// One level's kernels; NULL entries fall back to the portable ones.
typedef struct {
    pk_dot_fn dot[16];
    pk_quant_fn quant32;
    pk_quant_fn quant256;
    void (*f16_to_f32)(const uint16_t *src, float *dst, int64_t n);
    /// Row dequantisation (n elements) per type; NULL: the portable one.
    void (*dequant[16])(const void *src, float *dst, int64_t n);
} pk_table;

/// The portable row dequantisation (the definition).
void pk_dequantize_row_portable(int type, const void *src, float *dst, int64_t n);

extern const pk_table pk_portable_table;
extern const pk_table pk_avx2_table;

/// ggml's fp16 as stored in blocks.
static inline float pk_h(const uint8_t *p) { return pk_half_to_float((uint16_t)(p[0] | (p[1] << 8))); }

#endif

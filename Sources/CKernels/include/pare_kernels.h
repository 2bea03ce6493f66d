// Pare's weight kernels: matrix products on block-quantised weights (ggml's block formats, bit for bit), the
// activation quantisation they pair with, row dequantisation, and a persistent thread pool.
//
// A weight matrix is `rows` rows of `n` elements; each row is `pk_row_bytes(type, n)` bytes of whole blocks, rows
// back to back. A product quantises the activation row once (`pk_quantize_act`: 8-bit blocks with one float
// scale, as llama.cpp's q8_0 / q8_K), then each output element is an integer dot product of a weight row with it,
// scaled. The portable C code is the definition; the AVX2 code (FMA, F16C) must give the same integer sums, and
// is used when the CPU has it (`pk_level`). Everything here is re-entrant except `pk_set_level` and
// `pk_set_threads`, which tests and benchmarks call before work starts.
#ifndef PARE_KERNELS_H
#define PARE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Weight types, numbered as ggml numbers them (GGUF's tensor type field).
enum {
    PK_F32 = 0,
    PK_F16 = 1,
    PK_Q4_0 = 2,
    PK_Q4_1 = 3,
    PK_Q5_0 = 6,
    PK_Q5_1 = 7,
    PK_Q8_0 = 8,
    PK_Q4_K = 12,
    PK_Q6_K = 14,
};

/// Instruction-set levels.
enum { PK_LEVEL_PORTABLE = 0, PK_LEVEL_AVX2 = 2 };

/// 1 when `pk_matmul` and `pk_dequantize_row` handle `type`, else 0.
int pk_supported(int type);
/// Elements per block (1 for f32/f16); 0 for an unsupported type.
int64_t pk_block_elems(int type);
/// Bytes per block; 0 for an unsupported type.
size_t pk_block_bytes(int type);
/// Bytes of one row of `n` elements; 0 when the type is unsupported or `n` is not a multiple of its block.
size_t pk_row_bytes(int type, int64_t n);
/// Bytes of one quantised activation row of `n` elements, for products with weights of `type`.
size_t pk_act_bytes(int type, int64_t n);

/// Quantises `x[0..<n] * scale * gain[i]` (gain may be NULL: 1) into `act` in the format weights of `type` pair
/// with. `n` must be a multiple of the type's block.
void pk_quantize_act(int type, const float *x, const float *gain, float scale, int64_t n, void *act);

/// `y[i * y_stride + r] = dot(row r of w, activation i)` for rows r in [r0, r1) and activations i in [0, m),
/// activation i at `(char *)act + i * act_stride`. Single-threaded; see `pk_matmul`.
void pk_matmul_rows(int type, const void *w, int64_t n, int64_t r0, int64_t r1,
                    const void *act, size_t act_stride, int64_t m, float *y, int64_t y_stride);

/// As `pk_matmul_rows` over all `rows`, split across the thread pool when it is worth it.
void pk_matmul(int type, const void *w, int64_t n, int64_t rows,
               const void *act, size_t act_stride, int64_t m, float *y, int64_t y_stride);

/// `y[i * ldy + r] = dot(dequantised row r of w, x[i * ldx ...])` for all `rows` and `m` float activation rows:
/// the prefill path. Tiles of weight rows are dequantised to float32 and multiplied with BLAS sgemm, tiles split
/// across the thread pool (each sgemm single-threaded). Exact up to float rounding (no activation quantisation).
void pk_matmul_f32(int type, const void *w, int64_t n, int64_t rows, const float *x, int64_t m, int64_t ldx,
                   float *y, int64_t ldy);

/// Dequantises one row of `n` elements to float32.
void pk_dequantize_row(int type, const void *src, float *dst, int64_t n);

/// 1 when `pk_quantize_row` encodes `type`: f16, q8_0, q4_0, q4_1.
int pk_encodable(int type);
/// Encodes `n` floats (a multiple of the type's block) as blocks of `type` into `dst` (`pk_row_bytes(type, n)`
/// bytes). Each block starts as ggml's reference quantisers write it: q8_0 scale amax / 127 and q = round(x / scale);
/// q4_0 scale (the element of largest magnitude) / -8 and q = min(15, trunc(x / scale + 8.5)); q4_1 scale
/// (max - min) / 15, min, q = min(15, trunc((x - min) / scale + 0.5)); scales and mins stored as halves. 4-bit
/// blocks are then refined: scale (and min) fitted to the integers by least squares and the integers re-rounded, a
/// few rounds from a few starting scales, keeping the block of least squared error (never more than the
/// reference's). Deterministic; portable C.
/// Returns 0; -1 when the type is not encodable or `n` is not a multiple of its block; -2 when some x is not finite.
int pk_quantize_row(int type, const float *x, void *dst, int64_t n);

/// The instruction-set level in use (the best this CPU has, unless lowered by `pk_set_level`).
int pk_level(void);
/// The best level this CPU supports.
int pk_level_max(void);
/// Uses at most `level` (clamped to what the CPU has); returns the level now in use. For tests and benchmarks.
int pk_set_level(int level);

/// Threads the pool runs products on (the caller included); by default the online CPUs, or $PARE_THREADS.
int pk_threads(void);
/// Sets the thread count (1 ... 256) before the first parallel product; later calls are ignored. Returns it.
int pk_set_threads(int n);

/// float32 <-> IEEE half, round to nearest even (portable).
float pk_half_to_float(uint16_t h);
uint16_t pk_float_to_half(float f);

#ifdef __cplusplus
}
#endif
#endif

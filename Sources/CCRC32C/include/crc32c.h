// CRC-32C (Castagnoli, RFC 3720): SSE4.2 `crc32` instructions when the CPU has them, slicing-by-8 tables otherwise.
#ifndef PARE_CRC32C_H
#define PARE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CRC-32C of `n` bytes at `data` (which may be NULL when `n` is 0), continuing from `crc`: pass 0 to start, and
/// the previous result to continue, so crc(a || b) == pare_crc32c(pare_crc32c(0, a, |a|), b, |b|). The standard
/// check value holds: pare_crc32c(0, "123456789", 9) == 0xE3069283. Uses SSE4.2 when the CPU supports it.
uint32_t pare_crc32c(uint32_t crc, const void *data, size_t n);

/// The same CRC computed with the portable tables only (for testing the two paths against each other).
uint32_t pare_crc32c_table(uint32_t crc, const void *data, size_t n);

/// 1 when `pare_crc32c` takes the SSE4.2 path on this machine, else 0.
int pare_crc32c_uses_sse42(void);

#ifdef __cplusplus
}
#endif

#endif

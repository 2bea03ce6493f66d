// SHA-256 (FIPS 180-4) in C: x86 SHA-NI instructions when the CPU has them, portable C otherwise.
#ifndef PARE_SHA256_H
#define PARE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// SHA-256 of `len` bytes at `data` (which may be NULL when `len` is 0) into `out` (32 bytes, big-endian
/// digest as FIPS 180-4 prints it). Uses the SHA-NI path when the CPU supports it, else `pare_sha256_portable`.
void pare_sha256(const void *data, size_t len, uint8_t out[32]);

/// The same digest computed by the portable C code only (for testing the two paths against each other).
void pare_sha256_portable(const void *data, size_t len, uint8_t out[32]);

/// 1 when `pare_sha256` takes the SHA-NI path on this machine, else 0.
int pare_sha256_uses_shani(void);

#ifdef __cplusplus
}
#endif

#endif

// Shared between the SHA-256 drivers and block functions: round constants and the block-function signature.
#ifndef PARE_SHA256_INTERNAL_H
#define PARE_SHA256_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define PARE_HIDDEN __attribute__((visibility("hidden")))

/// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
extern const uint32_t pare_sha256_k[64] PARE_HIDDEN;

/// Compresses `nblocks` consecutive 64-byte blocks at `p` (any alignment) into the state `h` (words A..H).
typedef void (*pare_sha256_blocks_fn)(uint32_t h[8], const uint8_t *p, size_t nblocks);

/// FIPS 180-4 section 6.2.2 in portable C.
void pare_sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks) PARE_HIDDEN;

#if defined(__x86_64__) || defined(__i386__)
#define PARE_SHA256_HAVE_SHANI 1
/// The same compression with the x86 SHA extensions; only call when the CPU has sha, sse4.1 and ssse3.
void pare_sha256_blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks) PARE_HIDDEN;
#else
#define PARE_SHA256_HAVE_SHANI 0
#endif

#endif

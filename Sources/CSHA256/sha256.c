// SHA-256 driver: whole blocks straight from the input, the padded tail from a local buffer, run-time dispatch.
#include "pare_sha256.h"
#include "sha256_internal.h"

#include <string.h>

const uint32_t pare_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/// FIPS 180-4 section 5.3.3: the initial hash value H(0).
static const uint32_t initial_state[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/// Hashes with the given block function: full blocks in place, then the padded tail (section 5.1.1).
static void sha256_with(pare_sha256_blocks_fn blocks, const void *data, size_t len, uint8_t out[32]) {
    uint32_t h[8];
    memcpy(h, initial_state, sizeof h);
    const uint8_t *p = (const uint8_t *)data;
    size_t full = len / 64;
    if (full > 0) blocks(h, p, full);

    // The tail: the remaining 0..63 bytes, a 1 bit, zeros, and the message length in bits (64-bit big-endian).
    uint8_t tail[128];
    size_t rest = len % 64;
    size_t tail_len = rest < 56 ? 64 : 128;
    memset(tail, 0, sizeof tail);
    if (rest > 0) memcpy(tail, p + full * 64, rest);
    tail[rest] = 0x80;
    uint64_t bits = (uint64_t)len << 3;
    for (unsigned i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    blocks(h, tail, tail_len / 64);

    for (int i = 0; i < 8; i++) {
        out[4 * i + 0] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

int pare_sha256_uses_shani(void) {
#if PARE_SHA256_HAVE_SHANI && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
#else
    return 0;
#endif
}

void pare_sha256_portable(const void *data, size_t len, uint8_t out[32]) {
    sha256_with(pare_sha256_blocks_portable, data, len, out);
}

void pare_sha256(const void *data, size_t len, uint8_t out[32]) {
#if PARE_SHA256_HAVE_SHANI
    if (pare_sha256_uses_shani()) {
        sha256_with(pare_sha256_blocks_shani, data, len, out);
        return;
    }
#endif
    sha256_with(pare_sha256_blocks_portable, data, len, out);
}

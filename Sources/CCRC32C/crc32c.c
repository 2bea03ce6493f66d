// CRC-32C (Castagnoli): portable slicing-by-8 tables, and SSE4.2 `crc32` instructions over three interleaved streams.
//
// Conventions (RFC 3720, the iSCSI CRC): polynomial 0x1EDC6F41, bit-reflected (0x82F63B78), register preset to
// 0xFFFFFFFF and the result inverted. Internally a "register" is the un-inverted state; a register `c` stands for
// the polynomial whose x^i coefficient is bit (31 - i), and processing n zero bytes multiplies it by x^(8n) mod P.
// That is what lets three independent streams be combined: crc(A || B) = crc(A) * x^(8|B|) + crc_from_zero(B).
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define PARE_CRC_HW 1
#include <nmmintrin.h>
#endif

/// The reflected Castagnoli polynomial.
#define POLY 0x82F63B78u
/// Stream lengths of the three-way hardware loop, in bytes: long for bulk data, short for the tail.
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

/// slicing[k][b]: the register after byte b followed by k zero bytes, starting from 0.  [8][256]
static uint32_t slicing[8][256];
/// shift_long[k][b]: (b << 8k) * x^(8 * LONG_BLOCK) mod P, so a register moves past LONG_BLOCK zero bytes with
/// four lookups; shift_short likewise for SHORT_BLOCK.  [4][256] each
static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/// a * b mod P, both in the reflected representation.
static uint32_t gf_multiply(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (int i = 0; i < 32; i++) {
        if (a & (0x80000000u >> i)) product ^= b;  // a has x^i: add b * x^i
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;    // b *= x
    }
    return product;
}

/// x^(8n) mod P, by square-and-multiply.
static uint32_t x_power_bytes(uint64_t n) {
    uint32_t result = 0x80000000u;  // x^0
    uint32_t base = 0x40000000u;    // x^1
    for (uint64_t e = 8 * n; e != 0; e >>= 1) {
        if (e & 1) result = gf_multiply(result, base);
        base = gf_multiply(base, base);
    }
    return result;
}

static void make_shift_table(uint32_t table[4][256], uint64_t n) {
    uint32_t m = x_power_bytes(n);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) table[k][b] = gf_multiply(m, b << (8 * k));
}

static void make_tables(void) {
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int i = 0; i < 8; i++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        slicing[0][b] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int b = 0; b < 256; b++) slicing[k][b] = (slicing[k - 1][b] >> 8) ^ slicing[0][slicing[k - 1][b] & 0xff];
    make_shift_table(shift_long, LONG_BLOCK);
    make_shift_table(shift_short, SHORT_BLOCK);
}

/// The register `c` moved past the zero bytes `table` was made for.
static inline uint32_t shift(const uint32_t table[4][256], uint32_t c) {
    return table[0][c & 0xff] ^ table[1][(c >> 8) & 0xff] ^ table[2][(c >> 16) & 0xff] ^ table[3][c >> 24];
}

/// The register after `n` bytes at `p`, slicing-by-8 (byte loads, so independent of endianness).
static uint32_t table_update(uint32_t c, const unsigned char *p, size_t n) {
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        c = (c >> 8) ^ slicing[0][(c ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = slicing[7][lo & 0xff] ^ slicing[6][(lo >> 8) & 0xff] ^ slicing[5][(lo >> 16) & 0xff] ^ slicing[4][lo >> 24]
            ^ slicing[3][p[4]] ^ slicing[2][p[5]] ^ slicing[1][p[6]] ^ slicing[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        c = (c >> 8) ^ slicing[0][(c ^ *p++) & 0xff];
        n--;
    }
    return c;
}

#ifdef PARE_CRC_HW
static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/// Three streams of `block` bytes each, `rounds` times: the CPU's crc32 has a latency of 3 cycles and a throughput
/// of 1, so three independent chains keep it busy. Returns the register; advances *pp.
__attribute__((target("sse4.2")))
static uint64_t hw_three_way(uint64_t c, const unsigned char **pp, size_t rounds, size_t block,
                             const uint32_t table[4][256]) {
    const unsigned char *p = *pp;
    for (size_t r = 0; r < rounds; r++) {
        uint64_t c1 = 0, c2 = 0;
        const unsigned char *end = p + block;
        do {
            c = _mm_crc32_u64(c, load64(p));
            c1 = _mm_crc32_u64(c1, load64(p + block));
            c2 = _mm_crc32_u64(c2, load64(p + 2 * block));
            p += 8;
        } while (p < end);
        c = shift(table, (uint32_t)c) ^ (uint32_t)c1;
        c = shift(table, (uint32_t)c) ^ (uint32_t)c2;
        p += 2 * block;
    }
    *pp = p;
    return c;
}

/// The register after `n` bytes at `p`, with SSE4.2 instructions.
__attribute__((target("sse4.2")))
static uint32_t hw_update(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c = crc;
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    size_t rounds = n / (3 * LONG_BLOCK);
    c = hw_three_way(c, &p, rounds, LONG_BLOCK, shift_long);
    n -= rounds * 3 * LONG_BLOCK;
    rounds = n / (3 * SHORT_BLOCK);
    c = hw_three_way(c, &p, rounds, SHORT_BLOCK, shift_short);
    n -= rounds * 3 * SHORT_BLOCK;
    while (n >= 8) {
        c = _mm_crc32_u64(c, load64(p));
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    return (uint32_t)c;
}
#endif

int pare_crc32c_uses_sse42(void) {
#ifdef PARE_CRC_HW
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
    return 0;
#endif
}

uint32_t pare_crc32c_table(uint32_t crc, const void *data, size_t n) {
    pthread_once(&tables_once, make_tables);
    if (n == 0) return crc;
    return ~table_update(~crc, (const unsigned char *)data, n);
}

uint32_t pare_crc32c(uint32_t crc, const void *data, size_t n) {
    pthread_once(&tables_once, make_tables);
    if (n == 0) return crc;
#ifdef PARE_CRC_HW
    if (pare_crc32c_uses_sse42()) return ~hw_update(~crc, (const unsigned char *)data, n);
#endif
    return ~table_update(~crc, (const unsigned char *)data, n);
}

// SHA-256 compression with the x86 SHA extensions (SHA-NI), compiled for those instructions only in this file.
//
// SHA256RNDS2 runs two rounds on a state split over two registers, lanes listed from lane 0 up:
//   abef = [F E B A], cdgh = [H G D C]
// taking W[t]+K[t] and W[t+1]+K[t+1] from lanes 0 and 1 of its third operand. It returns the new ABEF;
// the old ABEF is the new CDGH, so two calls with the roles swapped make four rounds.
// SHA256MSG1 / SHA256MSG2 compute the sigma0 / sigma1 halves of the message schedule four words at a time.
#include "sha256_internal.h"

#if PARE_SHA256_HAVE_SHANI

#include <immintrin.h>

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/// Four rounds t..t+3 with the message words `m` = W[t..t+3]; the register names are right again afterwards.
#define ROUNDS4(m, t)                                                                       \
    do {                                                                                    \
        __m128i wk = _mm_add_epi32((m), _mm_loadu_si128((const __m128i *)&pare_sha256_k[t])); \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk); /* rounds t, t+1: cdgh now holds ABEF */ \
        wk = _mm_shuffle_epi32(wk, 0x0E);             /* lanes 2,3 down to 0,1 */               \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, wk); /* rounds t+2, t+3 */                   \
    } while (0)

/// W[t..t+3] from w16 = W[t-16..t-13], w12 = W[t-12..t-9], w8 = W[t-8..t-5], w4 = W[t-4..t-1]:
/// W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16].
#define SCHEDULE(w16, w12, w8, w4) \
    _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((w16), (w12)), _mm_alignr_epi8((w4), (w8), 4)), (w4))

SHA_TARGET void pare_sha256_blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks) {
    // Byte order: each 32-bit message word is big-endian in the input.
    const __m128i bswap32 = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

    __m128i abcd = _mm_loadu_si128((const __m128i *)&h[0]); // [A B C D]
    __m128i efgh = _mm_loadu_si128((const __m128i *)&h[4]); // [E F G H]
    abcd = _mm_shuffle_epi32(abcd, 0xB1);                   // [B A D C]
    efgh = _mm_shuffle_epi32(efgh, 0x1B);                   // [H G F E]
    __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);          // [F E B A]
    __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);       // [H G D C]

    for (; nblocks > 0; nblocks--, p += 64) {
        const __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap32);  // W[0..3]
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap32); // W[4..7]
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap32); // W[8..11]
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap32); // W[12..15]

        ROUNDS4(m0, 0);
        ROUNDS4(m1, 4);
        ROUNDS4(m2, 8);
        ROUNDS4(m3, 12);
        // Rounds 16..63: each new quad replaces the one 16 words back (m0..m3 roll through W).
        m0 = SCHEDULE(m0, m1, m2, m3); ROUNDS4(m0, 16);
        m1 = SCHEDULE(m1, m2, m3, m0); ROUNDS4(m1, 20);
        m2 = SCHEDULE(m2, m3, m0, m1); ROUNDS4(m2, 24);
        m3 = SCHEDULE(m3, m0, m1, m2); ROUNDS4(m3, 28);
        m0 = SCHEDULE(m0, m1, m2, m3); ROUNDS4(m0, 32);
        m1 = SCHEDULE(m1, m2, m3, m0); ROUNDS4(m1, 36);
        m2 = SCHEDULE(m2, m3, m0, m1); ROUNDS4(m2, 40);
        m3 = SCHEDULE(m3, m0, m1, m2); ROUNDS4(m3, 44);
        m0 = SCHEDULE(m0, m1, m2, m3); ROUNDS4(m0, 48);
        m1 = SCHEDULE(m1, m2, m3, m0); ROUNDS4(m1, 52);
        m2 = SCHEDULE(m2, m3, m0, m1); ROUNDS4(m2, 56);
        m3 = SCHEDULE(m3, m0, m1, m2); ROUNDS4(m3, 60);

        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);           // [A B E F]
    __m128i hgdc = _mm_shuffle_epi32(cdgh, 0xB1);           // [G H C D]
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, hgdc, 0xF0)); // [A B C D]
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(hgdc, feba, 8));    // [E F G H]
}

#endif

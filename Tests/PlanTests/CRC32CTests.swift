// CRC-32C: known vectors, and the SSE4.2 path against the table path and a bit-at-a-time reference.
import CCRC32C
import XCTest

final class CRC32CTests: XCTestCase {
    private func crc(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { pare_crc32c(0, $0.baseAddress, $0.count) } }
    private func tableCRC(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { pare_crc32c_table(0, $0.baseAddress, $0.count) } }

    func testKnownVectors() {
        // The CRC catalogue's check value and RFC 3720 appendix B.4's vectors.
        let vectors: [([UInt8], UInt32)] = [
            (Array("123456789".utf8), 0xE306_9283),
            ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
            ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
            ((0..<32).map { UInt8($0) }, 0x46DD_794E),
            ((0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
            ([], 0),
        ]
        for (bytes, expected) in vectors {
            XCTAssertEqual(crc(bytes), expected, "\(bytes.count) bytes")
            XCTAssertEqual(tableCRC(bytes), expected, "table, \(bytes.count) bytes")
            XCTAssertEqual(referenceCRC32C(bytes), expected, "reference, \(bytes.count) bytes")
        }
        XCTAssertEqual(pare_crc32c(0, nil, 0), 0)
    }

    func testReferenceCatchesAWrongPolynomial() {
        // The checker itself: CRC-32 (IEEE, 0xEDB88320) of "123456789" is 0xCBF43926, which is not CRC-32C's value.
        var c: UInt32 = 0xFFFF_FFFF
        for b in Array("123456789".utf8) {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        XCTAssertEqual(~c, 0xCBF4_3926)
        XCTAssertNotEqual(~c, referenceCRC32C(Array("123456789".utf8)))
    }

    func testFastEqualsTableOnRandomLengthsAndAlignments() {
        var rng = SplitMix(seed: 3720)
        let data = (0..<200_000 + 16).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        print("CRC-32C SSE4.2 path: \(pare_crc32c_uses_sse42() == 1 ? "yes" : "no (table only)")")
        data.withUnsafeBytes { all in
            // Every length around the three-way blocks (3 x 256, 3 x 8192) and many random ones, at offsets 0...15.
            var lengths = Array(0...100) + [767, 768, 769, 24575, 24576, 24577, 49152 + 768 + 7, 200_000]
            lengths += (0..<300).map { _ in Int(rng.next() % 200_000) }
            for (k, n) in lengths.enumerated() {
                let offset = k % 16
                let p = all.baseAddress! + offset
                let seed = UInt32(truncatingIfNeeded: rng.next())
                let fast = pare_crc32c(seed, p, n), table = pare_crc32c_table(seed, p, n)
                XCTAssertEqual(fast, table, "length \(n) at offset \(offset)")
            }
            for n in [0, 1, 7, 100, 1000, 30000] {
                XCTAssertEqual(pare_crc32c(0, all.baseAddress! + 5, n), referenceCRC32C(Array(data[5..<(5 + n)])), "reference, \(n) bytes")
            }
        }
    }

    func testChaining() {
        var rng = SplitMix(seed: 9)
        let data = (0..<60_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let whole = crc(data)
        data.withUnsafeBytes { b in
            for cut in [0, 1, 13, 4096, 25_000, 59_999, 60_000] {
                let first = pare_crc32c(0, b.baseAddress, cut)
                XCTAssertEqual(pare_crc32c(first, b.baseAddress! + cut, data.count - cut), whole, "cut at \(cut)")
            }
        }
    }
}

// The C SHA-256 (CSHA256): FIPS 180-4 vectors, every length 0...300 against Python hashlib and the portable path,
// unaligned inputs, the SHA-NI path really taken on a CPU with sha_ni, and the real Qwen checkpoint's digest.
import CSHA256
import Foundation
import PareFrontend
import XCTest

final class SHA256CTests: XCTestCase {
    /// Tests/ModelTests/Fixtures/sha256-lengths.json, written by scripts/gen-sha256-fixtures.py.
    struct Fixture: Decodable {
        /// 300 pseudo-random bytes as hex.
        let data_hex: String
        /// digests[n] = SHA-256 of the first n bytes, by Python's hashlib.
        let digests: [String]

        var data: [UInt8] {
            let hex = Array(data_hex.utf8)
            return stride(from: 0, to: hex.count, by: 2).compactMap { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) }
        }
    }

    static let fixturePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sha256-lengths.json").path

    func loadFixture() throws -> Fixture {
        guard let json = FileManager.default.contents(atPath: Self.fixturePath) else {
            XCTFail("\(Self.fixturePath) is missing: run scripts/gen-sha256-fixtures.py")
            throw XCTSkip("missing fixture")
        }
        let f = try JSONDecoder().decode(Fixture.self, from: json)
        XCTAssertEqual(f.data.count, 300, "fixture data")
        XCTAssertEqual(f.digests.count, 301, "fixture digests")
        return f
    }

    func hex(_ d: [UInt8]) -> String { d.map { String(format: "%02x", $0) }.joined() }

    /// The dispatching C entry point (SHA-NI when available).
    func fast(_ p: UnsafeRawBufferPointer) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        pare_sha256(p.baseAddress, p.count, &out)
        return hex(out)
    }

    /// The portable C code only.
    func portable(_ p: UnsafeRawBufferPointer) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        pare_sha256_portable(p.baseAddress, p.count, &out)
        return hex(out)
    }

    func testFIPS180Vectors() {
        let vectors: [([UInt8], String)] = [
            ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8),
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
            ([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
             "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (message, expected) in vectors {
            message.withUnsafeBytes { m in
                XCTAssertEqual(fast(m), expected, "pare_sha256, \(m.count) bytes")
                XCTAssertEqual(portable(m), expected, "pare_sha256_portable, \(m.count) bytes")
                XCTAssertEqual(sha256Hex(m), expected, "sha256Hex, \(m.count) bytes")
            }
        }
        // A NULL pointer with length 0 is the empty message.
        var out = [UInt8](repeating: 0, count: 32)
        pare_sha256(nil, 0, &out)
        XCTAssertEqual(hex(out), vectors[0].1)
        pare_sha256_portable(nil, 0, &out)
        XCTAssertEqual(hex(out), vectors[0].1)
    }

    /// Every length 0...300 (all tail sizes, 0 to 4 whole blocks, the 55/56 padding split) at input offsets 0...3,
    /// so the in-place block loads also see unaligned pointers.
    func testEveryLengthAgainstHashlibAndPortable() throws {
        let f = try loadFixture()
        let data = f.data
        var mismatches = 0
        for offset in 0...3 {
            let shifted = [UInt8](repeating: 0xa5, count: offset) + data + [0x5a, 0x5a]
            shifted.withUnsafeBytes { all in
                for n in 0...300 {
                    let m = UnsafeRawBufferPointer(rebasing: all[offset..<offset + n])
                    let expected = f.digests[n]
                    let (a, b) = (fast(m), portable(m))
                    if a != expected || b != expected { mismatches += 1 }
                    XCTAssertEqual(a, expected, "pare_sha256 vs hashlib, length \(n), offset \(offset)")
                    XCTAssertEqual(b, expected, "pare_sha256_portable vs hashlib, length \(n), offset \(offset)")
                    XCTAssertEqual(a, b, "SHA-NI vs portable, length \(n), offset \(offset)")
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    /// The comparison above can fail: one changed input byte changes the digest of every prefix containing it.
    func testFixtureComparisonDetectsAChangedByte() throws {
        let f = try loadFixture()
        var data = f.data
        data[150] ^= 0x01
        data.withUnsafeBytes { all in
            for n in [0, 150, 151, 200, 300] {
                let m = UnsafeRawBufferPointer(rebasing: all[0..<n])
                if n <= 150 {
                    XCTAssertEqual(fast(m), f.digests[n], "byte 150 is not in the first \(n)")
                } else {
                    XCTAssertNotEqual(fast(m), f.digests[n], "length \(n) includes the changed byte")
                    XCTAssertNotEqual(portable(m), f.digests[n], "length \(n) includes the changed byte")
                }
            }
        }
    }

    /// Many-block inputs (where the SHA-NI loop carries state across blocks) agree between the two paths.
    func testLongInputsAgreeAcrossPaths() {
        var x: UInt32 = 0x2545_f491
        let bytes = (0..<(1 << 20) + 77).map { _ -> UInt8 in
            x ^= x << 13; x ^= x >> 17; x ^= x << 5
            return UInt8(truncatingIfNeeded: x)
        }
        bytes.withUnsafeBytes { all in
            for n in [4096, 4096 + 55, 65_536 + 63, (1 << 20) + 77] {
                let m = UnsafeRawBufferPointer(rebasing: all[0..<n])
                XCTAssertEqual(fast(m), portable(m), "length \(n)")
            }
        }
    }

    /// On a CPU whose /proc/cpuinfo lists sha_ni the SHA-NI path must be taken, and only then.
    func testSHANIPathMatchesTheCPU() throws {
        #if arch(x86_64) || arch(i386)
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            throw XCTSkip("no /proc/cpuinfo to compare pare_sha256_uses_shani() with")
        }
        guard let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            XCTFail("/proc/cpuinfo has no flags line")
            return
        }
        let hasSHA = flags.split(whereSeparator: { $0 == " " || $0 == "\t" }).contains("sha_ni")
        XCTAssertEqual(pare_sha256_uses_shani(), hasSHA ? 1 : 0, "/proc/cpuinfo sha_ni = \(hasSHA)")
        #else
        XCTAssertEqual(pare_sha256_uses_shani(), 0, "SHA-NI is x86 only")
        #endif
    }

    /// The real 0.5B Qwen checkpoint, hashed from scratch (empty digest cache): the digest sha256sum prints.
    func testQwenCheckpointDigest() throws {
        let path = try Paths.require(Paths.qwenGGUF)
        let cache = try TempDir(prefix: "pare-sha256-cache")
        let saved = ProcessInfo.processInfo.environment["PARE_DIGEST_CACHE"]
        setenv("PARE_DIGEST_CACHE", cache.path, 1)
        defer { if let saved { setenv("PARE_DIGEST_CACHE", saved, 1) } else { unsetenv("PARE_DIGEST_CACHE") } }
        XCTAssertEqual(try sha256Hex(file: path), "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
        XCTAssertEqual(try cache.listing().filter { !$0.hasPrefix(".") }.count, 1, "the digest was cached")
    }
}

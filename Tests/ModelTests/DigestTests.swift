// sha256Hex: FIPS 180-4 test vectors, block-boundary lengths against coreutils' sha256sum, and the file digest cache
// (a cached digest is reused for an unchanged file and recomputed once the file's size or mtime changes).
import Foundation
import PareFrontend
import XCTest

final class DigestTests: XCTestCase {
    func digest(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { sha256Hex($0) } }
    func digest(_ s: String) -> String { digest(Array(s.utf8)) }

    func testFIPS180Vectors() {
        XCTAssertEqual(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 64-byte block and the 56-byte padding limit, checked against an independent implementation.
    func testBlockBoundariesAgainstSha256sum() throws {
        let dir = try TempDir()
        let lengths = [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4097]
        var expected: [String: String] = [:]
        for n in lengths {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
            let path = try dir.write("len-\(n)", Data(bytes))
            expected[path] = digest(bytes)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = lengths.map { dir.file("len-\($0)") }
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, lengths.count)
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1)
            let path = String(parts[1].drop { $0 == " " || $0 == "*" })
            XCTAssertEqual(expected[path], String(parts[0]), "length of \(path)")
        }
    }

    // MARK: Files and the digest cache

    private var savedCacheEnv: String?

    override func setUp() {
        super.setUp()
        savedCacheEnv = ProcessInfo.processInfo.environment["PARE_DIGEST_CACHE"]
    }

    override func tearDown() {
        if let s = savedCacheEnv { setenv("PARE_DIGEST_CACHE", s, 1) } else { unsetenv("PARE_DIGEST_CACHE") }
        super.tearDown()
    }

    /// The entries of the cache folder (one file per digest, named by the key's hash).
    func entries(_ cache: TempDir) throws -> [String] { try cache.listing().filter { !$0.hasPrefix(".") } }

    func testFileDigestAndCache() throws {
        let dir = try TempDir(), cache = try TempDir(prefix: "pare-digests")
        setenv("PARE_DIGEST_CACHE", cache.path, 1)
        let content = Data("hello, pare\n".utf8) + Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let path = try dir.write("model.bin", content)
        let truth = digest([UInt8](content))

        XCTAssertEqual(try sha256Hex(file: path), truth, "uncached")
        let written = try entries(cache)
        XCTAssertEqual(written.count, 1, "one cache entry per file")
        XCTAssertEqual(try String(contentsOfFile: cache.file(written[0]), encoding: .utf8), truth)
        XCTAssertEqual(try sha256Hex(file: path), truth, "cached")

        // The cache is really consulted: a (deliberately wrong) entry for the unchanged file is returned as is.
        let poison = String(repeating: "f", count: 64)
        try poison.write(toFile: cache.file(written[0]), atomically: true, encoding: .utf8)
        XCTAssertEqual(try sha256Hex(file: path), poison, "the cached digest was not used")

        // A new modification time makes a new key: the file is hashed again.
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
        XCTAssertEqual(try sha256Hex(file: path), truth, "a changed mtime must invalidate the cached digest")
        XCTAssertEqual(try entries(cache).count, 2)

        // A change of content and size: a new digest.
        let grown = content + Data([1, 2, 3])
        try grown.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try sha256Hex(file: path), digest([UInt8](grown)))
        XCTAssertNotEqual(digest([UInt8](grown)), truth)

        // Same size, new content, new mtime (as any write gives): a new digest.
        var edited = grown
        edited[0] ^= 0xff
        try edited.write(to: URL(fileURLWithPath: path))
        var later = [timespec(tv_sec: 1_100_000_000, tv_nsec: 5), timespec(tv_sec: 1_100_000_000, tv_nsec: 5)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &later, 0), 0)
        XCTAssertEqual(try sha256Hex(file: path), digest([UInt8](edited)))
    }

    func testDigestWithoutUsableCache() throws {
        let dir = try TempDir()
        let path = try dir.write("f.bin", Data("abc".utf8))
        // A cache path that cannot be a directory (it is a file): hashing still works, just uncached.
        let blocker = try dir.write("not-a-dir", Data())
        setenv("PARE_DIGEST_CACHE", blocker, 1)
        XCTAssertEqual(try sha256Hex(file: path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertThrowsError(try sha256Hex(file: dir.file("missing.bin")), "a missing file must throw, not hash to something")
    }

    func testCLIRecordsTheFileDigest() throws {
        // End to end: `pare dump-ir` records the source's sha256 with its own (fresh) cache, and it is the file's digest.
        let dir = try TempDir(), cache = try TempDir(prefix: "pare-digests")
        let hf = try TinyHF.write(in: dir)
        let r = try PareCLI.run(["dump-ir", hf], environment: ["PARE_DIGEST_CACHE": cache.path])
        XCTAssertEqual(r.status, 0, r.summary)
        let expected = try huggingFaceDigest(hf)
        XCTAssertTrue(r.out.contains("source.sha256 = \"\(expected)\""), "dump does not record \(expected)")
        XCTAssertEqual(try entries(cache).count, 3, "config.json, tokenizer.json and model.safetensors are each cached")
    }
}

// The C reader (pare-plan-dump, on libprotobuf-c) prints exactly planListing's text, and fails cleanly on bad files.
import Foundation
import ParePlan
import XCTest

final class PlanReaderCTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws { root = try makeTemporaryDirectory("c") }
    override func tearDown() { removeTemporaryDirectory(root) }

    /// The built pare-plan-dump: next to the test bundle, in the build products directory.
    private func reader() throws -> URL {
        var candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for b in Bundle.allBundles where b.bundleURL.pathExtension == "xctest" { candidates.append(b.bundleURL.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for dir in candidates {
            let url = dir.appendingPathComponent("pare-plan-dump")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw MissingReader(searched: Set(candidates.map(\.path)).sorted())
    }

    /// The test fails (not skips) without the C reader.
    private struct MissingReader: Error, CustomStringConvertible {
        let searched: [String]
        var description: String {
            "pare-plan-dump not found in \(searched); run `swift build -c release --product pare-plan-dump` first"
        }
    }

    /// Runs the reader on `path`: exit status, stdout, stderr.
    private func run(_ path: String) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = try reader()
        p.arguments = [path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testCReaderPrintsTheSwiftListing() throws {
        let plan = Toy.plan()
        let written = try PlanDirectory.write(plan, to: root + "/model.pare") { Toy.weights(plan, $0) }
        let listing = planListing(written)
        let r = try run(root + "/model.pare")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, listing)
        if r.out != listing {
            for (a, b) in zip(r.out.split(separator: "\n"), listing.split(separator: "\n")) where a != b {
                XCTFail("first difference:\n  C:     \(a)\n  Swift: \(b)")
                break
            }
        }
        XCTAssertEqual(try run(root + "/model.pare/plan.pb").out, listing, "a plan.pb path works too")
    }

    func testCReaderMatchesOnAwkwardValues() throws {
        var plan = Toy.plan()
        plan.steps[1].eps = 1e-6
        plan.steps[1].theta = 1_000_000.5
        plan.steps[5].eps = .leastNonzeroMagnitude
        plan.steps[0].block = 3
        plan.provenance.kl[0].mean = 1.0 / 3.0
        plan.provenance.kl[0].p99 = -0.0
        plan.provenance.kl[0].max = 1e300
        plan.provenance.modelName = "q\"uote\u{1}\u{7f}"
        plan.tokenizer.specials[0].text = "<｜begin▁of▁sentence｜>"
        let path = root + "/plan.pb"
        try encodePlan(plan).write(to: URL(fileURLWithPath: path))
        let r = try run(path)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, planListing(plan))
    }

    func testCReaderFailsOnBadFiles() throws {
        let plan = Toy.plan()
        let good = [UInt8](try encodePlan(plan))
        var flipped = good
        flipped[good.count / 2] ^= 0x04
        var v2 = plan
        v2.formatVersion = 3
        let cases: [(String, [UInt8]?)] = [
            ("corrupt", flipped), ("truncated", Array(good.prefix(good.count - 3))), ("cut at a field", Array(good.dropLast(5))),
            ("empty", []), ("text", Array("not a plan at all\n".utf8)), ("version 3", [UInt8](try encodePlan(v2))),
            ("missing", nil),
        ]
        for (name, bytes) in cases {
            let path = root + "/\(name).pb"
            if let bytes { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
            let r = try run(path)
            XCTAssertEqual(r.status, 1, "\(name): exit status")
            XCTAssertEqual(r.out, "", "\(name): nothing on stdout")
            XCTAssertTrue(r.err.contains(path), "\(name): the message names the file: \(r.err)")
        }
    }

    func testListingFormat() {
        let listing = planListing(Toy.plan())
        let lines = listing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "pare-plan format_version=2")
        XCTAssertEqual(lines.last, "", "ends with a newline")
        for expected in [
            "model name=\"toy-2x16\" architecture=\"llama\"",
            "counts tensors=12 buffers=16 kv_layers=2 steps=16",
            "metadata \"note\" = \"tab\\x09here, newline\\x0athere, back\\x5cslash, Größe ✓\"",
            "tensor 0 name=\"token_embd\" dtype=f32 shape=[32,16] offset=0 length=2048 crc32c=00000000",
            "step 0 embed block=- inputs=[] weights=[0] output=0",
            "step 1 qkv_rope block=0 inputs=[0] weights=[1,2] output=1 eps=9.99999997e-07 heads=4 kv_heads=2 head_dim=4 theta=10000",
            "step 2 attention_qkv block=0 inputs=[1] weights=[] output=2 heads=4 kv_heads=2 head_dim=4 kv_slot=0",
            "step 15 linear block=- inputs=[14] weights=[11] output=15 eps=9.99999975e-06",
            "kl pass=\"layer-prune{count=1}\" mean=0.031 median=0.012500000000000001 p99=0.5 max=1.75 top1_agreement=0.9375 positions=4096",
            "output buffer=15",
        ] {
            XCTAssertTrue(lines.contains(expected), "missing line: \(expected)\n\(listing)")
        }
    }
}

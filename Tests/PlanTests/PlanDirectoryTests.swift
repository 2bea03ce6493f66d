// Plan directories on disk: write then read, byte-identical rewrites, atomic replacement, and typed errors for
// missing, truncated or corrupt files.
import Foundation
import ParePlan
import XCTest

final class PlanDirectoryTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws { root = try makeTemporaryDirectory("dir") }
    override func tearDown() { removeTemporaryDirectory(root) }

    /// Writes the toy plan with its deterministic weights to `root/name`.
    @discardableResult
    private func writeToy(_ name: String = "model.pare") throws -> ExecutionPlan {
        let plan = Toy.plan()
        return try PlanDirectory.write(plan, to: root + "/" + name) { Toy.weights(plan, $0) }
    }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    private func writeBytes(_ b: [UInt8], _ path: String) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }

    func testWriteThenRead() throws {
        let written = try writeToy()
        let loaded = try PlanDirectory.read(root + "/model.pare")
        XCTAssertEqual(loaded.plan, written)
        XCTAssertEqual(loaded.path, root + "/model.pare")
        XCTAssertGreaterThanOrEqual(loaded.loadSeconds, 0)
        XCTAssertEqual(Int(bitPattern: loaded.weights.baseAddress) % 4096, 0, "the mapping is page aligned")
        let blob = try bytes(root + "/model.pare/weights.bin")
        XCTAssertEqual(blob.count, written.weights.length)
        XCTAssertEqual(written.weights.file, "weights.bin")
        for (i, t) in written.tensors.enumerated() {
            XCTAssertEqual(t.offset % 64, 0)
            XCTAssertEqual(t.length, t.count * 4)
            XCTAssertEqual(Array(loaded.tensor(i)), Toy.weights(written, i), "tensor \(t.name)")
            XCTAssertEqual(t.checksum, referenceCRC32C(Array(blob[t.offset..<(t.offset + t.length)])), "checksum of \(t.name)")
        }
        // Padding between tensors is zero.
        var covered = [Bool](repeating: false, count: blob.count)
        for t in written.tensors { for j in t.offset..<(t.offset + t.length) { covered[j] = true } }
        XCTAssertTrue(zip(blob, covered).allSatisfy { $1 || $0 == 0 })
        try loaded.verifySHA256()
        XCTAssertEqual(written.weights.sha256, try sha256sum(root + "/model.pare/weights.bin"))
        // A plan.pb path works as well as its directory.
        XCTAssertEqual(try PlanDirectory.read(root + "/model.pare/plan.pb").plan, written)
    }

    func testWritingTwiceIsByteIdentical() throws {
        try writeToy("a.pare")
        try writeToy("b.pare")
        for f in ["plan.pb", "weights.bin"] {
            XCTAssertEqual(try bytes(root + "/a.pare/" + f), try bytes(root + "/b.pare/" + f), f)
        }
        let before = try bytes(root + "/a.pare/plan.pb")
        try writeToy("a.pare")  // replaces the existing plan
        XCTAssertEqual(try bytes(root + "/a.pare/plan.pb"), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["a.pare", "b.pare"], "no temporary leftovers")
    }

    func testReplacesAnOlderPlanWithANewOne() throws {
        try writeToy()
        var plan = Toy.plan()
        plan.provenance.modelName = "toy-v2"
        _ = try PlanDirectory.write(plan, to: root + "/model.pare") { Toy.weights(plan, $0).map { $0 * 2 } }
        let loaded = try PlanDirectory.read(root + "/model.pare")
        XCTAssertEqual(loaded.plan.provenance.modelName, "toy-v2")
        XCTAssertEqual(Array(loaded.tensor(3)), Toy.weights(plan, 3).map { $0 * 2 })
    }

    func testCreatesMissingParents() throws {
        try writeToy("out/nested/model.pare")
        XCTAssertNoThrow(try PlanDirectory.read(root + "/out/nested/model.pare"))
    }

    func testRefusesToReplaceWhatIsNotAPlan() throws {
        let dir = root + "/project"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeBytes(Array("keep me".utf8), dir + "/notes.txt")
        assertPlanError(try writeToy("project"), "non-plan directory") {
            if case .cannotWrite(let p, _) = $0 { return p.hasSuffix("/project") }
            return false
        }
        XCTAssertEqual(try bytes(dir + "/notes.txt"), Array("keep me".utf8))
        try writeBytes([1, 2, 3], root + "/file")
        assertPlanError(try writeToy("file"), "a file") {
            if case .cannotWrite = $0 { return true }
            return false
        }
    }

    func testFailedWriteLeavesNoTraceAndKeepsTheOldPlan() throws {
        let old = try writeToy()
        let oldBytes = try bytes(root + "/model.pare/weights.bin")
        struct Boom: Error {}
        let plan = Toy.plan()
        XCTAssertThrowsError(try PlanDirectory.write(plan, to: root + "/model.pare") { i in
            if i == 5 { throw Boom() }
            return Toy.weights(plan, i)
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["model.pare"], "temporary directory removed")
        XCTAssertEqual(try PlanDirectory.read(root + "/model.pare").plan, old)
        XCTAssertEqual(try bytes(root + "/model.pare/weights.bin"), oldBytes)

        assertPlanError(try PlanDirectory.write(plan, to: root + "/fresh.pare") { Array(Toy.weights(plan, $0).dropLast()) }, "short data") {
            $0 == .tensorData(tensor: "token_embd", expected: 512, found: 511)
        }
        var invalid = plan
        invalid.output = 0
        assertPlanError(try PlanDirectory.write(invalid, to: root + "/fresh.pare") { Toy.weights(plan, $0) }, "invalid plan") {
            $0 == .outputWidth(buffer: 0, width: 16, vocabSize: 32)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["model.pare"])
    }

    func testTruncatedWeights() throws {
        let plan = try writeToy()
        let path = root + "/model.pare/weights.bin"
        try writeBytes(Array(try bytes(path).dropLast(4)), path)
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "truncated blob") {
            $0 == .weightsLength(path: path, expected: plan.weights.length, found: plan.weights.length - 4)
        }
    }

    func testFlippedWeightByteNamesTheTensor() throws {
        let plan = try writeToy()
        let path = root + "/model.pare/weights.bin"
        var blob = try bytes(path)
        let t = plan.tensors[7]
        blob[t.offset + 13] ^= 0x20
        try writeBytes(blob, path)
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "flipped byte") {
            if case .tensorChecksum(path, t.name, t.checksum, let found) = $0 { return found != t.checksum }
            return false
        }
        // Without checksum verification the plan loads; the hash check still notices.
        let loaded = try PlanDirectory.read(root + "/model.pare", verifyChecksums: false)
        assertPlanError(try loaded.verifySHA256(), "sha256") {
            if case .weightsHash = $0 { return true }
            return false
        }
    }

    func testMissingFiles() throws {
        try writeToy()
        try FileManager.default.removeItem(atPath: root + "/model.pare/weights.bin")
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "no weights.bin") {
            if case .cannotRead(let p, _) = $0 { return p == self.root + "/model.pare/weights.bin" }
            return false
        }
        try FileManager.default.removeItem(atPath: root + "/model.pare/plan.pb")
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "no plan.pb") {
            if case .cannotRead(let p, _) = $0 { return p == self.root + "/model.pare/plan.pb" }
            return false
        }
        assertPlanError(try PlanDirectory.read(root + "/nowhere"), "no directory") {
            if case .cannotRead = $0 { return true }
            return false
        }
    }

    func testBadPlanFilesOnDisk() throws {
        try writeToy()
        let path = root + "/model.pare/plan.pb"
        let good = try bytes(path)
        try writeBytes(Array(good.prefix(good.count / 2)), path)
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "truncated plan.pb") {
            if case .truncated(path, _) = $0 { return true }
            if case .notAPlan(path, _) = $0 { return true }
            return false
        }
        var flipped = good
        flipped[good.count / 3] ^= 0x01
        try writeBytes(flipped, path)
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "flipped plan byte") {
            if case .corrupt(path, _) = $0 { return true }
            if case .notAPlan(path, _) = $0 { return true }
            if case .truncated(path, _) = $0 { return true }
            return false
        }
        var v2 = Toy.plan()
        v2.formatVersion = 3
        try writeBytes([UInt8](try encodePlan(v2)), path)
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "version 3") { $0 == .unsupportedFormatVersion(path: path, found: 3) }
        // A well-formed plan.pb that fails validation names the file.
        var invalid = Toy.plan()
        invalid.output = 0
        try writeBytes([UInt8](try encodePlan(invalid)), path)
        assertPlanError(try PlanDirectory.read(root + "/model.pare"), "invalid") {
            $0 == .invalid(path: path, .outputWidth(buffer: 0, width: 16, vocabSize: 32))
        }
    }

    /// SHA-256 by coreutils' sha256sum: an implementation independent of Pare's.
    private func sha256sum(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}

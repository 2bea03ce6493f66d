// plan.pb encoding: round trips, determinism, and a typed error (never a crash) for truncated or corrupt bytes.
import Foundation
import ParePlan
import XCTest

final class PlanCodecTests: XCTestCase {
    /// The toy plan with non-zero checksums and a hash, as a written plan would have.
    private func writtenLikePlan() -> ExecutionPlan {
        var plan = Toy.plan()
        for i in plan.tensors.indices { plan.tensors[i].checksum = UInt32(truncatingIfNeeded: (i + 1) &* 0x9E37_79B9) }
        plan.weights.sha256 = String(repeating: "0f", count: 32)
        return plan
    }

    /// `body` followed by plan.pb's CRC-32C trailer (tag 0x7D, little-endian CRC of `body`).
    private func withTrailer(_ body: [UInt8]) -> Data {
        let crc = referenceCRC32C(body)
        return Data(body + [0x7D] + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) })
    }

    func testToyPlanIsValid() throws {
        try Toy.plan().validate()
        try writtenLikePlan().validate()
    }

    func testRoundTrip() throws {
        let plan = writtenLikePlan()
        let decoded = try decodePlan(try encodePlan(plan))
        XCTAssertEqual(decoded, plan)
        XCTAssertEqual(decoded.steps.map(\.block), plan.steps.map(\.block), "absent blocks stay absent")
        XCTAssertEqual(decoded.steps.map(\.eps), plan.steps.map(\.eps), "absent eps stays absent")
    }

    func testRoundTripKeepsZeroAndExtremeValues() throws {
        var plan = writtenLikePlan()
        plan.tensors[0].checksum = 0
        plan.tensors[1].checksum = .max
        plan.steps[1].eps = .leastNonzeroMagnitude
        plan.steps[2].block = 0
        plan.provenance.kl[0].mean = -0.0
        plan.provenance.kl[0].max = .infinity
        plan.tokenizer.tokens[5] = ""
        let decoded = try decodePlan(try encodePlan(plan))
        XCTAssertEqual(decoded, plan)
        XCTAssertEqual(decoded.provenance.kl[0].mean.sign, .minus)
    }

    func testEncodingIsDeterministic() throws {
        let plan = writtenLikePlan()
        let a = try encodePlan(plan), b = try encodePlan(plan)
        XCTAssertEqual(a, b)
        XCTAssertEqual(try encodePlan(try decodePlan(a)), a)
    }

    func testTrailerIsTheCRCOfTheBody() throws {
        let data = [UInt8](try encodePlan(writtenLikePlan()))
        XCTAssertEqual(data[data.count - 5], 0x7D)
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[data.count - 4 + $1]) << (8 * $1) }
        XCTAssertEqual(stored, referenceCRC32C(Array(data[..<(data.count - 5)])))
    }

    func testEveryTruncationIsATypedError() throws {
        let data = try encodePlan(writtenLikePlan())
        XCTAssertGreaterThan(data.count, 500)
        for n in 0..<data.count {
            assertPlanError(try decodePlan(data.prefix(n)), "prefix of \(n) of \(data.count) bytes") {
                if case .truncated = $0 { return true }
                if case .notAPlan = $0 { return true }
                return false
            }
        }
    }

    func testRandomCorruptionsAreTypedErrors() throws {
        let data = [UInt8](try encodePlan(writtenLikePlan()))
        var rng = SplitMix(seed: 42)
        var kinds = Set<String>()
        for trial in 0..<1500 {
            var bad = data
            let flips = trial % 3 + 1  // 1, 2 or 3 bytes
            for _ in 0..<flips { bad[Int(rng.next() % UInt64(bad.count))] ^= UInt8(rng.next() % 255 + 1) }
            do {
                _ = try decodePlan(Data(bad))
                XCTFail("trial \(trial): a corrupted plan.pb decoded without error")
            } catch let e as PlanError {
                kinds.insert(String(describing: e).prefix { $0 != "(" }.description)
            } catch {
                XCTFail("trial \(trial): not a PlanError: \(error)")
            }
        }
        XCTAssertTrue(kinds.contains("corrupt"), "most corruptions are caught by the checksum: \(kinds)")
    }

    func testGarbageIsNotAPlan() {
        assertPlanError(try decodePlan(Data("hello, this is not a plan\n".utf8)), "text") {
            if case .notAPlan = $0 { return true }
            if case .truncated = $0 { return true }
            return false
        }
        assertPlanError(try decodePlan(Data()), "empty") { $0 == .truncated(path: "plan.pb", detail: "the file is empty") }
    }

    func testWrongFormatVersion() throws {
        var plan = writtenLikePlan()
        plan.formatVersion = 3
        let data = try encodePlan(plan)
        assertPlanError(try decodePlan(data, path: "x/plan.pb"), "version 3") { $0 == .unsupportedFormatVersion(path: "x/plan.pb", found: 3) }
        // A version-3 file need not carry our trailer: still a version error, not a truncation.
        assertPlanError(try decodePlan(data.prefix(data.count - 5)), "version 3 without trailer") {
            $0 == .unsupportedFormatVersion(path: "plan.pb", found: 3)
        }
        // Version 1 (f32 weights only) is still read; a block dtype in a version-1 file is not.
        plan.formatVersion = 1
        XCTAssertEqual(try decodePlan(try encodePlan(plan)).formatVersion, 1)
        plan.tensors[0].dtype = .q8_0
        assertPlanError(try decodePlan(try encodePlan(plan)), "q8_0 in version 1") {
            $0 == .unknownDType(path: "plan.pb", tensor: plan.tensors[0].name, value: 7)
        }
    }

    func testMissingMessagesAreNamed() {
        // format_version = 1 and nothing else.
        assertPlanError(try decodePlan(withTrailer([0x08, 0x01])), "bare version") { $0 == .missingField(path: "plan.pb", field: "provenance") }
    }

    func testUnknownEnumValuesAreTypedErrors() throws {
        let plan = writtenLikePlan()
        let body = [UInt8](try encodePlan(plan).dropLast(5))
        // Appending a repeated-field element: field 9 (steps) = Step { kernel: 99 }.
        assertPlanError(try decodePlan(withTrailer(body + [0x4A, 0x02, 0x08, 99])), "kernel 99") {
            $0 == .unknownKernel(path: "plan.pb", step: plan.steps.count, value: 99)
        }
        // field 5 (tensors) = Tensor { name: "x", dtype: 99 }.
        assertPlanError(try decodePlan(withTrailer(body + [0x2A, 0x05, 0x0A, 0x01, 0x78, 0x10, 99])), "dtype 99") {
            $0 == .unknownDType(path: "plan.pb", tensor: "x", value: 99)
        }
        // A second field 3 (tokenizer) merges into the first: kinds (field 2, packed) gains [9].
        assertPlanError(try decodePlan(withTrailer(body + [0x1A, 0x03, 0x12, 0x01, 0x09])), "token kind 9") {
            $0 == .unknownTokenKind(path: "plan.pb", token: plan.tokenizer.tokens.count, kind: "9")
        }
    }

    func testEncodingRejectsWhatTheFormatCannotHold() {
        var plan = writtenLikePlan()
        plan.tokenizer.kinds[3] = "weird"
        assertPlanError(try encodePlan(plan), "kind") { $0 == .unknownTokenKind(path: "plan", token: 3, kind: "weird") }
        plan = writtenLikePlan()
        plan.steps[1].block = Int(Int32.max) + 1
        assertPlanError(try encodePlan(plan), "block") { $0 == .valueOutOfRange(field: "step.block", value: Int(Int32.max) + 1) }
        plan = writtenLikePlan()
        plan.formatVersion = -1
        assertPlanError(try encodePlan(plan), "version") { $0 == .valueOutOfRange(field: "format_version", value: -1) }
    }
}

/// A small deterministic generator (SplitMix64) for reproducible random tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// Pipeline strings (parsing, located errors, resolution against a registry) and the pass manager's
// instrumentation (verify after each pass, IR printing, numbered dumps, decision records) on the tiny module.
import Foundation
import XCTest
import PareIR
import ParePasses

/// Bypasses one block (its output's uses read its input), then runs dce: the block's ops and weights go.
struct BypassBlock: Pass {
    var block: Int
    var pruning = true
    var name: String { "bypass-block" }
    var summary: String { "Bypass one block (test pass)" }
    var isPruning: Bool { pruning }

    func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        guard let b = try r.module.blockAnatomy().first(where: { $0.index == block }) else { return PassStatistics() }
        r.replaceAllUses(of: b.output, with: b.input)
        var stats = try DeadCodeElimination().run(&r, context: context)
        r.setBlocks(r.module.blocks.filter { $0.index != block })
        context.record(&r, "removed", .string(IndexList([block]).description))
        stats.add("block", block)
        return stats
    }
}

/// Points the LM head at a parameter of the wrong shape: invalid IR.
struct BreakHead: Pass {
    let name = "break-head"
    let summary = "Points the head at a parameter of the wrong shape (test pass)"
    func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        try r.updateOp(r.module.function.result) { $0.operands[1] = .param("blk.1.ffn_down.weight") }
        return PassStatistics()
    }
}

/// A stand-in pass with options, for resolution tests.
struct OptionsProbe: Pass {
    var options: PassOptions
    let name = "layer-prune"
    let summary = "Test pass with options"
    func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics { PassStatistics() }
}

final class IRPipelineTests: XCTestCase {
    // MARK: Parsing

    func testParsesThePaperRecipeWithColumns() throws {
        let text = "vocab-prune{corpus=data/corpus/code.txt},layer-prune{count=3},ffn-prune{drop=256}"
        let p = try Pipeline(parsing: text)
        XCTAssertEqual(p.elements.map(\.name), ["vocab-prune", "layer-prune", "ffn-prune"])
        XCTAssertEqual(p.elements.map(\.options), [["corpus": "data/corpus/code.txt"], ["count": "3"], ["drop": "256"]])
        XCTAssertEqual(p.elements.map(\.column), [1, 42, 63])
        XCTAssertEqual(p.elements[1].optionLocations["count"], .init(key: .init(column: 54), value: .init(column: 60)))
    }

    func testWhitespaceQuotingAndNone() throws {
        let p = try Pipeline(parsing: "  dce ,\n layer-prune { count = 3 , criterion= bi }  ")
        XCTAssertEqual(p.elements.map(\.name), ["dce", "layer-prune"])
        XCTAssertEqual(p.elements[1].options, ["count": "3", "criterion": "bi"])
        XCTAssertEqual(p.elements[1].location, PipelineLocation(line: 2, column: 2))
        XCTAssertEqual(p.elements[1].optionOrder, ["count", "criterion"])

        let q = try Pipeline(parsing: #"vocab-prune{corpus="my dir/a,b{c}.txt", note="say \"hi\" \\ ok"},dce{}"#)
        XCTAssertEqual(q.elements[0].options, ["corpus": "my dir/a,b{c}.txt", "note": #"say "hi" \ ok"#])
        XCTAssertEqual(q.elements[0].optionLocations["corpus"]?.value.column, 20)
        XCTAssertEqual(q.elements[1].options, [:])

        // A bare value keeps inner spaces, drops trailing ones.
        XCTAssertEqual(try Pipeline(parsing: "p{path=my file.txt }").elements[0].options, ["path": "my file.txt"])

        for empty in ["", "   ", "none", " none\n"] {
            XCTAssertEqual(try Pipeline(parsing: empty).elements, [], "'\(empty)'")
        }
    }

    func testSpellingParsesBackToTheSameValues() throws {
        let values = ["corpus": "a,b{c}.txt", "count": "3", "note": #"x "y" \z"#, "pad": " s "]
        let spelled = spellOptions(values)
        XCTAssertEqual(spelled, #"corpus="a,b{c}.txt",count=3,note="x \"y\" \\z",pad=" s ""#)
        XCTAssertEqual(try Pipeline(parsing: "p{\(spelled)}").elements[0].options, values)
    }

    /// Every syntax error, with its exact column and the start of its message.
    func testSyntaxErrorsAreLocated() {
        let cases: [(String, Int, String)] = [
            ("layer-prune{count=3", 20, "missing '}' to close the options of layer-prune (opened at column 12)"),
            ("layer-prune{count=3,count=4}", 21, "duplicate option 'count' for layer-prune (first given at column 13)"),
            ("layer-prune{count=}", 19, "empty value for option 'count' of layer-prune"),
            ("layer-prune{count=\"\"}", 19, "empty value for option 'count' of layer-prune"),
            ("dce,", 4, "trailing ',' after the last pass"),
            ("dce , ", 5, "trailing ',' after the last pass"),
            ("layer-prune{count=3,}", 20, "trailing ',' in the options of layer-prune"),
            (",dce", 1, "expected a pass name before ','"),
            ("dce,,x", 5, "expected a pass name before ','"),
            ("layer-prune{count}", 18, "option 'count' of layer-prune has no value"),
            ("layer-prune{count=3,ffn-prune{drop=2}", 21, "missing '}' to close the options of layer-prune (opened at column 12) before 'ffn-prune'"),
            ("layer-prune{count=3 ffn-prune{drop=2}}", 30, "'{' in the value of option 'count' of layer-prune; quote the whole value"),
            ("layer-prune count=3", 13, "expected ',' between passes, found 'c'"),
            ("p{x=\"abc", 9, "unterminated quoted value for option 'x' of p (the quote opened at column 5)"),
            ("p{x=\"a\\nb\"}", 7, "unknown escape in the quoted value of option 'x'"),
            ("p{x=\"a\"b}", 8, "expected ',' or '}' after the value of option 'x' of p, found 'b'"),
            ("none,dce", 1, "'none' means an empty pipeline"),
            ("dce{}{}", 6, "dce already has its options"),
            ("dce{=1}", 5, "expected an option name (like count=3) in the options of dce, found '='"),
            ("Layer Prune", 7, "expected ',' between passes, found 'P'"),
            ("dce;x", 4, "expected ',' between passes, found ';'"),
        ]
        for (text, column, message) in cases {
            XCTAssertThrowsError(try Pipeline(parsing: text), text) { error in
                guard let e = error as? PipelineError else { return XCTFail("\(text): \(error)") }
                XCTAssertEqual(e.location, PipelineLocation(line: 1, column: column), "\(text): \(e.message)")
                XCTAssertTrue(e.message.hasPrefix(message), "\(text): got '\(e.message)', expected '\(message)...'")
            }
        }
    }

    // MARK: Resolution

    /// A registry with `dce` and a `layer-prune` stand-in whose options mirror the real one's kinds.
    var registry: PassRegistry {
        var r = PassRegistry()
        r.register { DeadCodeElimination() }
        r.register(PassRegistry.Entry(
            name: "layer-prune", summary: "Test pass with options",
            options: [OptionSpec("count", .int(1...64), help: "blocks to remove"),
                      OptionSpec("kl-budget", .double(0...10), help: "KL budget"),
                      OptionSpec("criterion", .choice(["kl", "bi"]), default: "kl", help: "scorer")],
            isPruning: true,
            make: { o in
                if o.has("count") == o.has("kl-budget") {
                    throw PassError.badOption(pass: "layer-prune", option: "kl-budget", message: "give exactly one of count and kl-budget")
                }
                return OptionsProbe(options: o)
            }))
        return r
    }

    func testResolvesAgainstTheRegistry() throws {
        let s = try Pipeline(parsing: "dce, layer-prune{criterion=bi,count=3}").resolve(in: registry)
        XCTAssertEqual(s.map(\.pass.name), ["dce", "layer-prune"])
        XCTAssertEqual(s[1].options.int("count"), 3)
        XCTAssertEqual(s[1].options.string("criterion"), "bi")
        XCTAssertEqual(s[1].optionsSpelling, "count=3,criterion=bi")
        XCTAssertEqual(s[1].spelling, "layer-prune{count=3,criterion=bi}")
        XCTAssertEqual(s[0].spelling, "dce")
        XCTAssertEqual(try Pipeline(parsing: "none").resolve(in: registry).count, 0)
        XCTAssertEqual(registry.entry(named: "layer-prune")?.isPruning, true)
        XCTAssertEqual(registry.entry(named: "dce")?.isPruning, false)
        // The standard registry resolves dce.
        XCTAssertEqual(try Pipeline(parsing: "dce").resolve().map(\.pass.name), ["dce"])
    }

    func testResolutionErrorsAreLocated() {
        let cases: [(String, Int, String)] = [
            ("layer-prune{cout=3}", 13,
             "unknown option 'cout' for layer-prune (did you mean 'count'?); it accepts: count, kl-budget, criterion"),
            ("dce,layer-prun", 5, "unknown pass 'layer-prun'; did you mean 'layer-prune'?; known passes: dce, layer-prune"),
            ("vocab-prune", 1, "unknown pass 'vocab-prune'; known passes: dce, layer-prune"),
            ("dce,layer-prune{count=100}", 23, "layer-prune: option 'count' must be in 1...64, got 100"),
            ("layer-prune{count=x}", 19, "layer-prune: option 'count' expects an integer, got 'x'"),
            ("layer-prune{kl-budget=nan}", 23, "layer-prune: option 'kl-budget' expects a number, got 'nan'"),
            ("layer-prune{count=1, criterion=cosine}", 32, "layer-prune: option 'criterion' must be one of kl|bi, got 'cosine'"),
            ("dce{x=1}", 5, "unknown option 'x' for dce; it accepts no options"),
            ("layer-prune{count=3,kl-budget=0.1}", 21, "layer-prune: give exactly one of count and kl-budget"),
            ("layer-prune{criterion=bi}", 1, "layer-prune: give exactly one of count and kl-budget"),
        ]
        for (text, column, message) in cases {
            XCTAssertThrowsError(try Pipeline(parsing: text).resolve(in: registry), text) { error in
                guard let e = error as? PipelineError else { return XCTFail("\(text): \(error)") }
                XCTAssertEqual(e.column, column, "\(text): \(e.message)")
                XCTAssertEqual(e.message, message, text)
            }
        }
    }

    func testErrorDescriptionShowsTheLocationAndACaret() {
        XCTAssertThrowsError(try Pipeline(parsing: "dce,layer-prune{cout=3}").resolve(in: registry)) { error in
            XCTAssertEqual(error.localizedDescription, """
                pipeline:1:17: error: unknown option 'cout' for layer-prune (did you mean 'count'?); it accepts: count, kl-budget, criterion
                  dce,layer-prune{cout=3}
                                  ^
                """)
        }
    }

    // MARK: The pass manager

    func testRunsAPipelineAndRecordsEachPass() throws {
        let m = tinyModule(blocks: 3)
        let manager = PassManager(passes: [ScheduledPass(DeadCodeElimination()), ScheduledPass(BypassBlock(block: 1, pruning: false))])
        let result = try manager.run(m, context: .structural)
        XCTAssertEqual(result.records.map(\.pass), ["dce", "bypass-block"])
        XCTAssertEqual(result.records.map(\.changed), [false, true])
        XCTAssertEqual(result.records.map(\.rejected), [false, false])
        XCTAssertEqual(result.records[0].statisticsSummary, "ops erased = 0, parameters erased = 0, kv slots renumbered = 0")
        XCTAssertEqual(result.records[1].statistics["ops erased"], "16")
        XCTAssertEqual(result.records[0].parametersBefore, m.parameterCount)
        XCTAssertEqual(result.records[0].parametersAfter, m.parameterCount)
        XCTAssertEqual(result.records[1].parametersAfter, result.module.parameterCount)
        XCTAssertLessThan(result.module.parameterCount, m.parameterCount)
        XCTAssertNil(result.records[1].kl)  // not a pruning pass
        // A non-pruning pass that records decisions gets its decision.N header too.
        XCTAssertEqual(result.records[1].decision, "decision.1")
        XCTAssertEqual(result.module.metadata.filter { $0.key.hasPrefix("decision.") }.map(\.key),
                       ["decision.1.pass", "decision.1.options", "decision.1.removed"])
        XCTAssertEqual(verify(result.module), [])
    }

    func testVerifyAfterCatchesABrokenPassAndKeepsTheModuleBeforeIt() throws {
        let m = tinyModule(blocks: 3)
        let bypassed = try PassManager(passes: [ScheduledPass(BypassBlock(block: 0, pruning: false))]).run(m, context: .structural).module
        let manager = PassManager(passes: [ScheduledPass(BypassBlock(block: 0, pruning: false)), ScheduledPass(BreakHead())])
        XCTAssertThrowsError(try manager.run(m, context: .structural)) { error in
            guard let f = error as? PassFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(f.index, 2)
            XCTAssertEqual(f.pass, "break-head")
            XCTAssertTrue(f.isVerificationFailure)
            XCTAssertEqual(f.records.count, 1)
            // The module before the broken pass, exactly.
            XCTAssertEqual(f.module, bypassed)
            XCTAssertNotEqual(f.module, m)
            XCTAssertEqual(verify(f.module), [])
            XCTAssertTrue(f.localizedDescription.hasPrefix("pass 2/2 break-head failed: pass 'break-head' produced invalid IR:"),
                          f.localizedDescription)
        }
        // Without verification the broken module comes through.
        let unchecked = try PassManager(passes: [ScheduledPass(BreakHead())], verify: false).run(m, context: .structural)
        XCTAssertFalse(verify(unchecked.module).isEmpty)
        // An invalid input is refused before any pass runs.
        XCTAssertThrowsError(try PassManager(passes: []).run(unchecked.module, context: .structural)) { error in
            XCTAssertTrue(error is VerificationError, "\(error)")
        }
    }

    func testAPassThatThrowsIsReportedWithItsPosition() {
        struct Throws: Pass {
            let name = "throws"
            let summary = "Always fails (test pass)"
            func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
                throw PassError.needsData(pass: name, what: "calibration data")
            }
        }
        let passes = [ScheduledPass(DeadCodeElimination()), ScheduledPass(Throws()), ScheduledPass(DeadCodeElimination())]
        XCTAssertThrowsError(try PassManager(passes: passes).run(tinyModule(), context: .structural)) { error in
            guard let f = error as? PassFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(f.index, 2)
            XCTAssertEqual(f.count, 3)
            XCTAssertFalse(f.isVerificationFailure)
            XCTAssertEqual(f.module, tinyModule())
        }
    }

    func testPrintAfterChangePrintsOnlyChangedPasses() throws {
        let m = tinyModule(blocks: 3)
        let passes = [ScheduledPass(DeadCodeElimination()), ScheduledPass(BypassBlock(block: 2, pruning: false)),
                      ScheduledPass(DeadCodeElimination())]
        var printed: [String] = []
        let result = try PassManager(passes: passes, printIR: .afterChange, irSink: { printed.append($0) }).run(m, context: .structural)
        XCTAssertEqual(printed.count, 1)
        XCTAssertEqual(printed.first, "// -----// IR after [2/3] bypass-block (changed) //----- //\n" + printModule(result.module))

        printed = []
        _ = try PassManager(passes: passes, printIR: .afterAll, irSink: { printed.append($0) }).run(m, context: .structural)
        XCTAssertEqual(printed.map { $0.prefix(while: { $0 != "\n" }) }, [
            "// -----// IR after [1/3] dce (unchanged) //----- //",
            "// -----// IR after [2/3] bypass-block (changed) //----- //",
            "// -----// IR after [3/3] dce (unchanged) //----- //",
        ])
        printed = []
        _ = try PassManager(passes: passes, irSink: { printed.append($0) }).run(m, context: .structural)
        XCTAssertEqual(printed, [])
    }

    func testDumpDirectoryWritesNumberedFiles() throws {
        let dir = NSTemporaryDirectory() + "pare-dump-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A stale dump from an earlier run is removed; other files are left alone.
        try Data("stale".utf8).write(to: URL(fileURLWithPath: dir + "/07-old.pir"))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))

        let m = tinyModule(blocks: 3)
        var lines: [String] = []
        let passes = [ScheduledPass(DeadCodeElimination()), ScheduledPass(BypassBlock(block: 1, pruning: false))]
        let result = try PassManager(passes: passes, dumpDirectory: dir, log: { lines.append($0) }).run(m, context: .structural)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(names, ["00-input.pir", "01-dce.pir", "02-bypass-block.pir", "notes.txt"])
        func read(_ n: String) throws -> String { try String(contentsOfFile: dir + "/" + n, encoding: .utf8) }
        XCTAssertEqual(try read("00-input.pir"), printModule(m))
        XCTAssertEqual(try read("01-dce.pir"), printModule(m))
        XCTAssertEqual(try read("02-bypass-block.pir"), printModule(result.module))
        XCTAssertTrue(try parseModule(read("02-bypass-block.pir"), file: "02-bypass-block.pir") == result.module.canonicalized())
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[1].hasPrefix("[2/2] bypass-block ... "), lines[1])
        XCTAssertTrue(lines[1].hasSuffix(" s, changed"), lines[1])

        // A dump path that is a file is a typed error.
        XCTAssertThrowsError(try PassManager(passes: [], dumpDirectory: dir + "/notes.txt").run(m, context: .structural)) { error in
            XCTAssertTrue(error is PassDumpError, "\(error)")
        }
    }

    func testPruningPassWithoutCalibrationIsRecordedButNotChecked() throws {
        // No weights in a structural context: the KL check cannot run; with a budget that is an error.
        let m = tinyModule(blocks: 3)
        let r = try PassManager(passes: [ScheduledPass(BypassBlock(block: 1))]).run(m, context: .structural)
        XCTAssertNil(r.records[0].kl)
        XCTAssertEqual(r.module[meta: "decision.1.pass"], .string("bypass-block"))
        XCTAssertNil(r.module[meta: "decision.1.kl.mean"])
        // The next pruning pass records under decision.2.
        let r2 = try PassManager(passes: [ScheduledPass(BypassBlock(block: 2))]).run(r.module, context: .structural)
        XCTAssertEqual(r2.records[0].decision, "decision.2")
        XCTAssertEqual(r2.module[meta: "decision.2.removed"], .string("[2]"))

        XCTAssertThrowsError(try PassManager(passes: [ScheduledPass(BypassBlock(block: 1))], klBudget: 0.1).run(m, context: .structural)) { error in
            guard let f = error as? PassFailure, case PassError.needsData = f.underlying else { return XCTFail("\(error)") }
        }
    }

    func testRecordsEncodeToJSONWithEveryKey() throws {
        let r = try PassManager(passes: [ScheduledPass(DeadCodeElimination())]).run(tinyModule(), context: .structural)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r.records)) as? [[String: Any]]
        let keys = Set(json?.first?.keys.map { $0 } ?? [])
        XCTAssertEqual(keys, ["index", "pass", "options", "changed", "rejected", "rejection", "seconds", "kl_seconds", "statistics",
                              "statistics_order", "parameters_before", "parameters_after", "parameters_rejected", "kl",
                              "kl_budget", "decision", "held_out", "held_out_budget"])
        XCTAssertTrue(json?.first?["kl"] is NSNull)
        XCTAssertTrue(json?.first?["held_out"] is NSNull)
        XCTAssertEqual(try JSONDecoder().decode([PassRecord].self, from: JSONEncoder().encode(r.records)), r.records)
    }
}

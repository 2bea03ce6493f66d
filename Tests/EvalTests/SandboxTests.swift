// The sandbox on planted programs: one that passes, fails, times out, crashes, wants too much memory, does not
// parse, raises, reads the caller's environment, or leaves a child running.
import Foundation
import PareEval
import XCTest

final class SandboxTests: XCTestCase {
    let sandbox = try! PythonSandbox(limits: SandboxLimits(wallSeconds: 2, addressSpaceBytes: 512 << 20))

    func testPassingProgram() throws {
        let o = try sandbox.run("def f(x):\n    return x + 1\n\nassert f(1) == 2\n")
        XCTAssertTrue(o.passed, o.detail)
        XCTAssertNil(o.failure)
        XCTAssertLessThan(o.seconds, 2)
    }

    func testFailingAssertion() throws {
        let o = try sandbox.run("def f(x):\n    return x\n\nassert f(1) == 2, 'f(1) is wrong'\n")
        XCTAssertFalse(o.passed)
        XCTAssertEqual(o.failure, .assertion)
        XCTAssertEqual(o.detail, "AssertionError: f(1) is wrong")
    }

    func testTimeoutIsKilledNotWaitedFor() throws {
        let start = Date()
        let o = try sandbox.run("while True:\n    pass\n")
        XCTAssertEqual(o.failure, .timeout)
        XCTAssertLessThan(Date().timeIntervalSince(start), 4, "the 2 s wall limit ends the run")
        // A sleeping program uses no CPU: only the wall-clock deadline can end it.
        let sleeping = try sandbox.run("import time\ntime.sleep(60)\n")
        XCTAssertEqual(sleeping.failure, .timeout)
        XCTAssertLessThan(sleeping.seconds, 4)
    }

    func testCrash() throws {
        let o = try sandbox.run("import os\nos.abort()\n")
        XCTAssertEqual(o.failure, .crash)
        XCTAssertTrue(o.detail.contains("signal \(SIGABRT)"), o.detail)
    }

    func testMemoryHungryProgramMeetsItsLimit() throws {
        let o = try sandbox.run("x = bytearray(4 << 30)\n")  // 4 GiB against a 512 MiB address space
        XCTAssertEqual(o.failure, .memory, o.detail)
    }

    func testSyntaxAndOtherExceptions() throws {
        XCTAssertEqual(try sandbox.run("def f(:\n    pass\n").failure, .syntax)
        XCTAssertEqual(try sandbox.run("def f():\nreturn 1\n").failure, .syntax, "IndentationError")
        let o = try sandbox.run("undefined_name + 1\n")
        XCTAssertEqual(o.failure, .exception)
        XCTAssertTrue(o.detail.hasPrefix("NameError"), o.detail)
        XCTAssertEqual(try sandbox.run("import sys\nsys.exit(3)\n").failure, .exception, "a non-zero exit is a failure")
    }

    func testEnvironmentIsNotInherited() throws {
        setenv("PARE_TEST_SECRET", "hunter2", 1)
        defer { unsetenv("PARE_TEST_SECRET") }
        let o = try sandbox.run("import os\nassert 'PARE_TEST_SECRET' not in os.environ, 'leaked'\nassert os.getcwd() == os.environ['HOME']\n")
        XCTAssertTrue(o.passed, o.detail)
    }

    func testNothingItStartedOutlivesTheRun() throws {
        // The program starts a child, writes its pid, then hangs; the timeout kills the whole process group.
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("pare-sandbox-\(getpid()).pid").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let program = """
            import subprocess, time
            p = subprocess.Popen(['sleep', '120'])
            open('\(pidFile)', 'w').write(str(p.pid))
            time.sleep(120)
            """
        let o = try sandbox.run(program)
        XCTAssertEqual(o.failure, .timeout)
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try XCTUnwrap(Int32(text))
        Thread.sleep(forTimeInterval: 0.2)
        let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
        XCTAssertTrue(state == nil || state == "Z", "the child \(pid) still runs (state \(state.map(String.init) ?? "?"))")
    }

    func testAProgramCannotFillTheDisk() throws {
        let o = try sandbox.run("open('big', 'wb').write(b'x' * (64 << 20))\n")  // 64 MB against a 16 MB file limit
        XCTAssertFalse(o.passed)
    }

    func testMarkerIsRequiredWhenGiven() throws {
        XCTAssertTrue(try sandbox.run("print('m-1')\n", marker: "m-1").passed)
        let early = try sandbox.run("import sys\nsys.exit(0)\nprint('m-1')\n", marker: "m-1")
        XCTAssertEqual(early.failure, .earlyExit)
        XCTAssertFalse(try sandbox.run("print('m-1')\nprint('later')\n", marker: "m-1").passed, "the marker must be the last line")
    }

    func testMissingInterpreterIsATypedError() {
        XCTAssertThrowsError(try PythonSandbox(limits: sandbox.limits, python: "/nonexistent/python3")) { e in
            XCTAssertTrue(e is EvalError, "\(e)")
        }
    }
}

// Runs every golden `.pir` file under Golden/ (roundtrip/, verifier/, dce/).
import XCTest

final class IRGoldenTests: XCTestCase {
    func testEveryGoldenFile() throws {
        let files = try GoldenRunner.allFiles()
        let folders = Set(files.map { $0.0.split(separator: "/").first.map(String.init) ?? "" })
        XCTAssertTrue(folders.isSuperset(of: ["roundtrip", "verifier", "dce"]), "golden folders found: \(folders.sorted())")
        for (name, text) in files {
            let failures = GoldenRunner.run(GoldenFile(name: name, text: text))
            XCTAssertTrue(failures.isEmpty, "\n" + failures.joined(separator: "\n"))
        }
        print("golden files checked: \(files.count)")
    }
}

import XCTest
final class TokenizerTestsPlaceholder: XCTestCase { func testNothing() {} }

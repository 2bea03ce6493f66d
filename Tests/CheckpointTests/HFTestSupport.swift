// Helpers for the Hugging Face tests: safetensors bytes written from Swift, temp directories, error checks.
import Foundation
import PareCheckpoint
import XCTest

/// One tensor to write into a test .safetensors file.
struct HFTestTensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var data: [UInt8]

    static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> HFTestTensor {
        HFTestTensor(name: name, dtype: "F32", shape: shape, data: values.flatMap { hfLittleEndian($0.bitPattern) })
    }
    static func f16(_ name: String, _ shape: [Int], bits: [UInt16]) -> HFTestTensor {
        HFTestTensor(name: name, dtype: "F16", shape: shape, data: bits.flatMap { hfLittleEndian($0) })
    }
    /// bfloat16 from floats that bfloat16 holds exactly (their low 16 bits are zero).
    static func bf16(_ name: String, _ shape: [Int], _ values: [Float]) -> HFTestTensor {
        precondition(values.allSatisfy { $0.bitPattern & 0xffff == 0 }, "test value not exact in bfloat16")
        return HFTestTensor(name: name, dtype: "BF16", shape: shape, data: values.flatMap { hfLittleEndian(UInt16($0.bitPattern >> 16)) })
    }
}

/// Little-endian bytes of an integer.
func hfLittleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

/// A .safetensors file: the header is built by hand so tests control every byte.
/// `offsets` overrides a tensor's data_offsets; `padTo` pads the header with spaces (8 like the reference
/// writer; 1 leaves the data section unaligned).
func safetensorsBytes(_ tensors: [HFTestTensor], metadata: String? = #"{"format":"pt"}"#,
                      offsets: [String: [Int]] = [:], padTo: Int = 8) -> [UInt8] {
    var parts: [String] = []
    if let m = metadata { parts.append(#""__metadata__":"# + m) }
    var data: [UInt8] = []
    for t in tensors {
        let o = offsets[t.name] ?? [data.count, data.count + t.data.count]
        parts.append("\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":\(t.shape),\"data_offsets\":\(o)}")
        data += t.data
    }
    return rawSafetensors(header: "{" + parts.joined(separator: ",") + "}", data: data, padTo: padTo)
}

/// A .safetensors file from a literal header; `length` overrides the 8-byte length field.
func rawSafetensors(header: String, data: [UInt8], padTo: Int = 8, length: UInt64? = nil) -> [UInt8] {
    var h = Array(header.utf8)
    while h.count % padTo != 0 { h.append(0x20) }
    return hfLittleEndian(length ?? UInt64(h.count)) + h + data
}

/// A config.json for a tiny model; `edit` changes keys (nil value removes the key).
func hfConfigJSON(_ edit: [String: Any?] = [:]) -> String {
    var c: [String: Any] = [
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8, "intermediate_size": 12,
        "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "vocab_size": 10, "max_position_embeddings": 64, "tie_word_embeddings": true,
        "torch_dtype": "float32", "unknown_future_key": ["ignored", 1],
    ]
    for (k, v) in edit { c[k] = v }
    let data = try! JSONSerialization.data(withJSONObject: c, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

/// A fresh temporary directory, removed by `HFTempDirectory.cleanUp`.
final class HFTempDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("pare-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to `name` inside the directory and returns the full path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = (path as NSString).appendingPathComponent(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }
}

/// Asserts that `body` throws a CheckpointError matching `match` whose message mentions every string in
/// `mentions` (the file, the tensor or key, ...). Returns the message.
@discardableResult
func assertHFError(_ body: () throws -> Void, mentions: [String], file: StaticString = #filePath, line: UInt = #line,
                           _ match: (CheckpointError) -> Bool) -> String? {
    do {
        try body()
        XCTFail("expected an error, got none", file: file, line: line)
        return nil
    } catch let e as CheckpointError {
        let message = e.errorDescription ?? ""
        XCTAssertTrue(match(e), "wrong error case: \(e)", file: file, line: line)
        for m in mentions {
            XCTAssertTrue(message.contains(m), "message does not mention '\(m)': \(message)", file: file, line: line)
        }
        return message
    } catch {
        XCTFail("expected CheckpointError, got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
}

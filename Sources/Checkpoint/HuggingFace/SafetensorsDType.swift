// The element types a safetensors header can name, their sizes, and which of them Pare converts.

/// A safetensors `dtype` string. Pare converts `F32`, `F16` and `BF16`; the others are recognised so that
/// offsets can still be checked and the error can say what the tensor holds.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }

    /// The `TensorInfo.encoding` for the types Pare converts to float32, nil for the others.
    public var encoding: String? {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .bf16: return "bf16"
        default: return nil
        }
    }

    /// The dtypes Pare reads, for messages.
    public static let supportedNames = "F32, F16, BF16"
}

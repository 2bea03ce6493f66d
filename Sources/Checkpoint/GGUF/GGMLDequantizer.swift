// Dispatches dequantisation of ggml blocks to float32, optionally across threads.
import Foundation

/// Converts ggml-encoded tensor bytes to float32. The kernels follow ggml's block layouts
/// (`ggml-common.h`, `dequantize_row_*` in `ggml-quants.c`) and multiply in the same order, so results
/// are bit-identical to ggml's reference dequantisation.
public enum GGMLDequantizer {
    /// Dequantises `src`, a whole number of `type` blocks, into `dst` (`src.count / typeSize * blockSize`
    /// elements). Throws when `type` is not one Pare dequantises or the sizes disagree.
    public static func dequantize(_ type: GGMLType, _ src: UnsafeRawBufferPointer,
                                  into dst: UnsafeMutableBufferPointer<Float>, threads: Int = 1) throws {
        guard type.isDequantizable else {
            throw CheckpointError.unsupported(path: "<memory>", detail: "Pare cannot dequantise ggml type \(type.name)")
        }
        guard src.count % type.typeSize == 0, src.count / type.typeSize * type.blockSize == dst.count else {
            throw CheckpointError.malformed(path: "<memory>",
                detail: "\(src.count) bytes of \(type.name) do not hold \(dst.count) elements")
        }
        run(type, src: src, dst: dst, threads: threads)
    }

    /// Dequantises without checking: `src` must hold exactly `dst.count / blockSize` blocks of a
    /// dequantisable type.
    static func run(_ type: GGMLType, src: UnsafeRawBufferPointer, dst: UnsafeMutableBufferPointer<Float>, threads: Int) {
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        let blocks = dst.count / type.blockSize
        let parts = max(1, min(threads, blocks))
        if parts == 1 {
            kernel(type, s, d, blocks)
            return
        }
        let per = (blocks + parts - 1) / parts
        let bs = type.blockSize, ts = type.typeSize
        DispatchQueue.concurrentPerform(iterations: parts) { k in
            let first = k * per
            let n = min(per, blocks - first)
            if n > 0 { kernel(type, s + first * ts, d + first * bs, n) }
        }
    }

    /// Runs the kernel for `type` over `n` consecutive blocks.
    @inline(__always)
    private static func kernel(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        switch type {
        case .f32: dequantizeF32(s, dst, n)
        case .f16: dequantizeF16(s, dst, n)
        case .bf16: dequantizeBF16(s, dst, n)
        case .q4_0: dequantizeQ4_0(s, dst, n)
        case .q4_1: dequantizeQ4_1(s, dst, n)
        case .q5_0: dequantizeQ5_0(s, dst, n)
        case .q5_1: dequantizeQ5_1(s, dst, n)
        case .q8_0: dequantizeQ8_0(s, dst, n)
        case .q2_k: dequantizeQ2_K(s, dst, n)
        case .q3_k: dequantizeQ3_K(s, dst, n)
        case .q4_k: dequantizeQ4_K(s, dst, n)
        case .q5_k: dequantizeQ5_K(s, dst, n)
        case .q6_k: dequantizeQ6_K(s, dst, n)
        default: break // excluded by isDequantizable
        }
    }
}

/// The f16 stored little-endian at `p`, as float32.
@inline(__always)
func loadHalf(_ p: UnsafePointer<UInt8>) -> Float {
    f16ToF32(UInt16(p[0]) | UInt16(p[1]) << 8)
}

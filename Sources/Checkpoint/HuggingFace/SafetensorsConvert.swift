// Converts F32 / F16 / BF16 tensor bytes to float32, in place from the mapping, on two threads when large.
import Foundation

enum SafetensorsConvert {
    /// Tensors with at least this many elements are split over two threads.
    static let parallelThreshold = 1 << 18

    /// Converts `count` elements of `dtype` at `src` (little-endian, any alignment) into `dst`.
    static func toFloat32(_ dtype: SafetensorsDType, from src: UnsafeRawPointer,
                          to dst: UnsafeMutablePointer<Float>, count: Int) {
        guard count >= parallelThreshold else {
            convert(dtype, src, dst, 0, count)
            return
        }
        let half = (count / 2) & ~63
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 { convert(dtype, src, dst, 0, half) } else { convert(dtype, src, dst, half, count) }
        }
    }

    /// Converts elements `[lo, hi)`.
    private static func convert(_ dtype: SafetensorsDType, _ src: UnsafeRawPointer,
                                _ dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        guard hi > lo else { return }
        switch dtype {
        case .f32:
            memcpy(dst + lo, src + 4 * lo, 4 * (hi - lo))
        case .f16:
            if Int(bitPattern: src) & 1 == 0 {
                let p = src.assumingMemoryBound(to: UInt16.self)
                for i in lo..<hi { dst[i] = f16ToF32(UInt16(littleEndian: p[i])) }
            } else {
                for i in lo..<hi { dst[i] = f16ToF32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            }
        case .bf16:
            if Int(bitPattern: src) & 1 == 0 {
                let p = src.assumingMemoryBound(to: UInt16.self)
                for i in lo..<hi { dst[i] = bf16ToF32(UInt16(littleEndian: p[i])) }
            } else {
                for i in lo..<hi { dst[i] = bf16ToF32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            }
        default:
            // Unreachable: SafetensorsHeader rejects every dtype without an encoding.
            break
        }
    }
}

// Elementwise and reduction loops over float rows: plain Swift on unsafe pointers, rows of the length the callers give (no -Ounchecked: release builds keep Swift's checks elsewhere).
import Foundation

/// sum(x[i]^2) over `n` floats, eight lanes at a time.
@inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        acc += v * v
        i += 8
    }
    var s = acc.sum()
    while i < n {
        s += x[i] * x[i]
        i += 1
    }
    return s
}

/// 1 / sqrt(mean(x^2) + eps) of one row of `n` floats (the interpreter's rms_norm arithmetic).
@inline(__always)
func inverseRMS(_ x: UnsafePointer<Float>, _ n: Int, eps: Float) -> Float {
    1 / (sumOfSquares(x, n) / Float(n) + eps).squareRoot()
}

/// y[i] += b[i] for `n` floats.
@inline(__always)
func addInPlace(_ y: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += b[i] }
}

/// y[i] = s * y[i] (+ b[i]) for `n` floats.
@inline(__always)
func scaleInPlace(_ y: UnsafeMutablePointer<Float>, by s: Float, bias: UnsafePointer<Float>?, _ n: Int) {
    if let bias {
        for i in 0..<n { y[i] = s * y[i] + bias[i] }
    } else {
        for i in 0..<n { y[i] *= s }
    }
}

/// x * sigmoid(x), as the interpreter computes it.
@inline(__always)
func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

/// Elementwise kernels over `n` contiguous floats; `out` may be `a` or `b`.
enum Elementwise {
    static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = a[i] + b[i] }
    }

    static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = a[i] * b[i] }
    }

    static func silu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = PareRuntime.silu(x[i]) }
    }

    /// out[j] = silu(gate[j]) * up[j] for `n` floats.
    static func swiglu(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for j in 0..<n { out[j] = PareRuntime.silu(gate[j]) * up[j] }
    }

    /// out = x / rms(x) * g for one row of `n` floats; `out` may be `x`.
    static func rmsNorm(_ x: UnsafePointer<Float>, weight g: UnsafePointer<Float>, eps: Float, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        let inv = inverseRMS(x, n, eps: eps)
        for i in 0..<n { out[i] = g[i] * (x[i] * inv) }
    }

    /// Softmax in place over `n` floats: exp(x - max) / sum.
    static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var mx = -Float.infinity
        for j in 0..<n { mx = max(mx, x[j]) }
        var sum: Float = 0
        for j in 0..<n {
            let e = expf(x[j] - mx)
            x[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<n { x[j] *= inv }
    }
}

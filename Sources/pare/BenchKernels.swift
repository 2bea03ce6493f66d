// `pare bench-kernels`: the matrix-vector kernels' own speed on cache-resident weights, per block format, one thread
// and the pool. It is the compute bound of decode (docs/BENCHMARKS.md): a plan cannot decode faster than its bytes
// per token allow at these rates, whatever the memory bandwidth.
import ArgumentParser
import CKernels
import Foundation

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Measure the matrix-vector kernels on cache-resident weights: GB/s of weights and ns per 32 weights, per format.",
        discussion: """
            For each weight format the runtime reads (f16, q8_0, q5_0, q4_1, q4_0, q4_k, q6_k): a --rows x --cols \
            matrix of random blocks (small enough to stay in cache: 512 x 1024 is 288 KB as q4_0), multiplied with a \
            quantised activation row (pk_matmul, as decode does) over and over for about --seconds: the median of 5 \
            such runs, on one thread and on the pool (PARE_THREADS, default every core), at the best instruction-set \
            level this CPU has. Bytes per token of a plan divided by these rates bound its decode speed from the \
            compute side; scripts/bench-compare.sh prints both bounds.

            Example:
              pare bench-kernels --json
            """)

    @Option(help: "Rows of the test matrix (16-65536).")
    var rows = 512
    @Option(help: "Columns (a multiple of 32, 32-65536; the k-quants, whose blocks are 256, are left out unless it is a multiple of 256).")
    var cols = 1024
    @Option(help: "Seconds per timed run (0.01-10).")
    var seconds = 0.2
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (16...65536).contains(rows) else { throw ValidationError("--rows must be in 16...65536, got \(rows)") }
        guard (32...65536).contains(cols), cols % 32 == 0 else { throw ValidationError("--cols must be a multiple of 32 in 32...65536, got \(cols)") }
        guard seconds.isFinite, (0.01...10).contains(seconds) else { throw ValidationError("--seconds must be in 0.01...10, got \(seconds)") }
    }

    struct Row: Encodable {
        var format: String
        var matrix_bytes: Int
        var threads: Int
        var gb_per_second: Double
        var ns_per_32_weights: Double
    }

    struct Output: Encodable {
        var level: String
        var rows: Int
        var cols: Int
        var results: [Row]
    }

    func run() throws {
        let formats: [(String, Int32)] = [("f16", Int32(PK_F16)), ("q8_0", Int32(PK_Q8_0)), ("q5_0", Int32(PK_Q5_0)), ("q4_1", Int32(PK_Q4_1)),
                                          ("q4_0", Int32(PK_Q4_0)), ("q4_k", Int32(PK_Q4_K)), ("q6_k", Int32(PK_Q6_K))]
        var rng = SystemRandomNumberGenerator()
        let x = (0..<cols).map { _ in Float.random(in: -1...1, using: &rng) }
        var results: [Row] = []
        for (name, type) in formats {
            // Random weights through the encoder where it writes the format (valid scales); random bytes with small
            // scales otherwise (k-quants: the speed does not depend on the values).
            let rowBytes = Int(pk_row_bytes(type, Int64(cols)))
            guard rowBytes > 0 else { continue }
            var w = [UInt8](repeating: 0, count: rows * rowBytes)
            if pk_encodable(type) != 0 {
                let v = (0..<cols).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
                w.withUnsafeMutableBytes { wp in
                    for r in 0..<rows { _ = pk_quantize_row(type, v, wp.baseAddress! + r * rowBytes, Int64(cols)) }
                }
            } else {
                for i in w.indices { w[i] = UInt8.random(in: 0...255, using: &rng) & 0x3f }  // halves stay small
            }
            var act = [UInt8](repeating: 0, count: Int(pk_act_bytes(type, Int64(cols))))
            act.withUnsafeMutableBytes { pk_quantize_act(type, x, nil, 1, Int64(cols), $0.baseAddress) }
            var y = [Float](repeating: 0, count: rows)
            for threads in Set([1, Int(pk_threads())]).sorted() {
                func once() {
                    w.withUnsafeBytes { wp in act.withUnsafeBytes { ap in y.withUnsafeMutableBufferPointer { yp in
                        if threads == 1 {
                            pk_matmul_rows(type, wp.baseAddress, Int64(cols), 0, Int64(rows), ap.baseAddress, 0, 1, yp.baseAddress, 0)
                        } else {
                            pk_matmul(type, wp.baseAddress, Int64(cols), Int64(rows), ap.baseAddress, 0, 1, yp.baseAddress, 0)
                        }
                    } } }
                }
                for _ in 0..<20 { once() }
                var runs: [Double] = []
                for _ in 0..<5 {
                    var n = 0
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    var t = t0
                    while Double(t - t0) < seconds * 1e9 {
                        for _ in 0..<10 { once() }
                        n += 10
                        t = DispatchTime.now().uptimeNanoseconds
                    }
                    runs.append(Double(t - t0) / Double(n))
                }
                let ns = runs.sorted()[2]
                results.append(Row(format: name, matrix_bytes: w.count, threads: threads, gb_per_second: Double(w.count) / ns,
                                   ns_per_32_weights: ns / Double(rows * cols / 32)))
            }
        }
        let level = pk_level() >= Int32(PK_LEVEL_AVX2) ? "avx2" : "portable"
        if json {
            try printJSON(Output(level: level, rows: rows, cols: cols, results: results))
        } else {
            print("kernels at level \(level), \(rows) x \(cols) weights per matrix (cache-resident)")
            print("format  threads  matrix KB  GB/s of weights  ns per 32 weights")
            for r in results {
                print(r.format.padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: " %7d %10.0f %16.1f %18.2f", r.threads, Double(r.matrix_bytes) / 1024, r.gb_per_second, r.ns_per_32_weights))
            }
        }
    }
}

// swift-tools-version:6.0
// Pare: a compiler that makes code LLMs smaller and faster on ordinary machines.
//
// Data flows one way: checkpoint (GGUF, safetensors) -> Frontend (lift) -> IR -> passes -> Lowering -> Plan ->
// Runtime -> Eval -> pare (CLI). The targets follow it only in part; what each one really depends on (lower layers
// first), kept equal to the declarations below and to the sources' imports by .ci/check-deps.py, which CI runs:
//
// Dependency graph (each target: what it depends on; checked by .ci/check-deps.py):
//   CBLAS:           -
//   CCRC32C:         -
//   CProtobufC:      -
//   CSHA256:         -
//   CSandbox:        -
//   PareCheckpoint:  -
//   PareIR:          -
//   CKernels:        CBLAS
//   ParePlan:        CCRC32C, CSHA256, SwiftProtobuf
//   PareTokenizer:   PareIR
//   pare-plan-dump:  CCRC32C, CProtobufC
//   PareInterpreter: CBLAS, CKernels, PareIR
//   PareRuntime:     CBLAS, CKernels, PareIR, ParePlan, PareTokenizer
//   PareEval:        CSandbox, PareRuntime, PareTokenizer
//   PareLowering:    PareCheckpoint, PareIR, PareInterpreter, ParePlan
//   ParePasses:      CSHA256, PareIR, PareInterpreter, PareTokenizer
//   PareFrontend:    CSHA256, PareCheckpoint, PareIR, PareInterpreter, ParePasses, PareTokenizer
//   pare:            ArgumentParser, CKernels, PareCheckpoint, PareEval, PareFrontend, PareIR, PareInterpreter, PareLowering, ParePasses, ParePlan, PareRuntime, PareTokenizer
//
// Where the targets depart from the chain (the pay-back list in ../shared/STYLE.md): the frontend imports the
// passes (calibration), lowering and the passes produce weights with the interpreter's WeightStore, and the runtime
// imports the IR for the BPE model its tokenizer reads. `IR/` depends on nothing of ours; the plan format
// (ParePlan) depends on nothing of ours but checksums.
import PackageDescription

let package = Package(
    name: "Pare",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pare", targets: ["pare"]),
        .library(name: "PareIR", targets: ["PareIR"]),
        .library(name: "ParePasses", targets: ["ParePasses"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // OpenBLAS (Debian libopenblas-dev) for every matrix product.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),

        // SHA-256 in C: x86 SHA-NI instructions when the CPU has them, portable code otherwise.
        .target(name: "CSHA256", path: "Sources/CSHA256"),

        // CRC-32C (Castagnoli) in C: SSE4.2 instructions when the CPU has them, a table otherwise. Plan checksums.
        .target(name: "CCRC32C", path: "Sources/CCRC32C"),
        // Weight kernels in C: products on ggml block formats (AVX2/FMA/F16C when the CPU has them, portable C
        // otherwise), activation quantisation, row dequantisation, and the thread pool products run on.
        .target(name: "CKernels", dependencies: ["CBLAS"], path: "Sources/CKernels"),
        // protobuf-c (Debian libprotobuf-c-dev), for the C plan reader.
        .systemLibrary(name: "CProtobufC", path: "Sources/CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),

        // The graph IR: module, ops, types, printer, parser, verifier, rewriter.
        .target(name: "PareIR", path: "IR"),
        // Rewrite passes, one file each, and the pass manager.
        .target(name: "ParePasses", dependencies: ["PareIR", "PareInterpreter", "PareTokenizer", "CSHA256"], path: "passes"),

        // Checkpoint readers: GGUF (with dequantisation) and Hugging Face directories.
        .target(name: "PareCheckpoint", path: "Sources/Checkpoint"),
        // Byte-level BPE tokenizer over the IR's vocabulary.
        .target(name: "PareTokenizer", dependencies: ["PareIR"], path: "Sources/Tokenizer"),
        // The reference interpreter: the definition of the IR's meaning (float32, OpenBLAS).
        .target(name: "PareInterpreter", dependencies: ["PareIR", "CBLAS", "CKernels"], path: "Sources/Interpreter"),
        // Lifting: checkpoint -> IR module; parameter materialisation for the interpreter.
        .target(name: "PareFrontend",
                dependencies: ["PareIR", "PareCheckpoint", "PareTokenizer", "PareInterpreter", "ParePasses", "CSHA256"],
                path: "Sources/Frontend"),
        // The execution plan: plan.proto (generated code in Generated/), codec, validation, plan directory I/O.
        .target(name: "ParePlan",
                dependencies: ["CCRC32C", "CSHA256", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/Plan", exclude: ["plan.proto"]),
        // A C reader of plan.pb on libprotobuf-c: proves the format is language-neutral.
        .executableTarget(name: "pare-plan-dump", dependencies: ["CProtobufC", "CCRC32C"], path: "Sources/PlanReaderC"),
        // Lowering: a lowered IR module plus its weights -> an execution plan and its weight blob.
        .target(name: "PareLowering", dependencies: ["PareIR", "PareInterpreter", "ParePlan", "PareCheckpoint"],
                path: "Sources/Lowering"),
        // The runtime: loads a plan, runs prefill (sgemm) and decode (sgemv) with a KV cache, samples, streams.
        .target(name: "PareRuntime", dependencies: ["ParePlan", "PareTokenizer", "PareIR", "CBLAS", "CKernels"],
                path: "Sources/Runtime"),
        // Running untrusted generated programs: fork/exec with resource limits, a deadline and its own process group.
        .target(name: "CSandbox", path: "Sources/CSandbox"),
        // Evaluation: HumanEval problems, the codex and chat protocols, the sandbox, resumable results, McNemar.
        .target(name: "PareEval", dependencies: ["PareRuntime", "PareTokenizer", "CSandbox"], path: "Sources/Eval"),
        // The command line.
        .executableTarget(name: "pare",
                          dependencies: ["PareFrontend", "PareIR", "ParePasses", "PareInterpreter", "PareTokenizer",
                                         "PareCheckpoint", "PareLowering", "ParePlan", "PareRuntime", "PareEval", "CKernels",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/pare"),

        .testTarget(name: "IRTests", dependencies: ["PareIR", "ParePasses", "PareInterpreter", "PareTokenizer"], path: "Tests/IRTests",
                    resources: [.copy("Golden")]),
        .testTarget(name: "CheckpointTests", dependencies: ["PareCheckpoint"], path: "Tests/CheckpointTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["PareTokenizer", "PareIR"], path: "Tests/TokenizerTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KernelTests", dependencies: ["CKernels", "PareCheckpoint"], path: "Tests/KernelTests"),
        .testTarget(name: "PlanTests", dependencies: ["ParePlan"], path: "Tests/PlanTests"),
        .testTarget(name: "RuntimeTests", dependencies: ["PareRuntime", "ParePlan", "PareTokenizer", "PareIR"], path: "Tests/RuntimeTests"),
        .testTarget(name: "EvalTests", dependencies: ["PareEval", "PareRuntime", "ParePlan", "PareTokenizer"], path: "Tests/EvalTests"),
        .testTarget(name: "ModelTests",
                    dependencies: ["PareFrontend", "PareIR", "ParePasses", "PareInterpreter", "PareTokenizer", "PareCheckpoint",
                                   "PareLowering", "ParePlan", "PareRuntime", "CKernels"],
                    path: "Tests/ModelTests", exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)

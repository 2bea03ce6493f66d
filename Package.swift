// swift-tools-version:6.0
// Pare: a compiler that makes code LLMs smaller and faster on ordinary machines.
//
// Data flows one way, and the targets follow it:
//   Checkpoint (GGUF, safetensors) -> Frontend (lift) -> IR -> passes -> Interpreter -> pare (CLI)
// Nothing lower in that chain imports something higher. `IR/` depends on nothing of ours.
import PackageDescription

let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

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
    ],
    targets: [
        // OpenBLAS (Debian libopenblas-dev) for every matrix product.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),

        // SHA-256 in C: x86 SHA-NI instructions when the CPU has them, portable code otherwise.
        .target(name: "CSHA256", path: "Sources/CSHA256"),

        // The graph IR: module, ops, types, printer, parser, verifier, rewriter.
        .target(name: "PareIR", path: "IR", swiftSettings: release),
        // Rewrite passes, one file each, and the pass manager.
        .target(name: "ParePasses", dependencies: ["PareIR", "PareInterpreter", "PareTokenizer", "CSHA256"], path: "passes", swiftSettings: release),

        // Checkpoint readers: GGUF (with dequantisation) and Hugging Face directories.
        .target(name: "PareCheckpoint", path: "Sources/Checkpoint", swiftSettings: release),
        // Byte-level BPE tokenizer over the IR's vocabulary.
        .target(name: "PareTokenizer", dependencies: ["PareIR"], path: "Sources/Tokenizer", swiftSettings: release),
        // The reference interpreter: the definition of the IR's meaning (float32, OpenBLAS).
        .target(name: "PareInterpreter", dependencies: ["PareIR", "CBLAS"], path: "Sources/Interpreter", swiftSettings: release),
        // Lifting: checkpoint -> IR module; parameter materialisation for the interpreter.
        .target(name: "PareFrontend",
                dependencies: ["PareIR", "PareCheckpoint", "PareTokenizer", "PareInterpreter", "ParePasses", "CSHA256"],
                path: "Sources/Frontend", swiftSettings: release),
        // The command line.
        .executableTarget(name: "pare",
                          dependencies: ["PareFrontend", "PareIR", "ParePasses", "PareInterpreter", "PareTokenizer",
                                         "PareCheckpoint", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/pare", swiftSettings: release),

        .testTarget(name: "IRTests", dependencies: ["PareIR", "ParePasses", "PareInterpreter", "PareTokenizer"], path: "Tests/IRTests",
                    resources: [.copy("Golden")]),
        .testTarget(name: "CheckpointTests", dependencies: ["PareCheckpoint"], path: "Tests/CheckpointTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["PareTokenizer", "PareIR"], path: "Tests/TokenizerTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelTests",
                    dependencies: ["PareFrontend", "PareIR", "ParePasses", "PareInterpreter", "PareTokenizer", "PareCheckpoint"],
                    path: "Tests/ModelTests", exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)

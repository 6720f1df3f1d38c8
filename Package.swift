// swift-tools-version:6.0
import PackageDescription

/// Release builds get aggressive optimisation of the numeric kernels; debug builds stay debuggable.
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-target-cpu", "native"], .when(configuration: .release)),
]

let package = Package(
    name: "interp",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "interp", targets: ["interp"]),
        .executable(name: "interp-bench", targets: ["interp-bench"]),
        .library(name: "NNRuntime", targets: ["NNRuntime"]),
        .library(name: "InterpCLI", targets: ["InterpCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Zip archives: PyTorch's zip-format checkpoints and .npz files (MIT licence).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // YAML run configurations (--config FILE.yaml) (MIT licence).
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // ONNX models are protobuf; the generated onnx.pb.swift is committed (Apache-2.0 licence).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, liblapacke-dev, libpng-dev, libjpeg-dev).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        // Real FFTs for DORA's Fourier image parameterisation (Debian: libkissfft-dev, BSD-3-Clause).
        .systemLibrary(name: "CKissFFT", providers: [.apt(["libkissfft-dev"])]),

        // libpng and libjpeg behind error codes (their error handlers must longjmp, which Swift cannot).
        .target(name: "CImageCodecs", dependencies: ["CJPEG", "CPNG"]),

        // The engine every method shares.
        .target(name: "NNRuntime", dependencies: ["CBLAS", "CPNG", "CJPEG", "CImageCodecs", "CKissFFT",
                                                  .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                swiftSettings: kernelSettings),
        // ONNX import: any exported network as a module tree on the same tape. Kept out of NNRuntime's
        // build so the other targets never wait on protobuf.
        .target(name: "NNRuntimeONNX", dependencies: ["NNRuntime", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Generated/README.md"], swiftSettings: kernelSettings),
        // Statistics shared by the methods.
        .target(name: "Analysis", dependencies: ["NNRuntime", "CBLAS"], swiftSettings: kernelSettings),
        // captum-like attribution methods.
        .target(name: "Attribution", dependencies: ["NNRuntime"], swiftSettings: kernelSettings),
        // One target per method.
        .target(name: "DoraCore", dependencies: ["NNRuntime", "Analysis"], swiftSettings: kernelSettings),
        .target(name: "Invert", dependencies: ["NNRuntime", "Analysis"], swiftSettings: kernelSettings),
        .target(name: "RDR", dependencies: ["NNRuntime", "Analysis"], swiftSettings: kernelSettings),
        .target(name: "ROAR", dependencies: ["NNRuntime", "Analysis", "Attribution"],
                swiftSettings: kernelSettings),
        // Command-line interface as a library so tests can parse and run commands.
        .target(name: "InterpCLI", dependencies: [
            "NNRuntime", "NNRuntimeONNX", "Analysis", "Attribution", "DoraCore", "Invert", "RDR", "ROAR",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "interp", dependencies: ["InterpCLI"]),
        // Benchmarks against PyTorch CPU (run in release mode).
        .executableTarget(name: "interp-bench", dependencies: [
            "NNRuntime", "NNRuntimeONNX", "DoraCore", "RDR", "Attribution", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/Sources/interp-bench", swiftSettings: kernelSettings),

        // Tests.
        .target(name: "TestSupport", dependencies: ["NNRuntime", "NNRuntimeONNX", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Tests/TestSupport",
                resources: [.copy("Fixtures")]),
        .testTarget(name: "NNRuntimeTests", dependencies: ["NNRuntime", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "TestSupport"]),
        .testTarget(name: "InvertTests", dependencies: ["Invert", "TestSupport"]),
        .testTarget(name: "RDRTests", dependencies: ["RDR", "TestSupport"]),
        .testTarget(name: "ROARTests", dependencies: ["ROAR", "TestSupport"]),
        .testTarget(name: "DoraCoreTests", dependencies: ["DoraCore", "TestSupport"]),
        .testTarget(name: "InterpCLITests", dependencies: ["InterpCLI", "TestSupport"]),
        .testTarget(name: "AttributionTests", dependencies: ["Attribution", "TestSupport"]),
        .testTarget(name: "NNRuntimeONNXTests", dependencies: [
            "NNRuntimeONNX", "Attribution", "TestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)

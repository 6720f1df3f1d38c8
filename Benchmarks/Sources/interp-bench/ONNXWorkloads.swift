import Foundation
import NNRuntime
import NNRuntimeONNX

/// The DORA step on MobileNetV2 imported from ONNX: PyTorch's dynamo exporter's default output
/// (BatchNorm folded into the convolutions, batch fixed at 1), against PyTorch running the same
/// step on its own module. The graph is exported once by the peer script into the asset cache.
extension Workloads {
    static let onnx: [Workload] = [
        Workload(id: "onnx.mobilenet_v2.forward_input_grad.b16",
                 summary: "mobilenet_v2.forward_input_grad.b16 on the dynamo-exported ONNX graph",
                 flops: { _ in 2 * forwardFLOPs(MobileNetV2().evaluating(), input: .zeros([16, 3, 224, 224])) }) {
            let url = try exportedMobileNet()
            let model = try ONNXLoader.load(url.path, options: ONNXInputOptions(preprocess: "imagenet"))
            var gen = SeededGenerator(seed: 2)
            let x = Tensor.randn([16, 3, 224, 224], using: &gen)
            return { channelObjectiveGradient(model.module, x, layer: "features.18") }
        },
    ]

    /// `$INTERP_HOME/onnx/mobilenet_v2.bench.onnx`, exported by `pytorch_peer.py --export-onnx` when missing.
    static func exportedMobileNet() throws -> URL {
        let home = ProcessInfo.processInfo.environment["INTERP_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/interp")
        let url = home.appendingPathComponent("onnx/mobilenet_v2.bench.onnx")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let python = ProcessInfo.processInfo.environment["INTERP_TORCH_PYTHON"] ?? "python3"
        let script = Bench.repositoryRoot().appendingPathComponent("Benchmarks/pytorch_peer.py").path
        _ = try shell(python, script, "--export-onnx", url.path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ONNXError("exporting MobileNetV2 to \(url.path) needs torch and onnxscript under $INTERP_TORCH_PYTHON")
        }
        return url
    }
}

/// One DORA step's gradient: image i maximises channel i of `layer` (Σᵢ mean(a[i, i])).
func channelObjectiveGradient(_ model: Module, _ x: Tensor, layer: String) {
    let tape = GradientTape()
    let xs = tape.watch(x)
    let objective = tape.record { () -> Tensor in
        let (_, acts) = capturingActivations([layer]) { model(xs) }
        let a = acts[layer]!
        let (n, c) = (a.shape[0], a.shape[1])
        let mask = Tensor(shape: [n, c, 1, 1]) { m in
            m.initialize(repeating: 0)
            for i in 0..<n { m[i * c + i % c] = 1 }
        }
        return (a.mean(axes: [2, 3], keepDims: true) * mask).sum()
    }
    _ = tape.gradient(of: objective)[xs]
}

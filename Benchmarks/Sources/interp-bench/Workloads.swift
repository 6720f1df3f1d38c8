import Foundation
import NNRuntime
import DoraCore
import RDR

/// A named benchmark: `prepare` builds inputs once, the returned closure is the timed step.
struct Workload {
    let id: String
    let summary: String
    /// Floating-point operations of one step (multiply and add counted separately), if known.
    let flops: (Double) -> Double
    let prepare: () throws -> () -> Void
}

/// Multiply-adds of the convolutions and linear layers of one forward pass, times two.
func forwardFLOPs(_ model: Module, input: Tensor) -> Double {
    var total = 0.0
    let (_, acts) = withoutGradients { capturingAllActivations { model(input) } }
    for (path, m) in model.namedModules() {
        guard let out = acts[path] else { continue }
        if let c = m as? Conv2d {
            let perOutput = Double(c.inputChannels / c.groups * c.kernelSize.0 * c.kernelSize.1)
            total += 2 * perOutput * Double(out.count) * Double(acts.callCount(path))
        } else if let l = m as? Linear {
            total += 2 * Double(l.inputFeatures) * Double(out.count)
        }
    }
    return total
}

enum Workloads {
    static func mobileNet() throws -> LoadedModel {
        (try? ModelLoader.load(model: "mobilenet_v2")) ?? ModelLoader.loadRandom("mobilenet_v2")
    }

    static let all: [Workload] = models + layers + training + rdr + attribution + onnx

    static let models: [Workload] = [
        Workload(id: "mobilenet_v2.forward.b16", summary: "MobileNetV2 inference, batch 16 at 224²",
                 flops: { _ in forwardFLOPs(MobileNetV2().evaluating(), input: .zeros([16, 3, 224, 224])) }) {
            let model = try mobileNet()
            var gen = SeededGenerator(seed: 1)
            let x = Tensor.randn([16, 3, 224, 224], using: &gen)
            return { _ = withoutGradients { model.module(x) } }
        },
        Workload(id: "mobilenet_v2.forward_input_grad.b16",
                 summary: "one DORA step: input gradient of 16 channel means of features.18, batch 16 at 224²",
                 // Backward of a conv costs about twice its forward (input and weight gradients); the
                 // weight gradients are not needed here, so count forward + input gradient ≈ 2×.
                 flops: { _ in 2 * forwardFLOPs(MobileNetV2().evaluating(), input: .zeros([16, 3, 224, 224])) }) {
            let model = try mobileNet()
            model.module.freeze()
            var gen = SeededGenerator(seed: 2)
            let x = Tensor.randn([16, 3, 224, 224], using: &gen)
            return { channelObjectiveGradient(model.module, x, layer: "features.18") }
        },
        Workload(id: "dora.sams_step.mobilenet_v2.b16",
                 summary: "one s-AMS step: Fourier images → transforms → MobileNetV2 features.18 → backward → clip → AdamW, 16 signals at 224²",
                 flops: { _ in 2 * forwardFLOPs(MobileNetV2().evaluating(), input: .zeros([16, 3, 224, 224])) }) {
            let model = try mobileNet()
            model.module.freeze()
            let generator = SignalGenerator(model: model.module, layer: "features.18", input: model.input)
            var settings = GenerationSettings()
            settings.iterations = 1
            let run = generator.start((0..<16).map { SignalTask(neuron: $0, sample: 0) }, settings: settings)
            return { try? run.step() }
        },
        Workload(id: "resnet18.forward.b16", summary: "ResNet-18 inference, batch 16 at 224² (random weights)",
                 flops: { _ in forwardFLOPs(ResNet.resnet18().evaluating(), input: .zeros([16, 3, 224, 224])) }) {
            let model = ResNet.resnet18().evaluating()
            var gen = SeededGenerator(seed: 4)
            let x = Tensor.randn([16, 3, 224, 224], using: &gen)
            return { _ = withoutGradients { model(x) } }
        },
    ]

    static let layers: [Workload] = [
        // The physical reference: a large single-precision product, which convolutions lower to.
        Workload(id: "sgemm.2048", summary: "2048×2048 · 2048×2048 matrix product (float32)",
                 flops: { _ in 2 * 2048 * 2048 * 2048 }) {
            var gen = SeededGenerator(seed: 4)
            let a = Tensor.randn([2048, 2048], using: &gen), b = Tensor.randn([2048, 2048], using: &gen)
            return { _ = withoutGradients { matmul(a, b) } }
        },
    ]
        + layer(id: "conv3x3_64_56", input: [16, 64, 56, 56], out: 64, kernel: 3, groups: 1)
        + layer(id: "dwconv3x3_96_112", input: [16, 96, 112, 112], out: 96, kernel: 3, groups: 96)
        + layer(id: "conv1x1_32_192_112", input: [16, 32, 112, 112], out: 192, kernel: 1, groups: 1)
        // ResNet-18's layer3 and layer4 shapes: few output positions per sample.
        + layer(id: "conv3x3_256_14", input: [16, 256, 14, 14], out: 256, kernel: 3, groups: 1)
        + layer(id: "conv3x3_512_7", input: [16, 512, 7, 7], out: 512, kernel: 3, groups: 1)

    static let training: [Workload] = [
        trainStep(id: "resnet8.train_step.b128", summary: "ResNet-8 training step (Adam), batch 128 at 32²",
                  build: { ResNet.resnet8(classCount: 10, seed: 0) }, input: [128, 3, 32, 32]),
        trainStep(id: "mnist_cnn.train_step.b128", summary: "MNIST CNN training step (Adam), batch 128 at 28²",
                  build: { MNISTCNN(classCount: 10, seed: 0) }, input: [128, 1, 28, 28]),
    ]

    /// A single convolution (padding k/2, stride 1, no bias), forward (`.fwd`) or its backward for
    /// the input and weight gradients (`.bwd`) — the shapes of the speed issue's layer table.
    static func layer(id: String, input: [Int], out: Int, kernel: Int, groups: Int) -> [Workload] {
        let flops = 2.0 * Double(input[0] * out * input[2] * input[3] * input[1] / groups * kernel * kernel)
        func setup() -> (Tensor, Tensor) {
            var gen = SeededGenerator(seed: 5)
            return (.randn(input, using: &gen), .randn([out, input[1] / groups, kernel, kernel], std: 0.1, using: &gen))
        }
        let pad = Padding2d.symmetric(kernel / 2, kernel / 2)
        return [
            Workload(id: id + ".fwd", summary: "conv \(input) → \(out) channels, k\(kernel), groups \(groups): forward",
                     flops: { _ in flops }) {
                let (x, w) = setup()
                return { _ = withoutGradients { conv2d(x, weight: w, padding: pad, groups: groups) } }
            },
            Workload(id: id + ".bwd", summary: "conv \(input) → \(out) channels, k\(kernel), groups \(groups): input and weight gradients",
                     flops: { _ in 2 * flops }) {
                let (x, w) = setup()
                let tape = GradientTape()
                let (xs, ws) = (tape.watch(x), tape.watch(w))
                let y = tape.record { conv2d(xs, weight: ws, padding: pad, groups: groups) }
                var gen = SeededGenerator(seed: 6)
                let seed = Tensor.randn(y.shape, using: &gen)
                // Timed: the backward pass only (the tape and forward are built once).
                return { _ = tape.gradient(of: y, seed: seed) }
            },
        ]
    }

    /// Forward, backward and an Adam update of a freshly initialised model in training mode.
    static func trainStep(id: String, summary: String, build: @escaping () -> Module, input: [Int]) -> Workload {
        Workload(id: id, summary: summary,
                 // forward + backward (input and weight gradients) ≈ 3 × the forward FLOPs
                 flops: { _ in 3 * forwardFLOPs(build().evaluating(), input: .zeros(input)) }) {
            let model = build()
            model.train()
            let optimizer = Adam(learningRate: 1e-3)
            var gen = SeededGenerator(seed: 3)
            let x = Tensor.randn(input, using: &gen)
            let labels = (0..<input[0]).map { $0 % 10 }
            return {
                let (_, grads) = valueAndGradient(of: model) { m in crossEntropy(m(x), labels: labels) }
                optimizer.step(grads)
            }
        }
    }
}

extension Workloads {
    /// RDR at the scale of VGG19's conv5_1 at 224² (512 × 14 × 14 ≈ 100k units) over a 50k-image
    /// reference set: one timed step is one target's whole region — Hamming distances to every row,
    /// neighbour selection, principal units and membership. The on counts are cached by `RDR.init`
    /// in `prepare`, as a run over many targets would.
    static let rdr: [Workload] = [
        Workload(id: "rdr.select.50k_x_100k",
                 summary: "RDR region of one target: 50,000 × 100,000-unit packed configurations (625 MB), k 8, t 10",
                 flops: { _ in 0 }) {
            let (rows, units) = (50_000, 100_000)
            let matrix = try clusteredConfigurations(rows: rows, units: units, clusters: 200, seed: 11)
            FileHandle.standardError.write(Data(String(format: "interp-bench: rdr matrix %d × %d units = %d words a row, %.1f MB (%.3f GiB)\n",
                                                       rows, units, matrix.wordsPerRow, Double(matrix.byteCount) / 1e6,
                                                       Double(matrix.byteCount) / Double(1 << 30)).utf8))
            let rdr = try RDR(configurations: matrix, settings: RegionSettings(k: 8, t: 10))
            var target = 0
            return {
                target = (target + 7_919) % rows
                _ = try? rdr.region(forRow: target)
            }
        },
    ]

    /// Rows are copies of one of `clusters` random prototypes (about 37% of units on) with about one
    /// bit in eight flipped, built in parallel from per-row seeds.
    static func clusteredConfigurations(rows: Int, units: Int, clusters: Int, seed: UInt64) throws -> ConfigurationMatrix {
        let perRow = (units + 63) / 64
        var gen = SeededGenerator(seed: seed)
        let prototypes: [UInt64] = (0..<clusters * perRow).map { _ in gen.next() & (gen.next() | gen.next()) }
        var words = [UInt64](repeating: 0, count: rows * perRow)
        words.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: 64) { block in
                for r in stride(from: block, to: rows, by: 64) {
                    var g = SeededGenerator(seed: seed ^ (UInt64(r) &* 0x9E37_79B9_7F4A_7C15))
                    let p = Int(g.next() % UInt64(clusters)) * perRow
                    for w in 0..<perRow { base[r * perRow + w] = prototypes[p + w] ^ (g.next() & g.next() & g.next()) }
                }
            }
        }
        return try ConfigurationMatrix(units: units, rows: rows, words: consume words)
    }
}

extension Module {
    func evaluating() -> Self { eval(); return self }
}

extension ModelLoader {
    /// The architecture with random weights, when the pretrained ones are not fetched: speed does
    /// not depend on the values.
    static func loadRandom(_ name: String) -> LoadedModel {
        try! load(model: name, randomInit: true)
    }
}

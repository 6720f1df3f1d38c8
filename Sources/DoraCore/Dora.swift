import Foundation
import NNRuntime
import Analysis

/// DORA — Data-agnOstic Representation Analysis (Bykov, Deb, Grinwald, Müller, Höhne, TMLR 2023,
/// arXiv 2206.04530): finds outlier neurons of a layer, often spurious or artifact detectors, from
/// synthetic activation-maximisation signals (s-AMS) alone, without data.
///
/// Pipeline: s-AMS per neuron (``SignalGenerator``) → every analysed neuron's response to every
/// s-AMS (the `[k, k, n]` activation tensor) → Extreme-Activation distances (``EADistance``) →
/// outlier scores (LOF by default) and a 2-D atlas (UMAP). Signals and responses are cached in a
/// folder, so an interrupted run resumes where it stopped.
///
/// ```swift
/// let dora = Dora(model: net, layer: "features.18", input: .imagenet, configuration: .init())
/// let signals = try dora.signals(for: Array(0..<64), folder: runFolder)
/// let a = try dora.activationTensor(neurons: Array(0..<64), signals: signals)
/// let result = try Dora.analyse(activations: a, neurons: Array(0..<64), layer: "features.18", configuration: dora.configuration)
/// ```
public final class Dora {
    public let generator: SignalGenerator
    public let configuration: DoraConfiguration

    public init(model: Module, layer: String, input: InputSpec, configuration: DoraConfiguration) {
        generator = SignalGenerator(model: model, layer: layer, input: input)
        self.configuration = configuration
    }

    /// The signals of `neurons`, neuron-major, then sample, as the reference orders its tasks.
    public func tasks(for neurons: [Int]) -> [SignalTask] {
        neurons.flatMap { n in
            (0..<configuration.signalsPerNeuron).map { SignalTask(neuron: n, sample: $0, maximize: !configuration.minimize) }
        }
    }

    /// How far signal generation has come.
    public struct Progress {
        public let finishedSignals: Int, totalSignals: Int
        public let iteration: Int, iterations: Int
    }

    /// The s-AMS of `neurons`: those already stored in `folder` are read back, the rest optimised a
    /// batch at a time, each batch written (PNG, lossless) as soon as it finishes.
    public func signals(for neurons: [Int], folder: URL? = nil,
                        progress: (Progress) -> Void = { _ in }) throws -> [SignalTask: Image] {
        try configuration.validate()
        let all = tasks(for: neurons)
        var images: [SignalTask: Image] = [:]
        if let folder {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for task in all {
                let url = folder.appendingPathComponent(task.fileName)
                if FileManager.default.fileExists(atPath: url.path), let image = try? Image.load(contentsOf: url) {
                    images[task] = image
                }
            }
        }
        let missing = all.filter { images[$0] == nil }
        let settings = configuration.generation
        var finished = all.count - missing.count
        for start in stride(from: 0, to: missing.count, by: settings.batchSize) {
            let batch = Array(missing[start..<min(start + settings.batchSize, missing.count)])
            let result = try generator.optimise(batch, settings: settings) { iteration in
                progress(Progress(finishedSignals: finished, totalSignals: all.count, iteration: iteration,
                                  iterations: settings.iterations))
            }
            for (task, image) in zip(batch, result.images) {
                images[task] = image
                if let folder { try image.pngData().write(to: folder.appendingPathComponent(task.fileName), options: Data.WritingOptions.atomic) }
            }
            finished += batch.count
        }
        return images
    }

    /// Every channel's response to each image `[count, C]`: the spatial mean (channel objective) or
    /// the objective's position (neuron objective), on the 8-bit image as stored.
    public func responses(to images: [Image]) throws -> Tensor {
        var rows: [Tensor] = []
        let batchSize = max(1, configuration.generation.batchSize)
        for start in stride(from: 0, to: images.count, by: batchSize) {
            let batch = images[start..<min(start + batchSize, images.count)]
            let x = generator.input.normalize(generator.modelChannels(concat(batch.map { $0.tensor().unsqueezed(axis: 0) }, axis: 0)))
            let (_, captured) = withoutGradients { capturingActivations([generator.layer]) { generator.model(x) } }
            guard let out = captured[generator.layer] else {
                throw DoraError("layer \(generator.layer) was not called in the forward pass")
            }
            rows.append(try pooled(out))
        }
        return concat(rows, axis: 0)
    }

    func pooled(_ out: Tensor) throws -> Tensor {
        guard out.rank == 4 else { return out.flattened() }
        let settings = configuration.generation
        guard settings.objective == .neuron else { return out.mean(axes: [2, 3]) }
        let (h, w) = (out.shape[2], out.shape[3])
        let y = settings.position?[0] ?? h / 2, x = settings.position?[1] ?? w / 2
        guard (0..<h).contains(y) && (0..<w).contains(x) else {
            throw DoraError("position (\(y), \(x)) is outside the layer's \(h)×\(w) output")
        }
        return out.slice(axis: 2, start: y, end: y + 1).slice(axis: 3, start: x, end: x + 1).flattened()
    }

    /// The activation tensor `A[i, j, s]`: neuron `columns[j]`'s response to the `s`-th signal of
    /// `neurons[i]` (columns default to the analysed neurons, giving the square k×k×n of the paper).
    public func activationTensor(neurons: [Int], columns: [Int]? = nil, signals: [SignalTask: Image]) throws -> Tensor {
        let columns = columns ?? neurons
        let ordered = tasks(for: neurons)
        let images = try ordered.map { task -> Image in
            guard let image = signals[task] else { throw DoraError("no signal for neuron \(task.neuron), sample \(task.sample)") }
            return image
        }
        let r = try responses(to: images)
        let channels = r.shape[1]
        if let bad = columns.first(where: { $0 < 0 || $0 >= channels }) {
            throw DoraError("neuron \(bad) is out of range for a layer with \(channels) channels (0…\(channels - 1))")
        }
        let n = configuration.signalsPerNeuron, s = r.scalars
        var a = [Float](repeating: 0, count: neurons.count * columns.count * n)
        for i in 0..<neurons.count {
            for (j, c) in columns.enumerated() {
                for k in 0..<n { a[(i * columns.count + j) * n + k] = s[(i * n + k) * channels + c] }
            }
        }
        return Tensor(shape: [neurons.count, columns.count, n], scalars: a)
    }
}

import Foundation
import NNRuntime

/// What an s-AMS maximises (or, with `minimize`, minimises).
public enum DoraObjective: String, Codable, Sendable, CaseIterable {
    /// The spatial mean of the neuron's channel (DORA's and Lucid's `channel`; the default).
    case channel
    /// One spatial position of the channel (Lucid's `neuron`); the centre unless a position is given.
    case neuron
}

/// One synthetic signal to optimise: the neuron it belongs to, its sample index and its sign.
public struct SignalTask: Hashable, Codable, Sendable {
    public let neuron: Int, sample: Int
    public let maximize: Bool

    public init(neuron: Int, sample: Int, maximize: Bool = true) {
        self.neuron = neuron
        self.sample = sample
        self.maximize = maximize
    }

    /// The stored file name, as the reference names it (`154_0+.png`).
    public var fileName: String { "\(neuron)_\(sample)\(maximize ? "+" : "-").png" }

    /// The seed of this signal's initial spectrum: independent of the batch the task lands in, so a
    /// resumed run renders the same signals.
    func seed(base: UInt64) -> UInt64 {
        var g = SeededGenerator(seed: base ^ (UInt64(neuron) &* 0x9E37_79B9_7F4A_7C15)
                                    ^ (UInt64(sample) &* 0xC2B2_AE3D_27D4_EB4F) ^ (maximize ? 0 : 0x1656_67B1_9E37_79F9))
        return g.next()
    }
}

/// s-AMS optimisation settings (METHODS.md §1.9: the final `generate_signals` defaults, with the
/// learning rate and weight decay honoured rather than silently replaced).
public struct GenerationSettings: Codable, Sendable, Equatable {
    public var iterations = 150
    public var learningRate: Float = 9e-3
    public var weightDecay: Float = 0
    public var gradientClip: Float = 1
    public var batchSize = 16
    /// The rendered image size; the transforms crop back to the model's input size.
    public var height = 224, width = 224
    public var initialStd: Float = 0.01
    public var objective = DoraObjective.channel
    /// The `neuron` objective's (y, x) position in the layer's output; nil = the centre.
    public var position: [Int]? = nil
    public var seed: UInt64 = 0
    public var transforms = SignalTransforms.dora

    public init() {}

    public func validate() throws {
        if iterations < 1 { throw DoraError("iterations \(iterations) must be at least 1") }
        if !(learningRate > 0) { throw DoraError("learning rate \(learningRate) must be positive") }
        if weightDecay < 0 { throw DoraError("weight decay \(weightDecay) must be ≥ 0") }
        if !(gradientClip > 0) { throw DoraError("gradient clip \(gradientClip) must be positive") }
        if batchSize < 1 { throw DoraError("batch size \(batchSize) must be at least 1") }
        if height < 8 || width < 8 || height > 4096 || width > 4096 {
            throw DoraError("signal size \(height)×\(width) must be within 8…4096 pixels")
        }
        if let p = position, p.count != 2 { throw DoraError("position \(p) must be two numbers (y, x)") }
        try transforms.validate()
    }
}

/// Optimises s-AMS for one layer of a model: the Fourier images of a batch of tasks go through the
/// transforms and the model's normalisation, and AdamW with per-image gradient clipping pushes each
/// image's own neuron (Bykov et al. 2023, §3.1; torch-dreams' batched `render`).
public final class SignalGenerator {
    public let model: Module
    public let layer: String
    public let input: InputSpec

    /// - Parameters:
    ///   - layer: the capture name of the analysed layer (`ResolvedLayer.captureName`).
    public init(model: Module, layer: String, input: InputSpec) {
        self.model = model
        self.layer = layer
        self.input = input
        model.eval()
    }

    /// The result of optimising one batch: the final images and each task's final activation.
    public struct Batch {
        public let images: [Image]
        public let activations: [Float]
    }

    /// Optimises `tasks` together (at most a batch's worth), calling `progress(iteration)` after each step.
    public func optimise(_ tasks: [SignalTask], settings: GenerationSettings,
                         progress: (Int) -> Void = { _ in }) throws -> Batch {
        let run = start(tasks, settings: settings)
        for iteration in 0..<settings.iterations {
            try run.step()
            progress(iteration + 1)
        }
        return try run.result()
    }

    /// The optimisation of one batch, ready to step: fresh Fourier parameters, AdamW state and the
    /// transforms' random stream, all seeded by the tasks.
    public func start(_ tasks: [SignalTask], settings: GenerationSettings) -> Optimisation {
        precondition(!tasks.isEmpty, "optimise: no tasks")
        return Optimisation(generator: self, tasks: tasks, settings: settings)
    }

    /// One batch of signals being optimised; ``step()`` runs one iteration.
    public final class Optimisation {
        let generator: SignalGenerator
        let tasks: [SignalTask]
        let settings: GenerationSettings
        public let image: FourierImage
        let optimiser: Adam
        var gen: SeededGenerator
        /// Each task's activation at the last step (before that step's update).
        public private(set) var activations: [Float]

        init(generator: SignalGenerator, tasks: [SignalTask], settings: GenerationSettings) {
            self.generator = generator
            self.tasks = tasks
            self.settings = settings
            image = FourierImage(count: tasks.count, height: settings.height, width: settings.width,
                                 standardDeviation: settings.initialStd, seeds: tasks.map { $0.seed(base: settings.seed) })
            optimiser = Adam.adamW(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
            gen = SeededGenerator(seed: tasks[0].seed(base: settings.seed) ^ 0x5EED)
            activations = [Float](repeating: 0, count: tasks.count)
        }

        /// Render → model colour channels → normalise → transforms → objective → backward → clip → AdamW.
        public func step() throws {
            var failure: Error?
            let g = generator
            let (_, grads) = valueAndGradient(of: image) { img -> Tensor in
                let x = settings.transforms.apply(g.input.normalize(g.modelChannels(img.render())),
                                                  cropTo: g.cropSize(settings), using: &gen)
                do {
                    let (loss, values) = try g.objective(x, tasks: tasks, settings: settings)
                    activations = values
                    return loss
                } catch { failure = error; return Tensor(0) }
            }
            if let failure { throw failure }
            optimiser.step(grads.clippedPerSample(maxNorm: settings.gradientClip))
        }

        /// The current images and last activations.
        public func result() throws -> Batch { Batch(images: try image.images(), activations: activations) }
    }

    /// What the model sees: the model's input size, or the signal's own size when that is smaller
    /// (the reference renders 256² and crops 224²; a quick preview renders smaller images whole).
    func cropSize(_ settings: GenerationSettings) -> (height: Int, width: Int) {
        (min(settings.height, input.height), min(settings.width, input.width))
    }

    /// Gray models see the channel mean of the rendered colour image.
    func modelChannels(_ x: Tensor) -> Tensor {
        input.channels == 1 ? x.mean(axes: [1], keepDims: true) : x
    }

    /// The summed loss (−activation to maximise, +activation to minimise) and each task's activation.
    func objective(_ x: Tensor, tasks: [SignalTask], settings: GenerationSettings) throws -> (Tensor, [Float]) {
        let (_, captured) = capturingActivations([layer]) { model(x) }
        guard let output = captured[layer] else { throw DoraError("layer \(layer) was not called in the forward pass") }
        let mask = try Self.objectiveMask(shape: output.shape, tasks: tasks, settings: settings, signed: true)
        let perImage = (output * mask).flattened().sum(axes: [1])
        let activations = perImage.scalars.enumerated().map { tasks[$0.offset].maximize ? -$0.element : $0.element }
        return (perImage.sum(), activations)
    }

    /// A tensor shaped like the layer output that selects each task's neuron: 1/(h·w) over its channel
    /// (channel objective) or 1 at one position (neuron objective), times −1 for maximisation.
    static func objectiveMask(shape: [Int], tasks: [SignalTask], settings: GenerationSettings, signed: Bool) throws -> Tensor {
        let channels = shape.count > 1 ? shape[1] : 0
        let spatial = Array(shape.dropFirst(2))
        let plane = spatial.reduce(1, *)
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        for (b, task) in tasks.enumerated() {
            guard task.neuron >= 0 && task.neuron < channels else {
                throw DoraError("neuron \(task.neuron) is out of range for a layer with \(channels) channels (0…\(channels - 1))")
            }
            let sign: Float = signed && task.maximize ? -1 : 1
            let base = (b * channels + task.neuron) * plane
            if settings.objective == .neuron && spatial.count == 2 {
                let y = settings.position?[0] ?? spatial[0] / 2, x = settings.position?[1] ?? spatial[1] / 2
                guard (0..<spatial[0]).contains(y) && (0..<spatial[1]).contains(x) else {
                    throw DoraError("position (\(y), \(x)) is outside the layer's \(spatial[0])×\(spatial[1]) output")
                }
                values[base + y * spatial[1] + x] = sign
            } else {
                for i in 0..<plane { values[base + i] = sign / Float(plane) }
            }
        }
        return Tensor(shape: shape, scalars: values)
    }
}

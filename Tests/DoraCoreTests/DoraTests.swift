import Foundation
import Testing
import NNRuntime
import TestSupport
@testable import DoraCore

/// DORA's parameterisation against torch-dreams, the EA distance's properties, and the optimiser
/// doing its job on a small model.
@Suite struct DoraTests {
    static let fourier = try! SafeTensors.read(contentsOf: Fixtures.url("dora/fourier.safetensors")).tensors

    @Test(arguments: [("a", 12, 16), ("b", 9, 10), ("c", 8, 8)])
    func fourierImageMatchesTorchDreams(_ c: (name: String, h: Int, w: Int)) throws {
        let image = FourierImage(count: 1, height: c.h, width: c.w, seeds: [0])
        image.spectrum.value = try #require(Self.fourier["\(c.name).spectrum"])
        let weights = try #require(Self.fourier["\(c.name).weights"])
        let (value, grads) = valueAndGradient(of: image) { ($0.render() * weights).sum() }
        let rendered = withoutGradients { image.render() }
        #expect(Compare.maxScaledDifference(rendered, try #require(Self.fourier["\(c.name).image"])) < 1e-5)
        let g = try #require(grads[image.spectrum])
        #expect(Compare.maxScaledDifference(g, try #require(Self.fourier["\(c.name).grad"])) < 1e-4, "\(c.name) gradient")
        #expect(value.scalars[0].isFinite)
    }

    @Test func colourMatrixIsNormalisedByItsLargestColumn() {
        let c = FourierImage.colourCorrelation
        let norms = (0..<3).map { j in (0..<3).map { c[$0][j] * c[$0][j] }.reduce(0, +).squareRoot() }
        #expect(abs(norms.max()! - 1) < 1e-6)
        #expect(abs(c[0][0] - 0.5628) < 1e-4 && abs(c[1][2] + 0.1082) < 1e-4)
    }

    // MARK: - EA distance (METHODS.md §1.4 properties)

    @Test func eaDistanceProperties() throws {
        let a: [[Double]] = [[1, 0, 0], [0, 2, 0], [3, 0, 0], [1, 1, 0.5], [0.2, 0.1, 4]]
        for mode in EADistance.Mode.allCases {
            let d = try EADistance.matrix(a.map { Array($0.prefix(a.count)) + [Double](repeating: 0.3, count: max(0, a.count - $0.count)) }, mode: mode)
            for i in 0..<5 {
                #expect(d[i][i] == 0)
                for j in 0..<5 {
                    #expect(d[i][j] == d[j][i])
                    #expect((0...1).contains(d[i][j]))
                }
            }
        }
        let d = try EADistance.matrix(a)
        #expect(d[0][2] == 0, "parallel rows (identical up to scale) are at distance 0")
        #expect(abs(d[0][1] - 1 / 2.0.squareRoot()) < 1e-12, "orthogonal non-negative rows are 1/√2 apart")
        // Hand-computed: cos([1,0,0], [1,1,0.5]) = 1/1.5 → √((1 − 2/3)/2) = √(1/6).
        #expect(abs(d[0][3] - (1.0 / 6).squareRoot()) < 1e-12)
    }

    @Test func pairwiseDistanceUsesOnlyTheTwoNeurons() throws {
        // u = (A[0,0], A[0,1]) = (2, 0); v = (A[1,0], A[1,1]) = (0, 3): orthogonal → 1/√2.
        let a: [[Double]] = [[2, 0, 7], [0, 3, 1], [5, 5, 5]]
        let d = try EADistance.matrix(a, mode: .pairwise)
        #expect(abs(d[0][1] - 1 / 2.0.squareRoot()) < 1e-12)
        #expect(throws: DoraError.self) { try EADistance.matrix([[1, 2]], mode: .pairwise) }
    }

    @Test func meanOverSignals() throws {
        let a = Tensor(shape: [2, 2, 2], scalars: [1, 3, 2, 2, 0, 4, 5, 7])
        #expect(try EADistance.meanActivations(a) == [[2, 2], [2, 6]])
        #expect(throws: DoraError.self) { try EADistance.meanActivations(Tensor([1, 2])) }
    }

    // MARK: - Optimisation

    /// A small random CNN whose layer "2" has 6 channels. Without a nonlinearity before it, each
    /// channel's mean is affine in the image, so it can be raised and lowered alike from gray.
    func smallModel() -> Module {
        Sequential {
            Conv2d(3, 8, kernelSize: 3, stride: 2, padding: .symmetric(1, 1), seed: 1)
            Identity()
            Conv2d(8, 6, kernelSize: 3, stride: 2, padding: .symmetric(1, 1), seed: 2)
            AdaptiveAvgPool2d(1)
            Flatten()
        }
    }

    @Test func optimisationRaisesTheTargetActivation() throws {
        let model = smallModel()
        let input = InputSpec(channels: 3, height: 32, width: 32, resizeShortSide: nil, filter: .bilinear,
                              mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        let generator = SignalGenerator(model: model, layer: "2", input: input)
        var settings = GenerationSettings()
        (settings.height, settings.width, settings.learningRate) = (36, 36, 0.05)
        let tasks = [SignalTask(neuron: 1, sample: 0), SignalTask(neuron: 4, sample: 0), SignalTask(neuron: 4, sample: 0, maximize: false)]
        settings.iterations = 1
        let start = try generator.optimise(tasks, settings: settings).activations
        settings.iterations = 25
        let end = try generator.optimise(tasks, settings: settings).activations
        #expect(end[0] > start[0] + 0.05 && end[1] > start[1] + 0.05, "maximised: \(start) → \(end)")
        #expect(end[2] < start[2] - 0.05, "minimised: \(start[2]) → \(end[2])")
        // The result is reproducible: the same tasks and seed give the same signals.
        let again = try generator.optimise(tasks, settings: settings)
        #expect(again.activations == end)
    }

    @Test func objectiveMaskSelectsEachImagesNeuron() throws {
        var settings = GenerationSettings()
        let tasks = [SignalTask(neuron: 2, sample: 0), SignalTask(neuron: 0, sample: 0, maximize: false)]
        let m = try SignalGenerator.objectiveMask(shape: [2, 3, 2, 2], tasks: tasks, settings: settings, signed: true)
        #expect(m.sum().scalars[0] == 0)                      // −1 for the maximised, +1 for the minimised
        #expect(m.scalars[8..<12].allSatisfy { $0 == -0.25 })  // image 0, channel 2: −1/(h·w)
        settings.objective = .neuron
        let n = try SignalGenerator.objectiveMask(shape: [2, 3, 2, 2], tasks: tasks, settings: settings, signed: true)
        #expect(n.scalars[8 + 3] == -1 && n.scalars.filter { $0 != 0 }.count == 2)
        #expect(throws: DoraError.self) {
            try SignalGenerator.objectiveMask(shape: [1, 3, 2, 2], tasks: [SignalTask(neuron: 3, sample: 0)], settings: settings, signed: true)
        }
    }
}

@Suite struct SpecificityTests {
    @Test func ownSignalRankIsCounted() {
        // Column 0: own 5 is the largest; column 1: own 1 is beaten by 2 and 3; column 2: own 4 ties
        // nothing above it. With 3 neurons the top 5% allows rank 1 only.
        let mean: [[Double]] = [[5, 2, 1], [1, 1, 0], [0, 3, 4]]
        #expect(Dora.specificity(mean) == 2.0 / 3)
        #expect(Dora.specificity(mean, fraction: 1) == 1)
    }
}

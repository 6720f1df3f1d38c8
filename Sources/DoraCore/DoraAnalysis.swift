import Foundation
import NNRuntime
import Analysis

/// Every DORA setting: signal generation, distance, detector and embedding (METHODS.md §1.9).
public struct DoraConfiguration: Codable, Sendable, Equatable {
    public var generation = GenerationSettings()
    /// s-AMS per neuron (`n`); different samples differ by initialisation and transforms.
    public var signalsPerNeuron = 1
    /// Optimise the negated objective (minimising signals) instead of maximising ones.
    public var minimize = false
    public var distance = EADistance.Mode.layerwise
    public var detector = OutlierDetector.lof
    /// The share of analysed neurons labelled outliers (only the threshold; scores are continuous).
    public var outliersFraction = 0.05
    public var embedding = EmbeddingMethod.umap
    /// Nearest neurons listed beside each outlier.
    public var nearestNeighbours = 5

    public init() {}

    /// The 2-D atlas layout.
    public enum EmbeddingMethod: String, Codable, Sendable, CaseIterable {
        /// UMAP on the precomputed EA distances (the authors' choice).
        case umap
        /// Classical multidimensional scaling: deterministic and faithful to large distances.
        case mds
    }

    public func validate() throws {
        try generation.validate()
        if signalsPerNeuron < 1 { throw DoraError("signals per neuron \(signalsPerNeuron) must be at least 1") }
        if !(outliersFraction > 0 && outliersFraction <= 0.5) {
            throw DoraError("outliers fraction \(outliersFraction) must be within (0, 0.5]")
        }
        if nearestNeighbours < 1 { throw DoraError("nearest neighbours \(nearestNeighbours) must be at least 1") }
    }
}

/// What DORA found for one layer: `result.json`'s keys.
public struct DoraResult: Codable, Sendable {
    public var layer: String
    /// The analysed neuron ids, in the order of every per-neuron array.
    public var neurons: [Int]
    /// Outlier score per neuron (higher = more outlying; LOF's factor for the default detector).
    public var scores: [Double]
    public var isOutlier: [Bool]
    /// Outlier ids, most outlying first.
    public var outliers: [Int]
    /// The atlas: one (x, y) per neuron.
    public var embedding: [[Double]]
    /// For each outlier id, its nearest neurons by EA distance.
    public var neighbours: [String: [Int]]
    /// Each neuron's ROC-AUC as a detector of the probe concept, when probed.
    public var probeAUC: [Double]?
    public var detector: String
    public var threshold: Double
    /// The share of neurons whose own signal is among the top 5% of that neuron's responses to all
    /// analysed signals: whether the signals are specific (nil unless rows and columns are the same neurons).
    public var specificity: Double?

    enum CodingKeys: String, CodingKey {
        case layer, neurons, scores, isOutlier = "is_outlier", outliers, embedding, neighbours
        case probeAUC = "probe_auc", detector, threshold, specificity
    }
}

extension Dora {
    /// Distances, outlier scores, labels, neighbours and the atlas from an activation tensor
    /// (`[k, m]` or `[k, m, n]`, rows = signal owners in `neurons` order).
    ///
    /// LOF and kNN read the EA distance matrix; PCA and isolation forest read the rows of Ā scaled to
    /// unit length, the vectors whose cosines define the layer-wise EA distance.
    public static func analyse(activations: Tensor, neurons: [Int], layer: String,
                               configuration: DoraConfiguration) throws -> (result: DoraResult, distances: [[Double]]) {
        let mean = try EADistance.meanActivations(activations)
        guard mean.count == neurons.count else {
            throw DoraError("the activation matrix has \(mean.count) rows but \(neurons.count) neurons are named")
        }
        guard neurons.count >= 3 else { throw DoraError("DORA needs at least 3 neurons to compare, got \(neurons.count)") }
        if let bad = mean.joined().first(where: { !$0.isFinite }) {
            throw DoraError("the activation matrix holds a non-finite value (\(bad)); expected finite responses")
        }
        let d = try EADistance.matrix(mean, mode: configuration.distance)
        let k = neurons.count
        let features = mean.map { row -> [Double] in
            let norm = max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-5)
            return row.map { $0 / norm }
        }
        let found = try Outliers.detect(configuration.detector, distances: d, features: features,
                                        fraction: configuration.outliersFraction, seed: configuration.generation.seed)
        let order = (0..<k).filter { found.isOutlier[$0] }.sorted { found.scores[$0] > found.scores[$1] }
        var neighbours: [String: [Int]] = [:]
        for i in order {
            let near = (0..<k).filter { $0 != i }.sorted { (d[i][$0], $0) < (d[i][$1], $1) }
            neighbours[String(neurons[i])] = near.prefix(configuration.nearestNeighbours).map { neurons[$0] }
        }
        let embedding: [[Double]]
        switch configuration.embedding {
        case .umap:
            embedding = Embedding.umap(distances: d, neighbours: min(15, k - 1), seed: configuration.generation.seed)
        case .mds:
            embedding = Embedding.classicalMDS(distances: d, dimensions: 2)
        }
        let result = DoraResult(layer: layer, neurons: neurons, scores: found.scores, isOutlier: found.isOutlier,
                                outliers: order.map { neurons[$0] }, embedding: embedding, neighbours: neighbours,
                                probeAUC: nil, detector: configuration.detector.rawValue, threshold: found.threshold,
                                specificity: mean[0].count == k ? specificity(mean) : nil)
        return (result, d)
    }

    /// The share of neurons `j` whose response to their own signal, Ā[j, j], ranks within the top
    /// `fraction` of column `j` (rank 1 + the number of other signals that excite `j` more).
    public static func specificity(_ mean: [[Double]], fraction: Double = 0.05) -> Double {
        let k = mean.count
        let allowed = max(1, Int(fraction * Double(k)))
        let hits = (0..<k).filter { j in
            1 + (0..<k).filter { $0 != j && mean[$0][j] > mean[j][j] }.count <= allowed
        }.count
        return Double(hits) / Double(k)
    }
}

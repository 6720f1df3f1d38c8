import Foundation
import NNRuntime
import RDR
import Analysis

/// One `interp rdr` run: configurations of every instance (bits, cached in the run folder), the
/// Euclidean and cosine baselines streamed over the features, and one region per target.
struct RDRSession {
    let command: RDRCommand
    let folder: RunFolder

    /// The region of one target and the baselines of equal size.
    struct TargetRegion {
        var target: Int?
        var targetName: String
        var predicted: Int
        var label: Int?
        var region: Region
        var purity: Double
        var groupPurity: Double?
        var baselines: [String: Baseline]
    }

    struct Baseline {
        var members: [Int]
        var purity: Double
        var groupPurity: Double?
    }

    struct Outcome {
        var featureName: String
        var configurationName: String
        var unitShape: [Int]
        var units: Int { unitShape.reduce(1, *) }
        var instanceCount: Int
        /// The model's predictions (the labels regions are judged by, as the reference) and the true labels.
        var predicted: [Int]
        var labels: [Int]?
        var classNames: [String]
        /// The purity group's concept names and each instance's member of it (nil: none).
        var group: [String]?
        var groupOf: [Int?]
        var regions: [TargetRegion]
        var dataset: (any Dataset)?
        var targetImage: Image?
        var modelName: String?
        let settings: RegionSettings

        func className(_ c: Int) -> String { c >= 0 && c < classNames.count ? classNames[c] : "\(c)" }
    }

    /// What one pass over the data yields.
    struct Pass {
        var configurations: ConfigurationMatrix
        /// [baseline][target][instance]: Euclidean then cosine distances on the feature.
        var distances: [[[Double]]]
        var predicted: [Int]
        var labels: [Int]?
    }

    func run() throws -> Outcome {
        if command.activations != nil { return try runOnActivations() }
        guard let loaded = try command.modelOptions.loadModel(seed: command.seed), let layer = command.layer, let data = command.data else {
            throw RDRError("--model, --layer and --data are required")
        }
        let index = try trunkIndex(layer, trunk: loaded.trunk)
        let layerInfo = try ConfigurationLayer.resolve(model: loaded.module, trunk: loaded.trunk, index: index, input: loaded.input)
        let dataset = try DatasetLoader.open(data, format: command.dataFormat)[command.split]
        guard dataset.count >= command.k else {
            throw RDRError("the \(command.split.rawValue) split of \(data) has \(dataset.count) instances; k = \(command.k) needs at least that many")
        }
        // Targets first: their features are what the baselines stream the data against.
        var targetRows: [Int] = [], external: (image: Image, bits: Bitset, feature: [Float], predicted: Int)? = nil
        if let path = command.targetImage {
            let image = try Image.load(contentsOf: URL(fileURLWithPath: path))
            let (logits, acts) = try forward(loaded, layerInfo, [image])
            var bits = ConfigurationMatrix(units: layerInfo.units)
            bits.append(acts.configuration)
            external = (image, bits.row(0), acts.feature.scalars, logits.argmax(axis: 1)[0])
        } else {
            targetRows = try chooseTargets(count: dataset.count)
        }
        let targetFeatures = try external.map { [$0.feature] } ?? stride(from: 0, to: targetRows.count, by: command.batchSize).flatMap { start in
            let batch = try targetRows[start..<min(start + command.batchSize, targetRows.count)].map { try dataset.sample(at: $0).image }
            let feature = try forward(loaded, layerInfo, batch).1.feature
            let width = feature.count / batch.count, s = feature.scalars
            return (0..<batch.count).map { Array(s[$0 * width..<($0 + 1) * width]) }
        }
        let pass = try cachedPass(dataset: dataset, units: layerInfo.units, targetFeatures: targetFeatures) { images in
            try forward(loaded, layerInfo, images)
        }
        let rdr = try RDR(configurations: pass.configurations, settings: command.settings)
        let (group, groupOf) = try purityGroup(dataset: dataset)
        var regions: [TargetRegion] = []
        if let external {
            let region = try rdr.region(for: external.bits)
            regions.append(judge(region, target: nil, name: URL(fileURLWithPath: command.targetImage!).lastPathComponent,
                                 predicted: external.predicted, label: nil, distances: pass.distances.map { $0[0] },
                                 predictions: pass.predicted, groupOf: group == nil ? nil : groupOf))
        }
        for (i, row) in targetRows.enumerated() {
            let region = try rdr.region(forRow: row)
            regions.append(judge(region, target: row, name: dataset.name(at: row), predicted: pass.predicted[row],
                                 label: pass.labels?[row], distances: pass.distances.map { $0[i] },
                                 predictions: pass.predicted, groupOf: group == nil ? nil : groupOf))
        }
        return Outcome(featureName: layerInfo.feature.captureName, configurationName: "\(layerInfo.configuration.captureName) (\(layerInfo.configurationType))",
                       unitShape: layerInfo.unitShape, instanceCount: dataset.count, predicted: pass.predicted, labels: pass.labels,
                       classNames: dataset.classNames, group: group, groupOf: groupOf, regions: regions, dataset: dataset,
                       targetImage: external?.image, modelName: loaded.name, settings: command.settings)
    }

    /// Scores a region and its equal-size baselines by prediction purity (and group purity).
    func judge(_ region: Region, target: Int?, name: String, predicted: Int, label: Int?, distances: [[Double]],
               predictions: [Int], groupOf: [Int?]?) -> TargetRegion {
        let size = region.members.count
        let groupPurity = { (members: [Int]) in groupOf.map { g in RDR.purity(members.map { g[$0] ?? -1 }, members: Array(members.indices)) } }
        var baselines: [String: Baseline] = [:]
        for (name, d) in zip(["euclidean", "cosine"], distances) {
            let members = FeatureNeighbours.nearest(d, count: size).sorted()
            baselines[name] = Baseline(members: members, purity: RDR.purity(predictions, members: members), groupPurity: groupPurity(members))
        }
        return TargetRegion(target: target, targetName: name, predicted: predicted, label: label, region: region,
                            purity: RDR.purity(predictions, members: region.members), groupPurity: groupPurity(region.members),
                            baselines: baselines)
    }

    /// One forward pass: the logits, the feature and the configuration layer's output.
    func forward(_ loaded: LoadedModel, _ layer: ConfigurationLayer, _ images: [Image]) throws -> (Tensor, (feature: Tensor, configuration: Tensor)) {
        let x = loaded.input.batch(images)
        let (logits, acts) = withoutGradients {
            capturingActivations([layer.feature.captureName, layer.configuration.captureName]) { loaded.module(x) }
        }
        guard let feature = acts[layer.feature.captureName], let configuration = acts[layer.configuration.captureName] else {
            throw RDRError("layer \(layer.feature) or \(layer.configuration) was not called in the forward pass")
        }
        return (logits, (feature, configuration))
    }

    /// `--layer` as a trunk index, or the path of a trunk stage.
    func trunkIndex(_ layer: String, trunk: [String]) throws -> Int {
        if let i = Int(layer) {
            guard trunk.indices.contains(i) else { throw RDRError("--layer \(i) is outside the trunk's indices 0…\(trunk.count - 1) (see `interp layers`)") }
            return i
        }
        guard let i = trunk.firstIndex(of: layer) else {
            throw RDRError("--layer '\(layer)' is not a trunk stage; give an index 0…\(trunk.count - 1) or one of \(trunk.prefix(6).joined(separator: ", "))…")
        }
        return i
    }

    /// `--target`, or `--targets N` (default 5) seeded distinct instances in ascending order.
    func chooseTargets(count: Int) throws -> [Int] {
        if let target = command.target {
            guard target < count else { throw RDRError("--target \(target) is outside the split's instances 0…\(count - 1)") }
            return [target]
        }
        var gen = SeededGenerator(seed: command.seed)
        var order = Array(0..<count)
        order.shuffle(using: &gen)
        return Array(order.prefix(min(command.targets ?? 5, count)))
    }
}

import ArgumentParser
import Foundation
import NNRuntime
import Analysis
import DoraCore

/// One `interp dora` run: signals (resumed from the run folder), activations, analysis and probes.
struct DoraSession {
    let command: DoraCommand
    let loaded: LoadedModel?
    let target: LayerPath?
    let configuration: DoraConfiguration
    let folder: RunFolder

    /// Everything the run produced, ready to be written.
    struct Outcome {
        var result: DoraResult
        var distances: [[Double]]
        var activations: Tensor
        /// The first signal of each analysed neuron (for the report), when signals were generated.
        var signals: [Int: Image]
        var probe: Probe?
        let configuration: DoraConfiguration
        let modelName: String?

        struct Probe {
            let concept: String, split: String
            let images: Int, positives: Int
            let auc: [Double]
            let curves: [Int: [(fpr: Double, tpr: Double)]]
        }
    }

    func run() throws -> Outcome {
        let a: Tensor, neurons: [Int]
        var signals: [Int: Image] = [:]
        if let path = command.activations {
            a = try NPY.read(contentsOf: URL(fileURLWithPath: path))
            guard a.rank == 2 || a.rank == 3 else {
                throw DoraError("\(path) has shape \(a.shape); expected k×k or k×k×n (rows = signal owners, columns = responding neurons)")
            }
            neurons = try command.neurons.map { try DoraCommand.parseNeurons($0, channels: Int.max / 2, preset: nil) } ?? Array(0..<a.shape[0])
            guard neurons.count == a.shape[0] else {
                throw DoraError("--neurons names \(neurons.count) neurons but \(path) has \(a.shape[0]) rows")
            }
        } else {
            guard let loaded, let target else { throw DoraError("--model and --layer are required to generate signals") }
            let dora = Dora(model: loaded.module, layer: target.captureName, input: loaded.input, configuration: configuration)
            let channels = try layerChannels(loaded, target)
            neurons = try DoraCommand.parseNeurons(command.neurons, channels: channels, preset: command.preset)
            let bar = ProgressBar(label: "dora: s-AMS")
            let images = try dora.signals(for: neurons, folder: folder.file("signals")) { p in
                bar.update(p.finishedSignals, p.totalSignals, "signals, step \(p.iteration)/\(p.iterations)")
            }
            bar.finish("\(images.count) signals for \(neurons.count) neurons of \(target) (\(folder.file("signals").path))")
            for (task, image) in images where task.sample == 0 { signals[task.neuron] = image }
            let cached = folder.file("activations.npy")
            let expected = [neurons.count, neurons.count, configuration.signalsPerNeuron]
            if folder.resumed, let saved = try? NPY.read(contentsOf: cached), saved.shape == expected {
                a = saved
            } else {
                a = try dora.activationTensor(neurons: neurons, signals: images)
            }
        }
        let layerName = target?.captureName ?? URL(fileURLWithPath: command.activations ?? "").lastPathComponent
        let (result, d) = try Dora.analyse(activations: a, neurons: neurons, layer: layerName, configuration: configuration)
        var outcome = Outcome(result: result, distances: d, activations: a, signals: signals, probe: nil,
                              configuration: configuration, modelName: loaded?.name)
        if let data = command.probeData, let concept = command.probeConcept, let loaded, let target {
            let probe = try runProbe(data: data, concept: concept, loaded: loaded, target: target, neurons: neurons, result: result)
            outcome.probe = probe
            outcome.result.probeAUC = probe.auc
        }
        return outcome
    }

    /// The channel count of the layer's output, from one forward pass of a blank input.
    func layerChannels(_ loaded: LoadedModel, _ target: LayerPath) throws -> Int {
        let x = Tensor.zeros([1, loaded.input.channels, loaded.input.height, loaded.input.width])
        let (_, captured) = withoutGradients { capturingActivations([target.captureName]) { loaded.module(x) } }
        guard let out = captured[target.captureName], out.rank >= 2 else {
            throw DoraError("layer \(target) was not called in the forward pass")
        }
        return out.shape[1]
    }

    /// Each analysed neuron's spatially averaged activation on the probe images, scored by ROC-AUC
    /// for the concept (Bykov et al. 2023, §4.3: outlier neurons as artifact detectors).
    func runProbe(data: String, concept: String, loaded: LoadedModel, target: LayerPath,
                  neurons: [Int], result: DoraResult) throws -> Outcome.Probe {
        let root = URL(fileURLWithPath: data)
        let split = root.appendingPathComponent(command.probeSplit)
        guard FileManager.default.fileExists(atPath: split.path) else {
            throw DoraError("probe data \(data) has no '\(command.probeSplit)' folder; expected <dir>/\(command.probeSplit)/<class>/*.png")
        }
        let table = try ConceptTable.read(contentsOf: command.probeConcepts.map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent("concepts.csv"))
        let dataset = try ImageFileDataset.imageFolder(split)
        let labels = try table.labels(of: concept, for: dataset.files)
        let positives = labels.filter { $0 }.count
        guard positives > 0 && positives < labels.count else {
            throw DoraError("concept '\(concept)' is \(positives == 0 ? "absent from" : "present in") every probe image; AUC needs both")
        }
        var responses = [[Double]](repeating: [], count: neurons.count)
        let bar = ProgressBar(label: "dora: probe")
        let batchSize = max(1, configuration.generation.batchSize)
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let end = min(start + batchSize, dataset.count)
            let x = loaded.input.batch(try (start..<end).map { try dataset.sample(at: $0).image })
            let (_, captured) = withoutGradients { capturingActivations([target.captureName]) { loaded.module(x) } }
            guard let out = captured[target.captureName] else { throw DoraError("layer \(target) was not called") }
            let pooled = out.rank == 4 ? out.mean(axes: [2, 3]) : out.flattened()
            let c = pooled.shape[1], s = pooled.scalars
            for (i, n) in neurons.enumerated() { for b in 0..<(end - start) { responses[i].append(Double(s[b * c + n])) } }
            bar.update(end, dataset.count, "images")
        }
        bar.finish("\(dataset.count) images, \(positives) with '\(concept)'")
        let auc = try responses.map { try ROC.auc(scores: $0, labels: labels) }
        // Curves for the outliers and the best detectors, so the report can compare them.
        let best = auc.indices.sorted { auc[$0] > auc[$1] }.prefix(3)
        let shown = Set(result.outliers.prefix(5).compactMap { neurons.firstIndex(of: $0) }).union(best)
        var curves: [Int: [(fpr: Double, tpr: Double)]] = [:]
        for i in shown { curves[neurons[i]] = try ROC.curve(scores: responses[i], labels: labels) }
        return Outcome.Probe(concept: concept, split: command.probeSplit, images: dataset.count, positives: positives,
                             auc: auc, curves: curves)
    }
}

extension DoraSession.Outcome {
    /// result.json: the `DoraResult` keys plus timing.
    func resultJSON() throws -> [String: Any] {
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as! [String: Any]
        if let probe { json["probe_concept"] = probe.concept }
        return json
    }

    func write(to folder: RunFolder, seconds: Double) throws {
        var json = try resultJSON()
        json["seconds"] = (seconds * 10).rounded() / 10
        try folder.writeJSON(json, to: "result.json")
        try NPY.write(activations, to: folder.file("activations.npy"))
        let k = distances.count
        try NPY.write(Tensor(shape: [k, k], scalars: distances.joined().map(Float.init)), to: folder.file("distances.npy"))
        var csv = "neuron,x,y,score,is_outlier\n"
        for (i, n) in result.neurons.enumerated() {
            csv += "\(n),\(result.embedding[i][0]),\(result.embedding[i][1]),\(result.scores[i]),\(result.isOutlier[i] ? 1 : 0)\n"
        }
        try Data(csv.utf8).write(to: folder.file("atlas.csv"), options: .atomic)
        try DoraReport(outcome: self).build().write(to: folder.file("report.html"))
    }
}

import Foundation
import NNRuntime
import Analysis
import Invert

/// One `interp invert` run: pooled activations (cached in the run folder), concept labels aligned to
/// the images, the formula search for every neuron, and the outputs.
struct InvertSession {
    let command: InvertCommand
    let loaded: LoadedModel?
    let target: LayerPath?
    let configuration: InvertConfiguration
    let folder: RunFolder

    /// One image of the labelled set: its file when it has one, and its name in the data.
    typealias ImageRef = (url: URL?, name: String)

    /// Everything the run produced, ready to be written.
    struct Outcome {
        var layer: String
        var modelName: String?
        var neurons: [Int]
        /// Best first, per analysed neuron.
        var explanations: [[Explanation]]
        var concepts: ConceptSet
        var descriptions: [String: ConceptDescription]
        /// Concepts that are all 0 or all 1 on these images and so never enter a formula.
        var skipped: [String]
        /// `[N, k]`: every neuron's pooled activation per image.
        var activations: Tensor
        var images: [ImageRef]
        var dataset: (any Dataset)?
        /// Per analysed neuron, the AUC of every single concept (NaN for skipped ones).
        var conceptAUCs: [[Double]]
        /// Neurons whose activation is the same on every image: no formula can describe them.
        var constant: [Int] = []
        let configuration: InvertConfiguration
        let source: String

        var imageCount: Int { activations.shape[0] }
        func text(_ formula: Formula) -> String { formula.text(names: concepts.names) }

        /// Indices of the analysed neurons, best labelled first (highest best AUC; lowest in
        /// negative mode), neurons without an admissible formula last.
        func bestFirst() -> [Int] {
            let sign = configuration.mode == .positive ? 1.0 : -1.0
            return neurons.indices.sorted { a, b in
                let x = explanations[a].first.map { sign * $0.auc } ?? -.infinity
                let y = explanations[b].first.map { sign * $0.auc } ?? -.infinity
                return x != y ? x > y : a < b
            }
        }

        /// The named neurons' activations over all images, one array per neuron.
        func columns(_ ids: [Int]) -> [[Float]] {
            let k = activations.shape[1], s = activations.scalars
            return ids.map { j in (0..<imageCount).map { s[$0 * k + j] } }
        }
    }

    func run() throws -> Outcome {
        let (a, images, dataset, classLabels) = try activationMatrix()
        let (concepts, descriptions) = try conceptSet(images: images, dataset: dataset, classLabels: classLabels)
        let skipped = concepts.constantConcepts.map { concepts.names[$0] }
        if !skipped.isEmpty {
            FileHandle.standardError.write(Data("invert: warning: skipping \(skipped.count) concept(s) that are all 0 or all 1 on these images: \(skipped.prefix(8).joined(separator: ", "))\(skipped.count > 8 ? ", …" : "")\n".utf8))
        }
        let neurons = try parseNeuronList(command.neurons ?? "all", channels: a.shape[1])
        let invert = try Invert(concepts: concepts, configuration: configuration)
        // A neuron that never changes on these images (a dead ReLU) ties every formula at AUC 0.5;
        // it gets no label rather than an arbitrary first concept.
        let varying = Self.varyingColumns(a, among: neurons)
        let bar = ProgressBar(label: "invert: search")
        let found = try invert.explain(layer: a, neurons: varying) { done, total in bar.update(done, total, "neurons") }
        bar.finish("\(varying.count) neurons, \(concepts.names.count - skipped.count) concepts, \(a.shape[0]) images" +
                   (varying.count < neurons.count ? "; \(neurons.count - varying.count) constant neurons left unlabelled" : ""))
        let byNeuron = Dictionary(uniqueKeysWithValues: zip(varying, found))
        var outcome = Outcome(layer: target?.captureName ?? URL(fileURLWithPath: command.activations ?? "").lastPathComponent,
                              modelName: loaded?.name, neurons: neurons, explanations: neurons.map { byNeuron[$0] ?? [] },
                              concepts: concepts, descriptions: descriptions, skipped: skipped, activations: a, images: images,
                              dataset: dataset, conceptAUCs: [], configuration: configuration,
                              source: command.data ?? command.activations ?? "")
        outcome.constant = neurons.filter { byNeuron[$0] == nil }
        outcome.conceptAUCs = try outcome.columns(neurons).map { try invert.conceptAUCs($0) }
        return outcome
    }

    /// The `[N, k]` activations with the image of each row, from `--activations` or from the model on
    /// `--data` (cached as activations.npy + images.txt + labels.txt, so a re-run skips the forward passes).
    func activationMatrix() throws -> (Tensor, [ImageRef], (any Dataset)?, [Int]?) {
        if let path = command.activations {
            let url = URL(fileURLWithPath: path)
            let a = try NPY.read(contentsOf: url)
            guard a.rank == 2, a.shape[0] >= 2, a.shape[1] >= 1 else {
                throw InvertError("\(path) has shape \(a.shape); expected N×k activations (rows = images, columns = neurons)")
            }
            let list = url.deletingPathExtension().appendingPathExtension("images.txt")
            var images: [ImageRef] = (0..<a.shape[0]).map { (nil, "row \($0)") }
            if let text = try? String(contentsOf: list, encoding: .utf8) {
                let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
                guard lines.count == a.shape[0] else {
                    throw InvertError("\(list.path) lists \(lines.count) images but \(path) has \(a.shape[0]) rows")
                }
                images = lines.map { line in
                    let file = line.hasPrefix("/") ? URL(fileURLWithPath: line) : url.deletingLastPathComponent().appendingPathComponent(line)
                    return (file, line)
                }
            }
            return (a, images, nil, nil)
        }
        guard let loaded, let target, let data = command.data else { throw InvertError("--model, --layer and --data are required") }
        let dataset = try DatasetLoader.open(data, format: command.dataFormat)[command.split]
        guard dataset.count >= 2 else { throw InvertError("the \(command.split.rawValue) split of \(data) has \(dataset.count) images; INVERT needs at least 2") }
        let images: [ImageRef] = (0..<dataset.count).map { (dataset.fileURL(at: $0), dataset.name(at: $0)) }
        let cache = folder.file("activations.npy"), labelFile = folder.file("labels.txt")
        if folder.resumed, let saved = try? NPY.read(contentsOf: cache), saved.rank == 2, saved.shape[0] == dataset.count,
           let text = try? String(contentsOf: labelFile, encoding: .utf8) {
            let labels = text.split(whereSeparator: \.isNewline).compactMap { Int($0) }
            if labels.count == dataset.count { return (saved, images, dataset, labels) }
        }
        var rows: [Tensor] = [], labels: [Int] = []
        let bar = ProgressBar(label: "invert: activations")
        for start in stride(from: 0, to: dataset.count, by: command.batchSize) {
            let end = min(start + command.batchSize, dataset.count)
            let samples = try (start..<end).map { try dataset.sample(at: $0) }
            let x = loaded.input.batch(samples.map(\.image))
            let (_, captured) = withoutGradients { capturingActivations([target.captureName]) { loaded.module(x) } }
            guard let out = captured[target.captureName] else { throw InvertError("layer \(target) was not called in the forward pass") }
            rows.append(ActivationsCommand.pooled(out, command.pool == .max ? .max : .mean))
            labels += samples.map(\.label)
            bar.update(end, dataset.count, "images")
        }
        let a = concat(rows, axis: 0)
        bar.finish("\(dataset.count) images of \(data) (\(command.split.rawValue)) through \(target), \(a.shape[1]) neurons")
        try NPY.write(a, to: cache)
        try Data((images.map { $0.url?.path ?? $0.name }.joined(separator: "\n") + "\n").utf8).write(to: folder.file("activations.images.txt"), options: .atomic)
        try Data((labels.map(String.init).joined(separator: "\n") + "\n").utf8).write(to: labelFile, options: .atomic)
        return (a, images, dataset, labels)
    }

    /// The concept masks for the images, from the dataset's classes or a concept file.
    func conceptSet(images: [ImageRef], dataset: (any Dataset)?, classLabels: [Int]?) throws -> (ConceptSet, [String: ConceptDescription]) {
        if command.concepts == "classes" {
            guard let dataset, let classLabels else { throw InvertError("--concepts classes needs --data with class labels") }
            // Bare numbers ("0"…"9" for MNIST) would read as constants in a formula.
            let names = (dataset.classNames.isEmpty ? (0..<(classLabels.max() ?? 0) + 1).map(String.init) : dataset.classNames)
                .map { $0.allSatisfy(\.isNumber) ? "class \($0)" : $0 }
            let labels = classLabels.map { label in names.indices.map { $0 == label } }
            return (try ConceptSet(names: names, labels: labels), [:])
        }
        let url = URL(fileURLWithPath: command.concepts)
        let table = try ConceptTable.load(contentsOf: url, descriptions: command.descriptions.map { URL(fileURLWithPath: $0) })
        let rows = try table.rows(for: images, source: url.lastPathComponent)
        let names = table.concepts.indices.map(table.displayName)
        var descriptions: [String: ConceptDescription] = [:]
        for (j, column) in table.concepts.enumerated() { descriptions[names[j]] = table.descriptions[column] }
        return (try ConceptSet(names: names, labels: rows.map { table.labels[$0] }), descriptions)
    }

    /// The columns of `a` `[N, k]` among `neurons` that take more than one value.
    static func varyingColumns(_ a: Tensor, among neurons: [Int]) -> [Int] {
        let k = a.shape[1], s = a.scalars
        return neurons.filter { j in (1..<a.shape[0]).contains { s[$0 * k + j] != s[j] } }
    }
}

extension InvertSession.Outcome {
    /// result.json: per neuron its explanations, best first, with readable formulas.
    func resultJSON() -> [String: Any] {
        let rows: [[String: Any]] = neurons.indices.map { i in
            ["neuron": neurons[i], "explanations": explanations[i].map { e -> [String: Any] in
                ["formula": text(e.formula), "length": e.length, "auc": e.auc, "differentiability": e.differentiability,
                 "concept_fraction": e.conceptFraction, "p_value": e.pValue]
            }]
        }
        return ["layer": layer, "images": imageCount, "concepts": concepts.names, "skipped_concepts": skipped,
                "constant_neurons": constant, "mode": configuration.mode.rawValue, "neurons": rows]
    }

    func write(to folder: RunFolder, seconds: Double) throws {
        var json = resultJSON()
        json["seconds"] = (seconds * 10).rounded() / 10
        try folder.writeJSON(json, to: "result.json")
        try InvertReport(outcome: self).build().write(to: folder.file("report.html"))
    }
}

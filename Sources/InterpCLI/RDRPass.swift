import Foundation
import NNRuntime
import RDR

extension RDRSession {
    /// The configurations, baseline distances and predictions of every instance: read from the run
    /// folder when a previous run of the same command wrote them, otherwise one streamed pass over the
    /// data (features are never all in memory: each batch updates the distances and is dropped).
    func cachedPass(dataset: any Dataset, units: Int, targetFeatures: [[Float]],
                    forward: ([Image]) throws -> (Tensor, (feature: Tensor, configuration: Tensor))) throws -> Pass {
        let bits = folder.file("configurations.bin"), predictionsFile = folder.file("predictions.csv"), baselineFile = folder.file("baselines.npy")
        if folder.resumed, let matrix = try? ConfigurationMatrix.read(contentsOf: bits), matrix.rows == dataset.count, matrix.units == units,
           let table = try? String(contentsOf: predictionsFile, encoding: .utf8),
           let saved = try? NPY.read(contentsOf: baselineFile), saved.shape == [2, targetFeatures.count, dataset.count] {
            let rows = table.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",").compactMap { Int($0) } }
            if rows.count == dataset.count, rows.allSatisfy({ $0.count == 2 }) {
                let n = dataset.count, t = targetFeatures.count, s = saved.scalars
                let distances = (0..<2).map { b in (0..<t).map { i in (0..<n).map { Double(s[(b * t + i) * n + $0]) } } }
                return Pass(configurations: matrix, distances: distances, predicted: rows.map { $0[0] }, labels: rows.map { $0[1] })
            }
        }
        var matrix = ConfigurationMatrix(units: units)
        var neighbours = FeatureNeighbours(targets: targetFeatures)
        var predicted: [Int] = [], labels: [Int] = []
        let bar = ProgressBar(label: "rdr: configurations")
        for start in stride(from: 0, to: dataset.count, by: command.batchSize) {
            let end = min(start + command.batchSize, dataset.count)
            let samples = try (start..<end).map { try dataset.sample(at: $0) }
            let (logits, acts) = try forward(samples.map(\.image))
            matrix.append(acts.configuration)
            neighbours.add(acts.feature)
            predicted += logits.argmax(axis: 1)
            labels += samples.map(\.label)
            bar.update(end, dataset.count, "instances")
        }
        bar.finish("\(dataset.count) instances × \(units) units (\(matrix.rows * ((units + 63) / 64) * 8 / 1_048_576) MiB of bits)")
        try matrix.write(to: bits)
        let csv = "predicted,label\n" + zip(predicted, labels).map { "\($0),\($1)\n" }.joined()
        try Data(csv.utf8).write(to: predictionsFile, options: .atomic)
        let distances = [neighbours.euclidean, neighbours.cosine]
        try NPY.write(Tensor(shape: [2, targetFeatures.count, dataset.count], scalars: distances.joined().joined().map(Float.init)), to: baselineFile)
        return Pass(configurations: matrix, distances: distances, predicted: predicted, labels: labels)
    }

    /// `--activations P.npy`: the configuration is P > 0 and the baselines run on P itself.
    func runOnActivations() throws -> Outcome {
        let path = command.activations!
        var p = try NPY.read(contentsOf: URL(fileURLWithPath: path))
        if p.rank > 2 { p = p.flattened() }
        guard p.rank == 2, p.shape[0] >= command.k, p.shape[1] >= 1 else {
            throw RDRError("\(path) has shape \(p.shape); expected N×D values of the configuration layer with N ≥ k = \(command.k)")
        }
        let n = p.shape[0]
        var labels: [Int]? = nil
        if let file = command.labels {
            let text = try String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8)
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard lines.count == n else { throw RDRError("--labels \(file) has \(lines.count) lines but \(path) has \(n) rows") }
            let names = Array(Set(lines)).sorted()
            let ids = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            labels = lines.map { ids[$0]! }
        }
        let targets = try chooseTargets(count: n)
        var matrix = ConfigurationMatrix(units: p.shape[1])
        matrix.append(p)
        let d = p.shape[1], s = p.scalars
        var neighbours = FeatureNeighbours(targets: targets.map { Array(s[$0 * d..<($0 + 1) * d]) })
        neighbours.add(p)
        let rdr = try RDR(configurations: matrix, settings: command.settings)
        let predicted = labels ?? [Int](repeating: 0, count: n)
        let regions = try targets.enumerated().map { i, row in
            judge(try rdr.region(forRow: row), target: row, name: "row \(row)", predicted: predicted[row], label: labels?[row],
                  distances: [neighbours.euclidean[i], neighbours.cosine[i]], predictions: predicted, groupOf: nil)
        }
        var classNames: [String] = []
        if let file = command.labels, let text = try? String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8) {
            classNames = Array(Set(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })).sorted()
        }
        return Outcome(featureName: URL(fileURLWithPath: path).lastPathComponent, configurationName: "\(URL(fileURLWithPath: path).lastPathComponent) > 0",
                       unitShape: [d], instanceCount: n, predicted: predicted, labels: labels, classNames: classNames,
                       group: nil, groupOf: [], regions: regions, dataset: nil, targetImage: nil, modelName: nil, settings: command.settings)
    }

    /// The purity group (mutually exclusive concepts, e.g. shapes' colours) and each instance's member.
    func purityGroup(dataset: any Dataset) throws -> ([String]?, [Int?]) {
        let csv = command.concepts.map { URL(fileURLWithPath: $0) }
            ?? command.data.map { URL(fileURLWithPath: $0).appendingPathComponent("concepts.csv") }
        guard let csv, FileManager.default.fileExists(atPath: csv.path) else {
            if command.purityGroup != nil { throw RDRError("--purity-group needs a concept CSV: give --concepts FILE") }
            return (nil, [])
        }
        let table = try ConceptTable.load(contentsOf: csv)
        let names = command.purityGroup?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            ?? (["red", "green", "blue", "yellow"].allSatisfy(table.concepts.contains) ? ["red", "green", "blue", "yellow"] : [])
        guard !names.isEmpty else { return (nil, []) }
        let columns = try names.map { try table.column(named: $0) }
        let items: [(url: URL?, name: String)] = (0..<dataset.count).map { (dataset.fileURL(at: $0), dataset.name(at: $0)) }
        let rows = try table.rows(for: items, source: csv.lastPathComponent)
        return (names, rows.map { r in columns.firstIndex { table.labels[r][$0] } })
    }
}

extension RDRSession.Outcome {
    /// result.json as the issue specifies it, plus summary means.
    func resultJSON() -> [String: Any] {
        func mean(_ values: [Double?]) -> Any { let v = values.compactMap { $0 }.filter { !$0.isNaN }; return v.isEmpty ? NSNull() : v.reduce(0, +) / Double(v.count) }
        let targets: [[String: Any]] = regions.map { r in
            var entry: [String: Any] = [
                "target": r.target as Any? ?? NSNull(), "target_name": r.targetName, "predicted": r.predicted,
                "label": r.label as Any? ?? NSNull(),
                "neighbours": r.region.neighbours.map { ["index": $0.index, "distance": $0.distance] },
                "principal_units": zip(r.region.principalUnits, r.region.states).map { unit, state -> [String: Any] in
                    let (c, y, x) = position(unit)
                    return ["index": unit, "channel": c, "y": y, "x": x, "state": state]
                },
                "candidates": r.region.candidates, "members": r.region.members, "purity": r.purity,
                "baselines": r.baselines.mapValues { b -> [String: Any] in
                    var v: [String: Any] = ["members": b.members, "purity": b.purity]
                    if let g = b.groupPurity { v["group_purity"] = g }
                    return v
                },
            ]
            if let g = r.groupPurity { entry["group_purity"] = g }
            return entry
        }
        var json: [String: Any] = ["layer": featureName, "configuration": configurationName, "units": units, "unit_shape": unitShape,
                                   "instances": instanceCount, "k": settings.k, "t": settings.t, "targets": targets]
        var summary: [String: Any] = ["purity": mean(regions.map(\.purity)), "members": mean(regions.map { Double($0.region.members.count) }),
                                      "euclidean_purity": mean(regions.map { $0.baselines["euclidean"]?.purity }),
                                      "cosine_purity": mean(regions.map { $0.baselines["cosine"]?.purity })]
        if let group {
            json["purity_group"] = group
            summary["group_purity"] = mean(regions.map(\.groupPurity))
            summary["euclidean_group_purity"] = mean(regions.map { $0.baselines["euclidean"]?.groupPurity })
            summary["cosine_group_purity"] = mean(regions.map { $0.baselines["cosine"]?.groupPurity })
        }
        json["summary"] = summary
        return json
    }

    /// (channel, y, x) of a flat unit index in the configuration layer's [C, H, W] layout.
    func position(_ unit: Int) -> (Int, Int, Int) {
        guard unitShape.count == 3 else { return (unit, 0, 0) }
        let plane = unitShape[1] * unitShape[2]
        return (unit / plane, (unit % plane) / unitShape[2], unit % unitShape[2])
    }

    func write(to folder: RunFolder, seconds: Double) throws {
        var json = resultJSON()
        json["seconds"] = (seconds * 10).rounded() / 10
        try folder.writeJSON(json, to: "result.json")
        try RDRReport(outcome: self).build().write(to: folder.file("report.html"))
    }
}

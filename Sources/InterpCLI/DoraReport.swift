import Foundation
import NNRuntime
import Analysis
import DoraCore

/// DORA's `report.html`: the representation atlas with each neuron's s-AMS on hover, the outliers
/// beside their nearest neighbours, scores, the EA distance matrix and artifact-probe ROC curves.
struct DoraReport {
    let outcome: DoraSession.Outcome

    /// Signal thumbnails for the page (the full-size PNGs stay in signals/).
    static let thumbnail = 112

    func png(_ neuron: Int) -> Data? {
        try? outcome.signals[neuron]?.fitted(width: Self.thumbnail).pngData()
    }

    func build() -> Report {
        let r = outcome.result, c = outcome.configuration
        let k = r.neurons.count
        var report = Report(title: "DORA: outlier neurons of \(r.layer)",
                            subtitle: outcome.modelName.map { "model \($0) · \(k) neurons · \(r.outliers.count) outliers" })
        let g = c.generation
        var settings: [(String, String)] = [("model", outcome.modelName ?? "(activations file)"), ("layer", r.layer),
                                            ("neurons analysed", "\(k)")]
        if !outcome.signals.isEmpty {
            settings += [("signals per neuron", "\(c.signalsPerNeuron)\(c.minimize ? " (minimising)" : "")"),
                         ("objective", g.objective.rawValue), ("iterations", "\(g.iterations)"),
                         ("AdamW lr / weight decay", "\(g.learningRate) / \(g.weightDecay)"),
                         ("signal size", "\(g.height)×\(g.width)"), ("seed", "\(g.seed)")]
        }
        settings += [("EA distance", c.distance.rawValue), ("detector", "\(r.detector), outliers fraction \(c.outliersFraction)"),
                     ("embedding", c.embedding.rawValue)]
        if let sp = r.specificity {
            settings.append(("specificity", String(format: "%.0f%% of neurons rank their own signal in their top 5%%", sp * 100)))
        }
        report.section("Run")
        report.keyValues(settings)

        let thumbnails = r.neurons.map { png($0) }
        let outlierIndex = Set(r.neurons.indices.filter { r.isOutlier[$0] })
        report.section("Representation atlas",
                       intro: "Each point is a neuron, placed by \(c.embedding.rawValue.uppercased()) of the Extreme-Activation distances: neurons that respond alike to each other's maximising signals sit together. Outliers are marked; hover a point to see its signal.")
        let hover: [Data]? = thumbnails.allSatisfy({ $0 != nil }) ? thumbnails.map { $0! } : nil
        report.figure(Plot.scatter(points: r.embedding.map { ($0[0], $0[1]) },
                                   groups: r.isOutlier.map { $0 ? "outlier" : "normal" },
                                   ids: r.neurons.map { "neuron \($0)" }, hoverImages: hover, annotate: outlierIndex,
                                   title: "\(r.layer): \(k) neurons", xLabel: "\(c.embedding.rawValue) 1", yLabel: "\(c.embedding.rawValue) 2"))

        report.section("Outliers", intro: "Most outlying first, with the neurons nearest to each in EA distance.")
        let auc = r.probeAUC
        var rows: [[String]] = []
        for (rank, id) in r.outliers.enumerated() {
            let i = r.neurons.firstIndex(of: id)!
            var row = ["\(rank + 1)", "\(id)", String(format: "%.3f", r.scores[i]),
                       (r.neighbours[String(id)] ?? []).map(String.init).joined(separator: ", ")]
            if let auc { row.append(String(format: "%.3f", auc[i])) }
            rows.append(row)
        }
        report.table(headers: ["rank", "neuron", "score", "nearest neurons"] + (auc == nil ? [] : ["probe AUC"]),
                     rows: rows, numericColumns: [0, 1, 2, 4])
        if !outcome.signals.isEmpty {
            for id in r.outliers.prefix(8) {
                var items: [ReportImage] = []
                if let p = png(id) { items.append(ReportImage(png: p, caption: "outlier \(id)", highlighted: true)) }
                for n in r.neighbours[String(id)] ?? [] {
                    if let p = png(n) { items.append(ReportImage(png: p, caption: "neuron \(n)")) }
                }
                report.imageGrid(items, columns: 6, caption: "Outlier \(id) and its nearest neighbours")
            }
        }
        let order = r.neurons.indices.sorted { r.scores[$0] > r.scores[$1] }
        report.figure(Plot.bars(values: order.map { r.scores[$0] }, labels: order.map { "\(r.neurons[$0])" },
                                highlighted: Set(order.indices.filter { r.isOutlier[order[$0]] }),
                                title: "Outlier score per neuron (sorted)", yLabel: r.detector),
                      caption: String(format: "Neurons above the threshold %.3f are outliers.", r.threshold))

        report.section("Extreme-Activation distances",
                       intro: "Ordered along the atlas's first axis, so clusters show as dark blocks on the diagonal.")
        let byAxis = r.neurons.indices.sorted { r.embedding[$0][0] < r.embedding[$1][0] }
        let labels = r.neurons.map(String.init)
        report.figure(Plot.heatmap(outcome.distances, rowLabels: labels, columnLabels: labels,
                                   title: "EA distance (\(c.distance.rawValue))", order: byAxis))

        if let probe = outcome.probe, let auc {
            report.section("Artifact probe: \(probe.concept)",
                           intro: "Each neuron's spatially averaged activation on \(probe.images) real images of the '\(probe.split)' split (\(probe.positives) showing '\(probe.concept)') as a detector of the concept, scored by ROC-AUC.")
            let series = probe.curves.keys.sorted { auc[r.neurons.firstIndex(of: $0)!] > auc[r.neurons.firstIndex(of: $1)!] }.map { id in
                (name: String(format: "neuron %d%@ (AUC %.3f)", id, r.outliers.contains(id) ? ", outlier" : "", auc[r.neurons.firstIndex(of: id)!]),
                 points: probe.curves[id]!.map { ($0.fpr, $0.tpr) })
            }
            report.figure(Plot.lines(series, title: "ROC curves", xLabel: "false positive rate", yLabel: "true positive rate", diagonal: true))
            let best = r.neurons.indices.sorted { auc[$0] > auc[$1] }.prefix(15)
            report.table(headers: ["neuron", "probe AUC", "outlier score", "outlier"],
                         rows: best.map { ["\(r.neurons[$0])", String(format: "%.3f", auc[$0]), String(format: "%.3f", r.scores[$0]), r.isOutlier[$0] ? "yes" : ""] },
                         caption: "The best detectors of '\(probe.concept)'", numericColumns: [0, 1, 2])
        }

        if !outcome.signals.isEmpty {
            report.section("All signals", intro: "The first s-AMS of every analysed neuron; outliers are framed.")
            let items = r.neurons.indices.compactMap { i in
                thumbnails[i].map { ReportImage(png: $0, caption: "\(r.neurons[i])", highlighted: r.isOutlier[i]) }
            }
            report.imageGrid(items, columns: 8)
        }
        return report
    }
}

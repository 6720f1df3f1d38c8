import Foundation
import NNRuntime
import Invert

/// INVERT's `report.html`: a layer overview (best AUC per neuron, the concepts labels use most, every
/// neuron's best formula), then for the best-labelled neurons their formulas, the activation
/// distributions where the formula holds and where it does not, and the top-activating images with
/// the formula's truth marked.
struct InvertReport {
    let outcome: InvertSession.Outcome

    /// Neurons shown in detail; the overview table lists all of them.
    static let detailed = 16
    static let thumbnail = 96

    func build() -> Report {
        let o = outcome, c = o.configuration
        let order = o.bestFirst()
        var report = Report(title: "INVERT: concept labels of \(o.layer)",
                            subtitle: "\(o.modelName.map { "model \($0) · " } ?? "")\(o.neurons.count) neurons · \(o.imageCount) images · \(o.concepts.names.count - o.skipped.count) concepts")
        report.section("Run")
        var settings: [(String, String)] = [("model", o.modelName ?? "(activations file)"), ("layer", o.layer), ("data", o.source),
                                            ("images", "\(o.imageCount)"), ("neurons", "\(o.neurons.count)"),
                                            ("concepts", "\(o.concepts.names.count - o.skipped.count) used")]
        if !o.skipped.isEmpty { settings.append(("skipped (constant)", o.skipped.joined(separator: ", "))) }
        if !o.constant.isEmpty { settings.append(("unlabelled neurons", "\(o.constant.count) constant on these images (e.g. dead ReLUs)")) }
        settings += [("formula length / beam", "\(c.length) / \(c.beamSize)"),
                     ("concept fraction", "\(c.minFraction) … \(c.maxFraction)"), ("mode", c.mode.rawValue),
                     ("expansion pool", c.limitSearch.map { "\($0) literals" } ?? "all literals"),
                     ("beam", c.referenceBeam ? "reference (duplicates kept)" : "de-duplicated by mask")]
        report.keyValues(settings)

        overview(&report, order: order)
        for i in detailOrder(order) { neuron(&report, i) }
        return report
    }

    /// The neurons shown in detail: the best-labelled neuron of each distinct best formula first (a
    /// layer often has many neurons for one concept), then the next best, up to ``detailed``.
    func detailOrder(_ order: [Int]) -> [Int] {
        let labelled = order.filter { !outcome.explanations[$0].isEmpty }
        var seen = Set<String>(), first: [Int] = [], rest: [Int] = []
        for i in labelled {
            if seen.insert(outcome.text(outcome.explanations[i][0].formula)).inserted { first.append(i) } else { rest.append(i) }
        }
        return Array((first + rest).prefix(Self.detailed))
    }

    /// Bins for the best-AUC histogram: twenty from just below the lowest value up to 1, so a layer
    /// whose neurons all score above 0.95 still shows its spread.
    func histogram(_ values: [Double]) -> (counts: [Double], labels: [String]) {
        let lo = min(((values.min() ?? 0.5) * 20).rounded(.down) / 20, 0.95), bins = 20
        let width = (1 - lo) / Double(bins)
        var counts = [Double](repeating: 0, count: bins)
        for v in values { counts[min(bins - 1, max(0, Int((v - lo) / width)))] += 1 }
        return (counts, (0..<bins).map { String(format: width < 0.01 ? "%.4f" : "%.3f", lo + Double($0) * width) })
    }

    func overview(_ report: inout Report, order: [Int]) {
        let o = outcome
        report.section("Layer overview", intro: "The AUC of each neuron's best formula: 0.5 is chance, 1 means the neuron's activation separates the images where the formula holds from the rest perfectly.")
        let best = order.compactMap { o.explanations[$0].first?.auc }
        let bins = histogram(best)
        report.figure(Plot.bars(values: bins.counts, labels: bins.labels,
                                title: "Best AUC per neuron", yLabel: "neurons", width: 640, height: 280),
                      caption: "Neurons by the AUC of their best formula (20 bins up to 1, labelled by their lower edge).")
        var uses = [Int](repeating: 0, count: o.concepts.names.count)
        for i in order { for j in o.explanations[i].first?.formula.concepts ?? [] { uses[j] += 1 } }
        let frequent = uses.indices.filter { uses[$0] > 0 }.sorted { uses[$0] != uses[$1] ? uses[$0] > uses[$1] : $0 < $1 }.prefix(24)
        if !frequent.isEmpty {
            report.figure(Plot.bars(values: frequent.map { Double(uses[$0]) }, labels: frequent.map { o.concepts.names[$0] },
                                    title: "Concepts in the neurons' best formulas", yLabel: "neurons", width: 720, height: 300))
        }
        let used = o.concepts.names.indices.filter { !o.skipped.contains(o.concepts.names[$0]) }
        let shown = order.filter { !o.explanations[$0].isEmpty }.prefix(40)
        if !shown.isEmpty, used.count <= 64 {
            report.figure(Plot.heatmap(shown.map { i in used.map { o.conceptAUCs[i][$0] } },
                                       rowLabels: shown.map { "\(o.neurons[$0])" }, columnLabels: used.map { o.concepts.names[$0] },
                                       title: "Single-concept AUC (best-labelled neurons)", width: 640, height: 640),
                          caption: "Rows: the best-labelled neurons (up to 40); columns: concepts; each cell the AUC of the concept alone.")
        }
        let rows = order.map { i -> [String] in
            guard let e = o.explanations[i].first else {
                let why = o.constant.contains(o.neurons[i]) ? "(constant on these images)" : "(no admissible formula)"
                return ["\(o.neurons[i])", why, "", "", "", ""]
            }
            return ["\(o.neurons[i])", o.text(e.formula), String(format: "%.4f", e.auc), pText(e.pValue),
                    String(format: "%.4f", e.conceptFraction), "\(e.length)"]
        }
        report.table(headers: ["neuron", "best formula", "AUC", "p", "fraction", "length"], rows: rows,
                     caption: "Every analysed neuron's best formula, best labelled first.", numericColumns: [0, 2, 3, 4, 5])
        if !o.descriptions.isEmpty {
            let used = o.concepts.names.indices.filter { !o.skipped.contains(o.concepts.names[$0]) }
            report.table(headers: ["concept", "description", "images"],
                         rows: used.map { ["\(o.concepts.names[$0])", o.descriptions[o.concepts.names[$0]]?.description ?? "",
                                           "\(o.concepts.masks[$0].cardinality)"] },
                         caption: "Concepts", numericColumns: [2])
        }
    }

    func neuron(_ report: inout Report, _ i: Int) {
        let o = outcome, id = o.neurons[i], explanations = o.explanations[i]
        let top = explanations[0]
        report.section("Neuron \(id): \(o.text(top.formula))",
                       intro: String(format: "AUC %.4f, p = %@, the formula holds for %.1f%% of the images.", top.auc, pText(top.pValue), top.conceptFraction * 100))
        report.table(headers: ["formula", "AUC", "differentiability", "p", "fraction", "length"],
                     rows: explanations.map { [o.text($0.formula), String(format: "%.4f", $0.auc), String(format: "%.4f", $0.differentiability),
                                               pText($0.pValue), String(format: "%.4f", $0.conceptFraction), "\($0.length)"] },
                     numericColumns: [1, 2, 3, 4, 5])
        let a = o.columns([id])[0].map(Double.init)
        let mask = top.formula.mask(in: o.concepts)
        let holds = a.indices.filter { mask[$0] }.map { a[$0] }, fails = a.indices.filter { !mask[$0] }.map { a[$0] }
        report.figure(Plot.lines([(name: "formula holds (\(holds.count))", points: density(holds, over: a)),
                                  (name: "formula fails (\(fails.count))", points: density(fails, over: a))],
                                 title: "Activation of neuron \(id)", xLabel: "activation", yLabel: "density", width: 560, height: 300),
                      caption: "Histogram densities of the neuron's activation where its best formula holds and where it does not.")
        let ranked = a.indices.sorted { a[$0] != a[$1] ? a[$0] > a[$1] : $0 < $1 }
        let items = ranked.prefix(12).compactMap { r -> ReportImage? in
            guard let png = thumbnail(r) else { return nil }
            return ReportImage(png: png, caption: String(format: "%.3g %@", a[r], mask[r] ? "✓" : "✗"), highlighted: mask[r])
        }
        if !items.isEmpty {
            report.imageGrid(items, columns: 6, caption: "Top-activating images; framed (✓) where \(o.text(top.formula)) holds.")
        }
    }

    /// A normalised 30-bin histogram of `values` over the range of `all`, as (bin centre, density).
    func density(_ values: [Double], over all: [Double]) -> [(Double, Double)] {
        guard let lo = all.min(), let hi = all.max(), !values.isEmpty else { return [] }
        let bins = 30, width = hi > lo ? (hi - lo) / Double(bins) : 1
        var counts = [Double](repeating: 0, count: bins)
        for v in values { counts[min(bins - 1, max(0, Int((v - lo) / width)))] += 1 }
        return counts.indices.map { (lo + (Double($0) + 0.5) * width, counts[$0] / (Double(values.count) * width)) }
    }

    func thumbnail(_ row: Int) -> Data? {
        let image: Image?
        if let dataset = outcome.dataset { image = try? dataset.sample(at: row).image }
        else if let url = outcome.images[row].url { image = try? Image.load(contentsOf: url) }
        else { image = nil }
        return try? image?.fitted(width: Self.thumbnail).pngData()
    }

    func pText(_ p: Double) -> String { p < 1e-3 ? String(format: "%.2e", p) : String(format: "%.4f", p) }
}

import Foundation
import NNRuntime
import RDR

/// RDR's `report.html`: for each target its nearest neighbours in configuration space, the region's
/// members (any number), where the principal units sit on the target, and the region's label
/// composition; a summary compares each region's purity with Euclidean and cosine neighbourhoods of
/// the same size on the feature (Chang et al. 2024's baselines).
struct RDRReport {
    let outcome: RDRSession.Outcome

    static let detailed = 12
    static let thumbnail = 96
    static let membersShown = 30

    func build() -> Report {
        let o = outcome
        var report = Report(title: "RDR: relaxed decision regions at \(o.featureName)",
                            subtitle: "\(o.modelName.map { "model \($0) · " } ?? "")\(o.regions.count) target(s) · \(o.instanceCount) instances · \(o.units) units")
        report.section("Run")
        report.keyValues([("model", o.modelName ?? "(activations file)"), ("feature", o.featureName),
                          ("configuration", "\(o.configurationName), \(o.units) units \(o.unitShape.map(String.init).joined(separator: "×"))"),
                          ("instances", "\(o.instanceCount)"), ("k (neighbours incl. target)", "\(o.settings.k)"),
                          ("t (principal units)", "\(o.settings.t)"), ("purity group", o.group?.joined(separator: ", ") ?? "none")])
        summary(&report)
        for r in o.regions.prefix(Self.detailed) { region(&report, r) }
        return report
    }

    func summary(_ report: inout Report) {
        let o = outcome
        report.section("Regions", intro: "Purity is the share of the region's most common predicted class; the baselines take as many nearest instances of the target by Euclidean or cosine distance on the feature.")
        let hasGroup = o.group != nil
        let rows = o.regions.map { r -> [String] in
            var row = [r.targetName, o.className(r.predicted), r.label.map(o.className) ?? "", "\(r.region.members.count)",
                       "\(r.region.principalUnits.count)/\(r.region.candidates)", Self.f(r.purity), Self.f(r.baselines["euclidean"]?.purity),
                       Self.f(r.baselines["cosine"]?.purity)]
            if hasGroup { row += [Self.f(r.groupPurity), Self.f(r.baselines["euclidean"]?.groupPurity), Self.f(r.baselines["cosine"]?.groupPurity)] }
            return row
        }
        report.table(headers: ["target", "predicted", "label", "members", "units / candidates", "purity", "euclidean", "cosine"]
                     + (hasGroup ? ["group purity", "euclidean (group)", "cosine (group)"] : []),
                     rows: rows, numericColumns: Set(3..<(hasGroup ? 11 : 8)))
        let json = o.resultJSON()["summary"] as? [String: Any] ?? [:]
        var names = ["RDR", "Euclidean", "cosine"], values = [json["purity"], json["euclidean_purity"], json["cosine_purity"]]
        if hasGroup {
            names += ["RDR (group)", "Euclidean (group)", "cosine (group)"]
            values += [json["group_purity"], json["euclidean_group_purity"], json["cosine_group_purity"]]
        }
        report.figure(Plot.bars(values: values.map { ($0 as? Double) ?? .nan }, labels: names, highlighted: [0],
                                title: "Mean purity over \(o.regions.count) target(s)", yLabel: "purity", width: 560, height: 300))
    }

    func region(_ report: inout Report, _ r: RDRSession.TargetRegion) {
        let o = outcome
        report.section("Target \(r.targetName)",
                       intro: "Predicted \(o.className(r.predicted))\(r.label.map { ", labelled \(o.className($0))" } ?? ""); \(r.region.members.count) member(s), purity \(Self.f(r.purity)).")
        var items: [ReportImage] = []
        if let png = targetThumbnail(r) {
            items.append(ReportImage(png: png, caption: "target: units on (green) / off (red)", highlighted: true))
        }
        for n in r.region.neighbours where n.index != r.target {
            if let png = thumbnail(n.index) { items.append(ReportImage(png: png, caption: "#\(n.index) · d \(n.distance) · \(o.className(o.predicted[n.index]))")) }
        }
        if !items.isEmpty { report.imageGrid(items, columns: 6, caption: "The target and its nearest neighbours in configuration (Hamming) distance") }
        let members = r.region.members
        let shown = members.count <= Self.membersShown ? members
            : (0..<Self.membersShown).map { members[$0 * members.count / Self.membersShown] }
        let grid = shown.compactMap { i in thumbnail(i).map { ReportImage(png: $0, caption: "#\(i) · \(o.className(o.predicted[i]))", highlighted: i == r.target) } }
        if !grid.isEmpty {
            report.imageGrid(grid, columns: 6, caption: members.count > shown.count ? "\(shown.count) of the \(members.count) members, evenly spaced" : "All \(members.count) members")
        }
        var counts: [Int: Int] = [:]
        for i in members { counts[o.predicted[i], default: 0] += 1 }
        let top = counts.keys.sorted { counts[$0]! != counts[$1]! ? counts[$0]! > counts[$1]! : $0 < $1 }.prefix(20)
        report.figure(Plot.bars(values: top.map { Double(counts[$0]!) }, labels: top.map(o.className), highlighted: [0],
                                title: "Predicted classes of the members", yLabel: "members", width: 560, height: 260))
        let units = zip(r.region.principalUnits, r.region.states).enumerated().map { i, pair -> [String] in
            let (c, y, x) = o.position(pair.0)
            return ["\(pair.0)", "\(c)", "\(y)", "\(x)", pair.1 ? "on" : "off", i < r.region.scores.count ? String(format: "%.3f", r.region.scores[i]) : ""]
        }
        report.table(headers: ["unit", "channel", "y", "x", "state", "score |p − q|"], rows: units, caption: "Principal units", numericColumns: [0, 1, 2, 3, 5])
    }

    func image(_ row: Int) -> Image? { try? outcome.dataset?.sample(at: row).image }

    func thumbnail(_ row: Int) -> Data? { try? image(row)?.fitted(width: Self.thumbnail, minimumWidth: 64).pngData() }

    /// The target with a frame around each principal unit's cell of the configuration layer's grid.
    func targetThumbnail(_ r: RDRSession.TargetRegion) -> Data? {
        guard let original = r.target.flatMap(image) ?? outcome.targetImage else { return nil }
        var picture = original.fitted(width: 160, minimumWidth: 160).converted(toChannels: 3)
        if outcome.unitShape.count == 3 {
            let (gh, gw) = (outcome.unitShape[1], outcome.unitShape[2])
            for (unit, state) in zip(r.region.principalUnits, r.region.states) {
                let (_, y, x) = outcome.position(unit)
                frame(&picture, x0: x * picture.width / gw, y0: y * picture.height / gh,
                      x1: (x + 1) * picture.width / gw - 1, y1: (y + 1) * picture.height / gh - 1,
                      colour: state ? (40, 200, 60) : (220, 40, 40))
            }
        }
        return try? picture.pngData()
    }

    func frame(_ image: inout Image, x0: Int, y0: Int, x1: Int, y1: Int, colour: (UInt8, UInt8, UInt8)) {
        func set(_ x: Int, _ y: Int) {
            guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
            let p = (y * image.width + x) * 3
            (image.pixels[p], image.pixels[p + 1], image.pixels[p + 2]) = colour
        }
        for x in x0...max(x0, x1) { set(x, y0); set(x, y1) }
        for y in y0...max(y0, y1) { set(x0, y); set(x1, y) }
    }

    /// Three decimals, or a dash for a missing or undefined value.
    static func f(_ v: Double?) -> String { v.map { $0.isNaN ? "–" : String(format: "%.3f", $0) } ?? "–" }
}

import Foundation
import NNRuntime

/// `interp roar`'s report: test accuracy against the removed fraction per method (mean and standard
/// deviation over runs, the base model at 0 %), the table behind it, and one test image as each
/// method's removal leaves it at every fraction.
struct ROARReport {
    let outcome: ROARSession.Outcome

    func build() -> Report {
        let o = outcome
        let name = o.kind == .roar ? "ROAR (most important removed)" : "KAR (least important removed)"
        var report = Report(title: "\(o.kind.rawValue.uppercased()): \(o.methods.joined(separator: ", "))",
                            subtitle: "model \(o.modelName) · \(o.runs) run(s) per method and fraction")
        report.section("Run")
        report.keyValues([("model", o.modelName), ("benchmark", name), ("base test accuracy", String(format: "%.4f", o.baseAccuracy)),
                          ("fractions", o.fractions.map { String(format: "%g%%", $0 * 100) }.joined(separator: ", ")), ("runs", "\(o.runs)")])
        report.section("Accuracy after retraining",
                       intro: o.kind == .roar ? "A better attribution method makes accuracy fall faster than the random baseline." : "A better attribution method keeps accuracy higher than the random baseline.")
        let xs = [0.0] + o.fractions.map { $0 * 100 }
        var series: [(name: String, points: [(Double, Double)])] = [], errors: [[Double]] = []
        for m in o.methods {
            let stats = o.fractions.indices.map { o.summary(m, $0) }
            series.append((name: m, points: zip(xs, [o.baseAccuracy] + stats.map(\.mean)).map { ($0, $1) }))
            errors.append([0] + stats.map(\.std))
        }
        report.figure(Plot.lines(series, title: "Test accuracy vs. fraction removed", xLabel: "pixels \(o.kind == .roar ? "removed (most important first)" : "removed (least important first)") (%)",
                                 yLabel: "test accuracy", errorBars: errors, width: 640, height: 420),
                      caption: "Means over runs with ± one standard deviation as error bars. 0 % is the base model.")
        report.table(headers: ["method"] + o.fractions.map { String(format: "%g%%", $0 * 100) },
                     rows: o.methods.map { m in [m] + o.fractions.indices.map { f in
                         let s = o.summary(m, f)
                         return String(format: "%.4f ± %.4f", s.mean, s.std)
                     } }, caption: "Test accuracy, mean ± standard deviation over runs", numericColumns: Set(1...o.fractions.count))
        if let original = o.original, let png = try? original.pngData() {
            report.section("What the retrained models see", intro: "The first test image, as each method's removal leaves it at every fraction.")
            for m in o.methods {
                let items = [ReportImage(png: png, caption: "original")] + zip(o.fractions, o.examples[m] ?? []).compactMap { f, image in
                    (try? image.pngData()).map { ReportImage(png: $0, caption: String(format: "%@ %g%%", m, f * 100)) }
                }
                report.imageGrid(items, columns: 6)
            }
        }
        return report
    }
}

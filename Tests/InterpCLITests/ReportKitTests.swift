import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import NNRuntime
@testable import InterpCLI

@Suite struct ReportKitTests {
    // MARK: - Helpers

    /// Parses `text` as XML; returns the parser's error message, or nil when it is well-formed.
    /// (On Linux `parse()` can return true for a mismatched end tag while still recording the
    /// error, so both are checked.)
    static func xmlError(_ text: String) -> String? {
        let parser = XMLParser(data: Data(text.utf8))
        let ok = parser.parse()
        if ok, parser.parserError == nil { return nil }
        return parser.parserError.map { "\($0)" } ?? "unknown XML error"
    }

    /// Every `<svg …>…</svg>` element of an HTML document.
    static func svgElements(_ html: String) -> [String] {
        var result: [String] = []
        var rest = html[...]
        while let start = rest.range(of: "<svg "), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            result.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return result
    }

    /// The `fill` of the `<rect>` whose tooltip is exactly `title`.
    static func fill(ofCellTitled title: String, in svg: String) -> String? {
        guard let t = svg.range(of: "><title>\(title)</title></rect>") else { return nil }
        let open = svg[..<t.lowerBound]
        guard let f = open.range(of: "fill=\"", options: .backwards) else { return nil }
        return String(open[f.upperBound...].prefix(7))
    }

    /// A 16×16 test image: a diagonal gradient tinted by `hue`, or a red/white checkerboard.
    static func png(_ hue: Int, checker: Bool = false) throws -> Data {
        var pixels: [UInt8] = []
        for y in 0..<16 {
            for x in 0..<16 {
                if checker {
                    let on = (x / 4 + y / 4) % 2 == 0
                    pixels += on ? [210, 40, 60] : [255, 255, 255]
                } else {
                    let v = UInt8((x + y) * 8)
                    pixels += [v, UInt8((hue * 37) % 256), 255 &- v]
                }
            }
        }
        return try Image(width: 16, height: 16, channels: 3, pixels: pixels).pngData()
    }

    // MARK: - Escaping and formatting

    @Test func textIsEscapedEverywhere() throws {
        #expect(ReportHTML.escape("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#39;")
        #expect(ReportHTML.escape("a\u{1}b") == "a\u{FFFD}b", "control characters would make the XML invalid")
        let nasty = "<b>&\"'"
        var report = Report(title: nasty, subtitle: nasty)
        report.section(nasty, intro: nasty)
        report.paragraph(nasty)
        report.keyValues([(nasty, nasty)])
        report.table(headers: [nasty], rows: [[nasty]], caption: nasty)
        report.figure(Plot.scatter(points: [(0, 0), (1, 1)], groups: [nasty, "b"], ids: [nasty, nasty], annotate: [0],
                                   title: nasty, xLabel: nasty, yLabel: nasty), caption: nasty)
        report.figure(Plot.bars(values: [1], labels: [nasty], title: nasty, yLabel: nasty))
        report.imageGrid([ReportImage(png: try Self.png(1), caption: nasty, id: nasty)], caption: nasty)
        let html = report.html()
        #expect(!html.contains("<b>"), "no caller text may become markup")
        #expect(html.contains("&lt;b&gt;&amp;&quot;&#39;"))
        #expect(Self.xmlError(html) == nil)
    }

    @Test func numbersAreCompact() {
        #expect(ReportNumber.compact(0.1 + 0.2) == "0.3")
        #expect(ReportNumber.compact(50000) == "50000")
        #expect(ReportNumber.compact(1234.5678) == "1235")
        #expect(ReportNumber.compact(0.0123456) == "0.01235")
        #expect(ReportNumber.compact(1.2e-5) == "1.2e-5")
        #expect(ReportNumber.compact(-2.5e7 + 0.5) == "-2.5e7")
        #expect(ReportNumber.compact(-0.0) == "0")
        #expect(ReportNumber.compact(.nan) == "NaN")
        #expect(ReportNumber.tick(0.1 + 0.2, step: 0.1) == "0.3")
        #expect(ReportNumber.tick(-0.0000001, step: 0.5) == "0.0")
        #expect(ReportNumber.tick(20, step: 5) == "20")
    }

    // MARK: - AxisTicks

    @Test(arguments: [(0.0, 10.0), (0.13, 0.87), (-3.0, 1234.0), (1e-6, 5e-6), (0.3, 0.7), (-1e9, -2e8), (99.0, 101.0)])
    func ticksAreOneTwoFiveStepsCoveringTheRange(_ range: (Double, Double)) {
        for target in [2, 5, 8] {
            let (ticks, step) = AxisTicks.covering(range.0, range.1, target: target)
            let mantissa = step / pow(10, floor(log10(step)))
            #expect([1.0, 2, 5].contains { abs($0 - mantissa) < 1e-9 }, "step \(step)")
            #expect(ticks.first! <= range.0 + step * 1e-9 && ticks.last! >= range.1 - step * 1e-9)
            #expect(ticks.first! > range.0 - step && ticks.last! < range.1 + step, "no more than one step of slack")
            #expect(ticks.count >= 2 && ticks.count <= max(3, target * 3 / 2 + 1))
            for (a, b) in zip(ticks, ticks.dropFirst()) { #expect(abs((b - a) - step) < step * 1e-6) }
        }
        #expect(AxisTicks.covering(0, 10, target: 5).values == [0, 2, 4, 6, 8, 10])
        #expect(AxisTicks.covering(-1, 10.5, target: 5).values == [-2, 0, 2, 4, 6, 8, 10, 12], "the data fill most of the axis")
        #expect(AxisTicks.within(0.13, 0.87, target: 4).values.map { ReportNumber.tick($0, step: 0.2) } == ["0.2", "0.4", "0.6", "0.8"])
        let constant = AxisTicks.extent([3, 3])
        #expect(abs(constant.lo - 2.7) < 1e-12 && abs(constant.hi - 3.3) < 1e-12, "a constant gets a range around it")
        #expect(AxisTicks.extent([Double.nan]) == (0, 1))
    }

    // MARK: - Plots

    @Test func scatterPlacesPointsAtTheHandComputedPixel() {
        // 640×480, no title (top margin 16), x label (bottom margin 50): the frame is y 16…430.
        // y ticks: 414 px / 70 → about 5 intervals over 0…10 → step 2 → labels "0"…"10"; the widest
        // is 2 × 11 px × 0.6 = 13.2 px, so the left margin is ⌈16 + 8 + 13.2 + 8⌉ = 46 and, with no
        // legend (one group), the frame is x 46…624. Data sit 8 px inside the frame:
        // x(2.5) = 54 + 2.5/10 × (616 − 54) = 194.5;  y(7.5) = 422 − 7.5/10 × (422 − 24) = 123.5.
        let svg = Plot.scatter(points: [(0, 0), (10, 10), (2.5, 7.5)], groups: ["n", "n", "n"], ids: ["a", "b", "c"]).markup
        #expect(svg.contains("<circle cx=\"194.5\" cy=\"123.5\" r=\"4.5\""))
        #expect(svg.contains("<circle cx=\"54\" cy=\"422\""), "(0, 0) at the lower-left data corner")
        #expect(svg.contains("<circle cx=\"616\" cy=\"24\""), "(10, 10) at the upper-right data corner")
        #expect(svg.contains("<title>c — n (2.5, 7.5)</title>"))
        #expect(!svg.contains("class=\"legend\""), "one group needs no legend")
        #expect(Self.xmlError(svg) == nil)
    }

    @Test func scatterDistinguishesOutliersAndStoresHoverImagesOnce() throws {
        let image = try Self.png(3), other = try Self.png(4, checker: true)
        let svg = Plot.scatter(points: [(0, 0), (1, 2), (2, 1), (5, 5)], groups: ["normal", "normal", "normal", "outlier"],
                               ids: ["0", "1", "2", "3"], hoverImages: [image, image, image, other], annotate: [3]).markup
        #expect(svg.components(separatedBy: "<image ").count - 1 == 2, "identical images are embedded once")
        #expect(svg.contains("<path d=\"M") && svg.contains("fill=\"\(ReportPalette.highlight)\""), "outliers: red diamonds")
        #expect(svg.contains("normal (3)") && svg.contains("outlier (1)"))
        #expect(svg.contains("data-hover=") && svg.contains("data-group=\"outlier\""))
        #expect(Self.xmlError(svg) == nil)
    }

    @Test func heatmapEndsUseTheColormapEnds() {
        let svg = Plot.heatmap([[0, 1], [2, 3]], rowLabels: ["r0", "r1"], columnLabels: ["c0", "c1"], title: "D").markup
        #expect(Self.fill(ofCellTitled: "r0 × c0: 0", in: svg) == ReportColormap.hex(0))
        #expect(Self.fill(ofCellTitled: "r1 × c1: 3", in: svg) == ReportColormap.hex(1))
        #expect(ReportColormap.hex(0) != ReportColormap.hex(1))
        // The map goes dark to light, as its lightness schedule says.
        let luma = { (c: ReportRGB) in 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b) }
        let samples = stride(from: 0.0, through: 1, by: 0.1).map { luma(ReportColormap.color($0)) }
        #expect(zip(samples, samples.dropFirst()).allSatisfy { $0 < $1 })
        // A reordering moves the labels with the rows.
        let reordered = Plot.heatmap([[0, 1], [2, 3]], rowLabels: ["r0", "r1"], columnLabels: ["c0", "c1"], order: [1, 0]).markup
        #expect(reordered.range(of: ">r1<")!.lowerBound < reordered.range(of: ">r0<")!.lowerBound)
        #expect(Self.xmlError(svg) == nil && Self.xmlError(reordered) == nil)
    }

    @Test func largeHeatmapsBecomeAnImage() {
        let n = 130
        let matrix = (0..<n).map { i in (0..<n).map { j in Double(abs(i - j)) } }
        let svg = Plot.heatmap(matrix, rowLabels: [], columnLabels: []).markup
        #expect(svg.contains("<image ") && !svg.contains("<title>0 × 0"))
        #expect(svg.count < 200_000)
        #expect(Self.xmlError(svg) == nil)
    }

    @Test func degenerateInputsDrawAndExplainThemselves() {
        let nan = Double.nan
        let cases: [(SVG, String)] = [
            (Plot.scatter(points: [], groups: [], ids: []), "no data"),
            (Plot.scatter(points: [(1, 1)], groups: ["a"], ids: ["x"]), "all x values are 1"),
            (Plot.scatter(points: [(nan, 1), (2, 3), (4, .infinity)], groups: ["a", "a", "b"], ids: ["p", "q", "r"]),
             "2 points with NaN or infinite coordinates skipped"),
            (Plot.scatter(points: [(1, 2), (3, 4)], groups: ["a"], ids: []), "1 group labels for 2 points"),
            (Plot.heatmap([], rowLabels: [], columnLabels: []), "no data"),
            (Plot.heatmap([[nan, nan]], rowLabels: ["a"], columnLabels: ["x", "y"]), "no data"),
            (Plot.heatmap([[1, nan], [2]], rowLabels: [], columnLabels: []), "2 NaN or infinite cells shown grey"),
            (Plot.heatmap([[5, 5], [5, 5]], rowLabels: [], columnLabels: []), "all values are 5"),
            (Plot.heatmap([[1, 2], [3, 4]], rowLabels: [], columnLabels: [], order: [0, 0]), "order ignored"),
            (Plot.lines([], xLabel: "x", yLabel: "y"), "no data"),
            (Plot.lines([("empty", []), ("one", [(0.5, 0.5)])], xLabel: "x", yLabel: "y", diagonal: true), "no points: empty"),
            (Plot.lines([("a", [(0, 0), (nan, 1), (1, 1)])], xLabel: "x", yLabel: "y"), "1 point with NaN"),
            (Plot.bars(values: [], labels: []), "no data"),
            (Plot.bars(values: [nan, 2, -1], labels: ["a", "b", "c"], highlighted: [7]), "1 NaN or infinite value skipped"),
            (Plot.bars(values: [3, 3, 3], labels: ["a"]), "1 labels for 3 bars"),
        ]
        for (svg, note) in cases {
            #expect(svg.markup.contains(note), "expected the note “\(note)”")
            #expect(svg.markup.contains("class=\"note\"") || note == "no data")
            #expect(Self.xmlError(svg.markup) == nil, "\(svg.markup.prefix(400))")
        }
        // Extreme magnitudes and tiny canvases still produce a drawable plot.
        for svg in [Plot.scatter(points: [(-1e308, 0), (1e308, 1e-300)], groups: ["a", "b"], ids: ["p", "q"]),
                    Plot.bars(values: [1e300, -1e300], labels: ["a", "b"]),
                    Plot.heatmap([[-Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude]], rowLabels: [], columnLabels: [])] {
            #expect(Self.xmlError(svg.markup) == nil)
        }
        #expect(Self.xmlError(Plot.lines([("a", [(0, 1), (1, 0)])], xLabel: "", yLabel: "", width: 10, height: 10).markup) == nil)
    }

    // MARK: - The document

    @Test func demoReportIsWellFormedAndDeterministic() throws {
        let report = try Self.demoReport()
        let html = report.html()
        #expect(Self.xmlError("<a><b></a>") != nil, "the checker itself rejects broken markup")
        #expect(Self.xmlError(html) == nil, "the whole document parses as XML")
        let svgs = Self.svgElements(html)
        #expect(svgs.count == 4)
        for svg in svgs { #expect(Self.xmlError(svg) == nil) }
        let withoutNamespaces = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/", with: "")
        #expect(!withoutNamespaces.contains("http:") && !html.contains("https:") && !html.contains("@import") && !html.contains("<link"),
                "nothing is fetched from the network")
        #expect(html == (try Self.demoReport()).html(), "same input, same bytes")
        #expect(html.contains("<th scope=\"col\" class=\"num\""), "numeric columns are marked for sorting and alignment")
        #expect(html.contains("href=\"#s-representation-atlas\""), "table of contents")

        // Where the visual check looks: INTERP_REPORT_DEMO=/tmp/report-demo/report.html swift test --filter ReportKitTests
        if let path = ProcessInfo.processInfo.environment["INTERP_REPORT_DEMO"] {
            try report.write(to: URL(fileURLWithPath: path))
        }
    }

    @Test func writeIsAtomicAndDeterministic() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("nested/report.html")
        var report = Report(title: "t")
        report.paragraph("first")
        try report.write(to: url)
        let first = try Data(contentsOf: url)
        try report.write(to: url)
        #expect(try Data(contentsOf: url) == first, "writing again gives the same bytes")
        report.paragraph("second")
        try report.write(to: url)
        #expect(String(decoding: try Data(contentsOf: url), as: UTF8.self) == report.html(), "replaced in place")
        let entries = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(entries == ["report.html"], "no temporary file left behind: \(entries)")
        // A target that cannot be replaced fails with a message naming it and leaves no temporary file.
        let blocker = folder.appendingPathComponent("dir.html")
        try FileManager.default.createDirectory(at: blocker.appendingPathComponent("child"), withIntermediateDirectories: true)
        #expect { try report.write(to: blocker) } throws: { "\($0)".contains("dir.html") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["dir.html", "nested"])
    }

    // MARK: - Demo

    /// A DORA-like report on made-up data: 60 neurons in an atlas with 3 outliers, a 20×20 distance
    /// matrix, 3 ROC curves, sorted outlier scores, a table and an image grid.
    static func demoReport() throws -> Report {
        var rng = SeededGenerator(seed: 7)
        let n = 60, outliers: Set<Int> = [11, 29, 47]
        var points: [(Double, Double)] = [], images: [Data] = []
        for i in 0..<n {
            let cluster = Double(i % 3)
            if outliers.contains(i) {
                points.append((9 + Double(rng.nextNormal()) * 0.8, -4 + cluster * 3 + Double(rng.nextNormal()) * 0.5))
                images.append(try png(i, checker: true))
            } else {
                points.append((cluster * 2.2 + Double(rng.nextNormal()) * 0.7, cluster * 1.5 + Double(rng.nextNormal()) * 0.7))
                images.append(try png(i))
            }
        }
        let groups = (0..<n).map { outliers.contains($0) ? "outlier" : "normal" }
        let ids = (0..<n).map { "neuron \($0)" }
        let m = 20
        let distances = (0..<m).map { i in (0..<m).map { j in
            ((points[i].0 - points[j].0) * (points[i].0 - points[j].0) + (points[i].1 - points[j].1) * (points[i].1 - points[j].1)).squareRoot()
        } }
        let order = (0..<m).sorted { points[$0].0 < points[$1].0 }
        let curves: [(name: String, points: [(Double, Double)])] = [(29, 2.0), (3, 0.8), (14, 0.2)].map { neuron, shift in
            let positives = (0..<200).map { _ in Double(rng.nextNormal()) + shift }
            let negatives = (0..<200).map { _ in Double(rng.nextNormal()) }
            let thresholds = (positives + negatives).sorted(by: >)
            var roc: [(Double, Double)] = [(0, 0)]
            for t in thresholds {
                roc.append((Double(negatives.filter { $0 >= t }.count) / 200, Double(positives.filter { $0 >= t }.count) / 200))
            }
            let auc = zip(roc, roc.dropFirst()).reduce(0.0) { $0 + ($1.1.0 - $1.0.0) * ($1.0.1 + $1.1.1) / 2 }
            return ("neuron \(neuron)\(outliers.contains(neuron) ? ", outlier" : "") (AUC \(ReportNumber.compact(auc)))", roc)
        }
        let scores = (0..<n).map { i in outliers.contains(i) ? 4 + Double(i % 5) * 0.3 : abs(Double(rng.nextNormal())) }
        let ranked = (0..<n).sorted { scores[$0] > scores[$1] }

        var report = Report(title: "DORA — demo_net layer4", subtitle: "60 neurons, 3 outliers (synthetic data for the report kit's visual check)")
        report.section("Run settings")
        report.keyValues([("model", "demo_net"), ("layer", "layer4"), ("neurons", "60"), ("s-AMS per neuron", "1"),
                          ("outlier detection", "isolation forest, contamination 0.05"), ("odd name", "<b>&\"'")])
        report.section("Representation atlas", intro: "2-D embedding of the EA distance matrix. Hover a point to see the neuron's s-AMS.")
        report.figure(Plot.scatter(points: points, groups: groups, ids: ids, hoverImages: images, annotate: outliers,
                                   title: "DORA atlas: demo_net layer4", xLabel: "UMAP 1", yLabel: "UMAP 2"),
                      caption: "Each point is a neuron; red diamonds are the outliers.")
        report.section("Distances")
        report.figure(Plot.heatmap(distances, rowLabels: (0..<m).map { "n\($0)" }, columnLabels: (0..<m).map { "n\($0)" },
                                   title: "EA distance, first 20 neurons", order: order),
                      caption: "Rows and columns ordered by the first embedding coordinate.")
        report.section("Artifact detection")
        report.figure(Plot.lines(curves, title: "ROC: activation predicts the watermark", xLabel: "false positive rate",
                                 yLabel: "true positive rate", diagonal: true))
        report.section("Outlier scores")
        report.figure(Plot.bars(values: ranked.map { scores[$0] }, labels: ranked.map { String($0) }, highlighted: [0, 1, 2],
                                title: "Outlier score per neuron", yLabel: "score"))
        report.table(headers: ["neuron", "type", "score", "x", "y"],
                     rows: ranked.prefix(12).map { [String($0), groups[$0], ReportNumber.compact(scores[$0]),
                                                    ReportNumber.compact(points[$0].0), ReportNumber.compact(points[$0].1)] },
                     caption: "Top 12 neurons by outlier score (click a header to sort)", numericColumns: [0, 2, 3, 4])
        report.section("Signals")
        report.imageGrid(ranked.prefix(12).map { ReportImage(png: images[$0], caption: ids[$0], highlighted: outliers.contains($0),
                                                             id: "sams-\($0)") },
                         columns: 6, caption: "s-AMS of the 12 highest-scoring neurons; outliers framed in red.")
        return report
    }

    /// Error bars span ± the given half-width around each point, with caps, and widen the y axis.
    @Test func errorBarsSpanTheirHalfWidth() {
        let plain = Plot.lines([("m", [(0, 0.5), (1, 0.6)])], xLabel: "x", yLabel: "y").markup
        let barred = Plot.lines([("m", [(0, 0.5), (1, 0.6)])], xLabel: "x", yLabel: "y", errorBars: [[0, 0.2]]).markup
        let lines = { (m: String) in m.components(separatedBy: "<line").count - 1 }
        // One bar (the first point has none): a vertical segment and two caps.
        #expect(lines(barred) == lines(plain) + 3)
        let nan = Plot.lines([("m", [(0, 0.5), (1, 0.6)])], xLabel: "x", yLabel: "y", errorBars: [[.nan, 0]]).markup
        #expect(lines(nan) == lines(plain))
    }
}

import Foundation

extension Plot {
    /// Named series drawn as lines, e.g. ROC curves of a few neurons or ROAR accuracy against the
    /// fraction of pixels removed.
    ///
    /// Without explicit ranges the axes run from 0 to 1 when all data lies there (ROC and
    /// accuracy plots compare better on a fixed square) and otherwise cover the data with nice
    /// ticks. Lines are clipped to the plot, so an explicit range may cut them. A NaN or infinite
    /// point breaks its line and is counted in a note; an empty series is noted and left out of the
    /// legend. `diagonal` adds the dashed y = x reference line (a random classifier's ROC curve).
    ///
    /// `errorBars`, when given, holds one half-width per point of each series (0 or NaN: none) and
    /// draws a capped vertical bar of ± that value, e.g. a standard deviation over runs.
    public static func lines(_ series: [(name: String, points: [(Double, Double)])], title: String? = nil,
                             xLabel: String, yLabel: String, diagonal: Bool = false,
                             xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                             errorBars: [[Double]]? = nil, width: Int = 560, height: Int = 420) -> SVG {
        var canvas = SVGCanvas(width: width, height: height)
        let finite = { (p: (Double, Double)) in p.0.isFinite && p.1.isFinite }
        let skipped = series.reduce(0) { $0 + $1.points.filter { !finite($0) }.count }
        if skipped > 0 { canvas.notes.append(SVGElement.count(skipped, "point", "points") + " with NaN or infinite values skipped") }
        let empty = series.filter { !$0.points.contains(where: finite) }.map(\.name)
        if !empty.isEmpty { canvas.notes.append("no points: " + empty.joined(separator: ", ")) }
        let drawn = series.enumerated().filter { $0.element.points.contains(where: finite) }
        if drawn.isEmpty, empty.isEmpty { canvas.notes.append("no data to plot") }

        let bar = { (k: Int, i: Int) -> Double in
            guard let e = errorBars, k < e.count, i < e[k].count, e[k][i].isFinite, e[k][i] > 0 else { return 0 }
            return e[k][i]
        }
        let all = drawn.flatMap { entry in
            entry.element.points.enumerated().filter { finite($0.element) }.flatMap { i, p in
                [p, (p.0, p.1 - bar(entry.offset, i)), (p.0, p.1 + bar(entry.offset, i))]
            }
        }
        func axisTicks(_ values: [Double], _ range: ClosedRange<Double>?,
                       target: Int) -> (values: [Double], step: Double, lo: Double, hi: Double) {
            let unit = values.allSatisfy { (0...1).contains($0) }
            if let range = range ?? (unit ? 0...1 : nil) {
                let (lo, hi) = AxisTicks.widen(range.lowerBound, range.upperBound)
                let t = AxisTicks.within(lo, hi, target: target)
                return (t.values, t.step, lo, hi)
            }
            let e = AxisTicks.extent(values)
            let t = AxisTicks.covering(e.lo, e.hi, target: target)
            return (t.values, t.step, t.values.first!, t.values.last!)
        }

        let legend = drawn.map(\.element.name)
        let top = PlotLayout.top(title: title)
        let bottom = Double(canvas.height) - PlotLayout.bottom(xLabel: xLabel, notes: canvas.notes.count)
        let y = axisTicks(all.map(\.1), yRange, target: max(2, Int((bottom - top) / 60)))
        let left = PlotLayout.left(yLabel: yLabel, tickLabels: y.values.map { ReportNumber.tick($0, step: y.step) })
        // With the diagonal (ROC curves) the lower right corner is empty: the legend goes there.
        let right = Double(canvas.width) - 16 - PlotLayout.legendWidth(legend.count > 1 && !diagonal ? legend : [])
        let frame = PlotFrame(left: left, top: top, right: max(right, left + 40), bottom: max(bottom, top + 40))
        let x = axisTicks(all.map(\.0), xRange, target: max(2, Int(frame.width / 70)))
        let xAxis = PlotAxis(scale: PlotScale(lo: x.lo, hi: x.hi, start: frame.left, end: frame.right), ticks: x.values, step: x.step)
        let yAxis = PlotAxis(scale: PlotScale(lo: y.lo, hi: y.hi, start: frame.bottom, end: frame.top), ticks: y.values, step: y.step)

        guard !drawn.isEmpty else {
            AxesDrawing.empty(into: &canvas, frame: frame)
            return canvas.finish(title: title)
        }
        AxesDrawing.draw(into: &canvas, frame: frame, x: xAxis, y: yAxis, xLabel: xLabel, yLabel: yLabel, verticalGrid: true)

        var hash = ReportHash()
        for s in series { hash.add(s.name); for p in s.points { hash.add(p.0); hash.add(p.1) } }
        for s in [title ?? "", xLabel, yLabel] { hash.add(s) }
        let clip = hash.id + "-clip"
        // The clip rectangle leaves room for half a stroke so curves along the frame stay visible.
        let clipBox = SVGElement.rect(frame.left - 2, frame.top - 2, frame.width + 4, frame.height + 4, fill: "#000")
        canvas.add("<defs><clipPath id=\"\(clip)\">" + clipBox + "</clipPath></defs>")
        var g = "<g clip-path=\"url(#\(clip))\">"
        if diagonal {
            let a = max(x.lo, y.lo), b = min(x.hi, y.hi)
            if a < b {
                g += SVGElement.line(xAxis.scale(a), yAxis.scale(a), xAxis.scale(b), yAxis.scale(b),
                                     stroke: "#999", width: 1.2, dash: "5 4")
            }
        }
        for (k, entry) in drawn.enumerated() {
            // Split at non-finite points: each finite run is its own polyline.
            var runs: [[(Double, Double)]] = [[]]
            for p in entry.element.points {
                if finite(p) { runs[runs.count - 1].append(p) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            g += "<g class=\"series\" stroke=\"\(ReportPalette.color(k))\"><title>\(ReportHTML.escape(entry.element.name))</title>"
            for run in runs where !run.isEmpty {
                if run.count == 1 {
                    let (cx, cy) = (ReportNumber.px(xAxis.scale(run[0].0)), ReportNumber.px(yAxis.scale(run[0].1)))
                    g += "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"3\" fill=\"\(ReportPalette.color(k))\"/>"
                    continue
                }
                let coords = run.map { "\(ReportNumber.px(xAxis.scale($0.0))),\(ReportNumber.px(yAxis.scale($0.1)))" }
                g += "<polyline fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\" "
                g += "points=\"\(coords.joined(separator: " "))\"/>"
            }
            for (i, p) in entry.element.points.enumerated() where finite(p) && bar(entry.offset, i) > 0 {
                let (cx, e) = (xAxis.scale(p.0), bar(entry.offset, i))
                let (lo, hi) = (yAxis.scale(p.1 - e), yAxis.scale(p.1 + e))
                g += SVGElement.line(cx, lo, cx, hi, stroke: ReportPalette.color(k), width: 1.4)
                g += SVGElement.line(cx - 4, lo, cx + 4, lo, stroke: ReportPalette.color(k), width: 1.4)
                g += SVGElement.line(cx - 4, hi, cx + 4, hi, stroke: ReportPalette.color(k), width: 1.4)
            }
            g += "</g>\n"
        }
        canvas.add(g + "</g>")
        if legend.count > 1 {
            AxesDrawing.legend(into: &canvas, frame: frame, entries: legend, inside: diagonal) { k, cx, cy in
                SVGElement.line(cx - 8, cy, cx + 8, cy, stroke: ReportPalette.color(k), width: 2.5)
            }
        }
        return canvas.finish(title: title)
    }

    /// Vertical bars, one per value, e.g. the outlier score of every neuron sorted descending.
    ///
    /// Bars grow from zero (so negative values point down); `highlighted` bars are drawn in the
    /// highlight red and the rest in a muted blue, which makes a handful of outliers among hundreds
    /// of neurons stand out. Labels are written under the bars when there is room, rotated when
    /// they do not fit side by side, and thinned to every k-th one when bars are too narrow. Each
    /// bar's `<title>` gives its label and value. NaN values leave an empty slot and a note.
    public static func bars(values: [Double], labels: [String], highlighted: Set<Int> = [], title: String? = nil,
                            yLabel: String = "", width: Int = 720, height: Int = 320) -> SVG {
        var canvas = SVGCanvas(width: width, height: height)
        let n = values.count
        let label = { (i: Int) in i < labels.count ? labels[i] : String(i) }
        if labels.count != n { canvas.notes.append("\(labels.count) labels for \(n) bars") }
        let skipped = values.filter { !$0.isFinite }.count
        if skipped > 0 { canvas.notes.append(SVGElement.count(skipped, "NaN or infinite value", "NaN or infinite values") + " skipped") }
        if n == skipped { canvas.notes.append("no data to plot") }

        let top = PlotLayout.top(title: title)
        // Provisional frame width to decide how labels fit (the left margin is refined below).
        let roughSlot = (Double(canvas.width) - 70) / Double(max(n, 1))
        // Horizontal labels when they fit their bar, shortened to the bar's width when bars are
        // wide enough for a few characters; otherwise vertical labels of at most 14 characters.
        let fullWidest = (0..<n).map { PlotLayout.textWidth(label($0), size: PlotLayout.tickFont) }.max() ?? 0
        let horizontal = fullWidest + 4 <= roughSlot || roughSlot >= 48
        let maxChars = horizontal ? Int((roughSlot - 4) / (PlotLayout.tickFont * PlotLayout.charWidth)) : 14
        let shown = (0..<n).map { PlotLayout.shorten(label($0), maxChars: maxChars) }
        let widest = shown.map { PlotLayout.textWidth($0, size: PlotLayout.tickFont) }.max() ?? 0
        // Otherwise labels run vertically, one per bar while a bar is at least 9 px wide (with a font
        // that fits the bar), else every k-th label at 9.5 px.
        let every = horizontal || roughSlot >= 9 ? 1 : Int(ceil(10 / roughSlot))
        let font = horizontal ? PlotLayout.tickFont : min(PlotLayout.tickFont, max(9.5, roughSlot * 0.95))
        let tallest = shown.map { PlotLayout.textWidth($0, size: font) }.max() ?? 0
        let labelBand = n == 0 ? 10 : horizontal ? 24 : ceil(tallest + 14)
        let bottom = Double(canvas.height) - labelBand - Double(canvas.notes.count) * PlotLayout.noteLine - 6

        let finiteValues = values.filter(\.isFinite)
        let extent = AxisTicks.extent(finiteValues + [0])
        let yt = AxisTicks.covering(extent.lo, extent.hi, target: max(2, Int((bottom - top) / 55)))
        let left = PlotLayout.left(yLabel: yLabel, tickLabels: yt.values.map { ReportNumber.tick($0, step: yt.step) })
        let frame = PlotFrame(left: left, top: top, right: max(Double(canvas.width) - 16, left + 40), bottom: max(bottom, top + 40))
        let yAxis = PlotAxis(scale: PlotScale(lo: yt.values.first!, hi: yt.values.last!, start: frame.bottom, end: frame.top),
                         ticks: yt.values, step: yt.step)
        guard n > skipped else {
            AxesDrawing.empty(into: &canvas, frame: frame)
            return canvas.finish(title: title)
        }
        AxesDrawing.draw(into: &canvas, frame: frame, x: nil, y: yAxis, xLabel: "", yLabel: yLabel, verticalGrid: false)

        let slot = frame.width / Double(n)
        let gap = slot >= 4 ? slot * 0.18 : 0
        let zero = yAxis.scale(0)
        var g = "<g class=\"bars\" shape-rendering=\"crispEdges\">"
        for (i, v) in values.enumerated() where v.isFinite {
            let y = yAxis.scale(v)
            let fill = highlighted.contains(i) ? ReportPalette.highlight : ReportPalette.muted
            g += SVGElement.rect(frame.left + Double(i) * slot + gap / 2, min(y, zero), max(slot - gap, 0.5), max(abs(zero - y), 0.5),
                         fill: fill, title: "\(label(i)): \(ReportNumber.compact(v))") + "\n"
        }
        canvas.add(g + "</g>")
        if yAxis.ticks.first! < 0 { canvas.add(SVGElement.line(frame.left, zero, frame.right, zero, stroke: ReportPalette.axis)) }

        // Highlighted bars are labelled first; the every-k-th labels fill in where they do not
        // collide with one already chosen.
        let minimumGap = horizontal ? widest + 4 : font * 1.05
        var labelled: [Int] = []
        let candidates = highlighted.filter { (0..<n).contains($0) }.sorted() + Array(stride(from: 0, to: n, by: every))
        for i in candidates where !labelled.contains(where: { $0 == i || Double(abs($0 - i)) * slot < minimumGap * 0.999 }) {
            labelled.append(i)
        }
        var text = "<g class=\"bar-labels\">"
        for i in labelled.sorted() {
            let cx = frame.left + (Double(i) + 0.5) * slot
            let emphasis = highlighted.contains(i)
            let fill = emphasis ? ReportPalette.highlight : ReportPalette.axis
            if horizontal {
                text += SVGElement.text(cx, frame.bottom + 16, shown[i], anchor: "middle", weight: emphasis ? "600" : nil, fill: fill)
            } else {
                text += SVGElement.text(cx, frame.bottom + 6, shown[i], anchor: "end", size: font, weight: emphasis ? "600" : nil,
                                fill: fill, rotate: -90, baseline: "middle")
            }
        }
        canvas.add(text + "</g>")
        return canvas.finish(title: title)
    }
}

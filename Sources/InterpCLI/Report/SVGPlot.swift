import Foundation

/// A finished, standalone `<svg>` element.
///
/// Plots are values rather than drawing calls on a report so that a method can build one, save it
/// next to its `result.json`, and embed the same markup in `report.html`. The markup declares the
/// SVG namespace, a white background and its own fonts, so it also renders correctly on its own.
public struct SVG: Sendable, Equatable {
    public let markup: String
    public init(markup: String) { self.markup = markup }
}

/// Static SVG charts for reports: scatter, heatmap, lines and bars.
///
/// Each function takes plain arrays, never throws, and always returns a drawable chart: NaN and
/// infinite values are skipped and counted in a note under the plot, empty input gives an empty
/// frame saying "no data", and constant data gets a small range around the constant. Text is
/// escaped, numbers are formatted compactly and identically on every run.
public enum Plot {}

/// Nice axis ticks: steps of 1, 2 or 5 times a power of ten.
///
/// People read axes by interpolating between labels, which is only easy when labels are round
/// numbers; the 1-2-5 sequence is the coarsest one that still lets the number of ticks follow the
/// space available.
enum AxisTicks {
    /// A finite, non-empty interval containing the finite values in `values` (NaN and infinities are
    /// ignored). A constant is widened by 10% of its magnitude (±1 around zero) so it can be placed on
    /// an axis; no finite value at all gives 0…1.
    static func extent<S: Sequence>(_ values: S) -> (lo: Double, hi: Double) where S.Element == Double {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite { lo = min(lo, v); hi = max(hi, v) }
        return widen(lo, hi)
    }

    /// `lo…hi` made usable: empty or reversed → 0…1, zero width → widened around the value.
    static func widen(_ lo: Double, _ hi: Double) -> (lo: Double, hi: Double) {
        guard lo.isFinite, hi.isFinite, lo <= hi else { return (0, 1) }
        if hi > lo { return (lo, hi) }
        let half = lo == 0 ? 1 : abs(lo) * 0.1
        return (lo - half, hi + half)
    }

    /// The 1-2-5 step that divides `lo…hi` into at most about `target` intervals.
    static func step(_ lo: Double, _ hi: Double, target: Int) -> Double {
        let span = hi - lo
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(1, target))
        let magnitude = pow(10, floor(log10(raw)))
        for m in [1.0, 2, 5] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// Ticks covering `lo…hi`: the first is ≤ `lo`, the last ≥ `hi`, consecutive ticks are one
    /// 1-2-5 step apart. Use the first and last tick as the axis domain so the data ends on labels.
    ///
    /// Among the 1-2-5 steps near `(hi − lo) / target`, the one chosen makes the data fill most of
    /// the axis (an axis from −5 to 15 for data in −1…10.5 leaves 42% of the plot empty, −2…12 only 18%)
    /// while keeping the number of intervals close to `target` and at most 1.5 × `target`.
    static func covering(_ lo: Double, _ hi: Double, target: Int) -> (values: [Double], step: Double) {
        let (lo, hi) = widen(lo, hi)
        let target = max(1, target)
        let span = hi - lo
        let base = step(lo, hi, target: target)
        guard span.isFinite, span > 0 else { return ([lo, hi], 1) }
        let magnitude = pow(10, floor(log10(base) + 1e-9))
        var best: (score: Double, first: Int, last: Int, step: Double)?
        for m in [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50] {
            let s = m * magnitude
            // Indices must fit an Int; relative spans near double precision fall back to lo…hi.
            guard abs(lo / s) < 1e15, abs(hi / s) < 1e15 else { continue }
            // The tolerance keeps 0.3/0.1 = 2.9999999999999996 from adding a tick below 0.3.
            let first = Int(floor(lo / s + 1e-9)), last = max(Int(ceil(hi / s - 1e-9)), first + 1)
            let intervals = last - first
            guard intervals <= max(2, target * 3 / 2) else { continue }
            let score = span / (Double(intervals) * s) - 0.1 * Double(abs(intervals - target)) / Double(target)
            if best == nil || score > best!.score + 1e-12 { best = (score, first, last, s) }
        }
        guard let best else { return ([lo, hi], span) }
        return ((best.first...best.last).map { Double($0) * best.step }, best.step)
    }

    /// Ticks inside `lo…hi` (for colour bars, whose ends are the data's minimum and maximum).
    static func within(_ lo: Double, _ hi: Double, target: Int) -> (values: [Double], step: Double) {
        let (lo, hi) = widen(lo, hi)
        let step = step(lo, hi, target: target)
        guard (hi - lo).isFinite, abs(lo / step) < 1e15, abs(hi / step) < 1e15 else { return ([lo, hi], hi - lo) }
        let first = Int(ceil(lo / step - 1e-9)), last = Int(floor(hi / step + 1e-9))
        guard first <= last else { return ([], step) }
        return ((first...last).map { Double($0) * step }, step)
    }
}

/// Maps data values linearly onto pixels; `start` is where `lo` lands (for a y axis that is the
/// bottom of the plot, since SVG's y grows downwards).
struct PlotScale {
    var lo: Double, hi: Double, start: Double, end: Double

    func callAsFunction(_ v: Double) -> Double {
        hi == lo ? (start + end) / 2 : start + (v - lo) / (hi - lo) * (end - start)
    }
}

/// One axis as drawn: its scale and its labelled ticks.
struct PlotAxis {
    var scale: PlotScale
    var ticks: [Double]
    var step: Double
    var labels: [String] { ticks.map { ReportNumber.tick($0, step: step) } }
}

/// The rectangle the data is drawn in, in SVG pixels.
struct PlotFrame {
    var left: Double, top: Double, right: Double, bottom: Double
    var width: Double { right - left }
    var height: Double { bottom - top }
}

/// Fixed layout constants, shared so every chart in a report lines up the same way.
enum PlotLayout {
    static let tickFont = 11.0
    static let labelFont = 12.0
    static let titleFont = 14.0
    /// Average advance of a character as a fraction of the font size (system sans-serif, digits).
    static let charWidth = 0.6
    static let noteLine = 15.0

    static func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * charWidth }

    /// Space above the plot: room for a title, or a small gap without one.
    static func top(title: String?) -> Double { title == nil ? 16 : 40 }
    /// Space below the plot: tick labels, the axis label, then one line per note.
    static func bottom(xLabel: String, notes: Int) -> Double {
        (xLabel.isEmpty ? 30 : 50) + Double(notes) * noteLine
    }
    /// Space left of the plot: the rotated axis label plus the widest tick label, rounded up to a
    /// whole pixel so hand-computed positions in tests stay simple.
    static func left(yLabel: String, tickLabels: [String]) -> Double {
        let widest = tickLabels.map { textWidth($0, size: tickFont) }.max() ?? 0
        return ceil((yLabel.isEmpty ? 0 : 16) + 8 + widest + 8)
    }
    /// Width of a legend placed right of the plot (0 without one).
    static func legendWidth(_ entries: [String]) -> Double {
        guard !entries.isEmpty else { return 0 }
        let widest = entries.map { textWidth($0, size: tickFont) }.max() ?? 0
        return ceil(min(legendMax, 30 + widest + 8))
    }
    /// The widest a legend may get; longer entries are shortened.
    static let legendMax = 250.0

    /// `text` cut to `maxChars` characters with an ellipsis in the middle.
    static func shorten(_ text: String, maxChars: Int) -> String {
        guard text.count > maxChars, maxChars >= 3 else { return text }
        let head = (maxChars - 1) * 11 / 20, tail = maxChars - 1 - head
        return String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }
}

/// Accumulates SVG elements and wraps them in the root element.
struct SVGCanvas {
    let width: Int
    /// Charts whose content ends up shorter than planned (a square heatmap in a tall box) trim it.
    var height: Int
    private(set) var parts: [String] = []
    /// Remarks about the input (skipped NaNs, empty series), printed under the plot.
    var notes: [String] = []

    init(width: Int, height: Int) {
        self.width = max(120, width)
        self.height = max(100, height)
    }

    mutating func add(_ element: String) { parts.append(element) }

    /// The finished SVG; `title` also becomes the SVG's accessible name.
    func finish(title: String?) -> SVG {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"\(width)\" height=\"\(height)\" "
        s += "viewBox=\"0 0 \(width) \(height)\" role=\"img\" font-size=\"\(ReportNumber.px(PlotLayout.tickFont))\" "
        s += "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif\">\n"
        if let title { s += "<title>\(ReportHTML.escape(title))</title>\n" }
        s += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#fff\"/>\n"
        if let title {
            s += SVGElement.text(Double(width) / 2, 24, title, anchor: "middle", size: PlotLayout.titleFont, weight: "600") + "\n"
        }
        for part in parts { s += part; s += "\n" }
        for (i, note) in notes.enumerated() {
            let y = Double(height) - 8 - Double(notes.count - 1 - i) * PlotLayout.noteLine
            s += SVGElement.text(8, y, note, fill: ReportPalette.faint, cls: "note", italic: true) + "\n"
        }
        s += "</svg>"
        return SVG(markup: s)
    }
}

/// Element constructors. Attribute values are escaped; coordinates are rounded to 0.01 px.
enum SVGElement {
    static func text(_ x: Double, _ y: Double, _ string: String, anchor: String = "start", size: Double? = nil,
                     weight: String? = nil, fill: String? = nil, rotate: Double? = nil, cls: String? = nil,
                     italic: Bool = false, baseline: String? = nil, extra: String = "") -> String {
        var s = "<text x=\"\(ReportNumber.px(x))\" y=\"\(ReportNumber.px(y))\""
        if anchor != "start" { s += " text-anchor=\"\(anchor)\"" }
        if let size { s += " font-size=\"\(ReportNumber.px(size))\"" }
        if let weight { s += " font-weight=\"\(weight)\"" }
        if italic { s += " font-style=\"italic\"" }
        if let baseline { s += " dominant-baseline=\"\(baseline)\"" }
        s += " fill=\"\(fill ?? ReportPalette.text)\""
        if let cls { s += " class=\"\(cls)\"" }
        if let rotate {
            s += " transform=\"rotate(\(ReportNumber.px(rotate)) \(ReportNumber.px(x)) \(ReportNumber.px(y)))\""
        }
        return s + extra + ">\(ReportHTML.escape(string))</text>"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                     width: Double = 1, dash: String? = nil) -> String {
        var s = "<line x1=\"\(ReportNumber.px(x1))\" y1=\"\(ReportNumber.px(y1))\" x2=\"\(ReportNumber.px(x2))\" "
        s += "y2=\"\(ReportNumber.px(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(ReportNumber.px(width))\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        return s + "/>"
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, title: String? = nil,
                     extra: String = "") -> String {
        let open = "<rect x=\"\(ReportNumber.px(x))\" y=\"\(ReportNumber.px(y))\" width=\"\(ReportNumber.px(w))\" "
            + "height=\"\(ReportNumber.px(h))\" fill=\"\(fill)\"\(extra)"
        guard let title else { return open + "/>" }
        return open + "><title>\(ReportHTML.escape(title))</title></rect>"
    }

    /// Pluralised count notes such as "3 NaN values skipped".
    static func count(_ n: Int, _ singular: String, _ plural: String) -> String {
        "\(n) \(n == 1 ? singular : plural)"
    }
}

/// Axes, grid and frame drawing shared by the x/y charts.
enum AxesDrawing {
    /// Light grid lines at the ticks (behind the data), then the left and bottom axis lines with
    /// outward tick marks and labels, then the axis titles. `x == nil` draws no x ticks (bar charts
    /// label their categories themselves).
    static func draw(into canvas: inout SVGCanvas, frame: PlotFrame, x: PlotAxis?, y: PlotAxis,
                     xLabel: String, yLabel: String, verticalGrid: Bool) {
        var grid: [String] = []
        for v in y.ticks {
            let py = y.scale(v)
            grid.append(SVGElement.line(frame.left, py, frame.right, py, stroke: ReportPalette.grid))
        }
        if let x, verticalGrid {
            for v in x.ticks {
                let px = x.scale(v)
                grid.append(SVGElement.line(px, frame.top, px, frame.bottom, stroke: ReportPalette.grid))
            }
        }
        canvas.add("<g class=\"grid\">" + grid.joined() + "</g>")

        var axes: [String] = []
        axes.append(SVGElement.line(frame.left, frame.top, frame.left, frame.bottom, stroke: ReportPalette.axis))
        axes.append(SVGElement.line(frame.left, frame.bottom, frame.right, frame.bottom, stroke: ReportPalette.axis))
        for (v, label) in zip(y.ticks, y.labels) {
            let py = y.scale(v)
            axes.append(SVGElement.line(frame.left - 4, py, frame.left, py, stroke: ReportPalette.axis))
            axes.append(SVGElement.text(frame.left - 7, py, label, anchor: "end", fill: ReportPalette.axis, baseline: "middle"))
        }
        if let x {
            for (v, label) in zip(x.ticks, x.labels) {
                let px = x.scale(v)
                axes.append(SVGElement.line(px, frame.bottom, px, frame.bottom + 4, stroke: ReportPalette.axis))
                axes.append(SVGElement.text(px, frame.bottom + 17, label, anchor: "middle", fill: ReportPalette.axis))
            }
        }
        if !xLabel.isEmpty {
            axes.append(SVGElement.text((frame.left + frame.right) / 2, frame.bottom + 38, xLabel, anchor: "middle",
                                size: PlotLayout.labelFont))
        }
        if !yLabel.isEmpty {
            let cy = (frame.top + frame.bottom) / 2
            axes.append(SVGElement.text(14, cy, yLabel, anchor: "middle", size: PlotLayout.labelFont, rotate: -90))
        }
        canvas.add("<g class=\"axes\">" + axes.joined() + "</g>")
    }

    /// "no data" in the middle of an empty frame.
    static func empty(into canvas: inout SVGCanvas, frame: PlotFrame) {
        canvas.add(SVGElement.rect(frame.left, frame.top, frame.width, frame.height, fill: "#fafafa",
                           extra: " stroke=\"\(ReportPalette.grid)\""))
        canvas.add(SVGElement.text((frame.left + frame.right) / 2, (frame.top + frame.bottom) / 2, "no data",
                           anchor: "middle", size: PlotLayout.labelFont, fill: ReportPalette.faint, baseline: "middle"))
    }

    /// A vertical legend: a swatch (drawn by `swatch` at the given centre) and a label per entry.
    /// Outside, it sits right of the frame in the space ``PlotLayout/legendWidth(_:)`` reserved;
    /// `inside` puts it in a boxed corner at the frame's lower right instead (where ROC curves
    /// never go), leaving the whole width to the data. Labels too long to fit are shortened in
    /// the middle, so the end, which usually carries the number (`… (AUC 0.934)`), stays.
    static func legend(into canvas: inout SVGCanvas, frame: PlotFrame, entries: [String], inside: Bool = false,
                       swatch: (Int, Double, Double) -> String) {
        guard !entries.isEmpty else { return }
        let maxWidth = inside ? min(PlotLayout.legendMax, frame.width * 0.75) : PlotLayout.legendMax
        let maxChars = max(4, Int((maxWidth - 38) / (PlotLayout.tickFont * PlotLayout.charWidth)))
        let shown = entries.map { PlotLayout.shorten($0, maxChars: maxChars) }
        var g = "<g class=\"legend\">"
        var x = frame.right + 16, y0 = frame.top + 10
        if inside {
            let width = ceil(min(maxWidth, 30 + (shown.map { PlotLayout.textWidth($0, size: PlotLayout.tickFont) }.max() ?? 0) + 4))
            let height = Double(entries.count) * 20 + 4
            let (bx, by) = (frame.right - width - 8, frame.bottom - height - 8)
            g += SVGElement.rect(bx, by, width, height, fill: "#fff", extra: " fill-opacity=\"0.92\" stroke=\"#d5d9df\" rx=\"4\"")
            x = bx + 2
            y0 = by + 12
        }
        for (i, entry) in entries.enumerated() {
            let y = y0 + Double(i) * 20
            g += swatch(i, x + 6, y)
            if shown[i] != entry {
                g += "<g>" + SVGElement.text(x + 18, y, shown[i], baseline: "middle") + "<title>\(ReportHTML.escape(entry))</title></g>"
            } else {
                g += SVGElement.text(x + 18, y, entry, baseline: "middle")
            }
        }
        canvas.add(g + "</g>")
    }
}

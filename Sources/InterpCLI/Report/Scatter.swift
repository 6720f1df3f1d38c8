import Foundation

extension Plot {
    /// A scatter plot of labelled, grouped points, e.g. DORA's 2-D atlas of neurons.
    ///
    /// Each group gets its own colour; a group whose name contains "outlier" (or "anomal") is drawn
    /// in the highlight red with a larger diamond marker and on top of the others, because in an
    /// atlas the few outliers are what the reader is looking for. Every point carries a `<title>`
    /// tooltip (`id — group (x, y)`), which works in any SVG viewer. When `hoverImages` holds one
    /// PNG per point, the report's script shows that image with the id and group in a floating panel
    /// while the pointer is over the point (the interactive tooltip of DORA's original Dash app);
    /// identical images are stored once, as data URIs in the SVG's `<defs>`.
    ///
    /// - Parameters:
    ///   - points: `(x, y)` per point; points with a NaN or infinite coordinate are skipped and
    ///     counted in a note.
    ///   - groups: the group of each point (legend shown when there are two or more groups).
    ///   - ids: the label of each point (tooltip; drawn as text for the indices in `annotate`).
    ///   - hoverImages: optional PNG bytes per point.
    ///   - annotate: indices of points whose id is written next to them.
    public static func scatter(points: [(Double, Double)], groups: [String], ids: [String], hoverImages: [Data]? = nil,
                               annotate: Set<Int> = [], title: String? = nil, xLabel: String = "x",
                               yLabel: String = "y", width: Int = 640, height: Int = 480) -> SVG {
        var canvas = SVGCanvas(width: width, height: height)
        let n = points.count
        let group = { (i: Int) in i < groups.count ? groups[i] : "" }
        let id = { (i: Int) in i < ids.count ? ids[i] : String(i) }
        if groups.count != n { canvas.notes.append("\(groups.count) group labels for \(n) points") }
        if ids.count != n { canvas.notes.append("\(ids.count) ids for \(n) points") }
        if let hoverImages, hoverImages.count != n {
            canvas.notes.append("\(hoverImages.count) hover images for \(n) points")
        }

        let valid = (0..<n).filter { points[$0].0.isFinite && points[$0].1.isFinite }
        if valid.count < n {
            canvas.notes.append(SVGElement.count(n - valid.count, "point", "points") + " with NaN or infinite coordinates skipped")
        }
        if valid.isEmpty { canvas.notes.append("no data to plot") }

        // Groups in order of first appearance, so the legend and colours do not depend on hashing.
        var names: [String] = [], indexOf: [String: Int] = [:], counts: [Int] = []
        for i in valid {
            let g = group(i)
            if let k = indexOf[g] { counts[k] += 1 } else { indexOf[g] = names.count; names.append(g); counts.append(1) }
        }
        let styles = groupStyles(names)

        let xs = valid.map { points[$0].0 }, ys = valid.map { points[$0].1 }
        let xExtent = AxisTicks.extent(xs), yExtent = AxisTicks.extent(ys)
        if !valid.isEmpty, xs.allSatisfy({ $0 == xs[0] }) { canvas.notes.append("all x values are \(ReportNumber.compact(xs[0]))") }
        if !valid.isEmpty, ys.allSatisfy({ $0 == ys[0] }) { canvas.notes.append("all y values are \(ReportNumber.compact(ys[0]))") }

        // Layout: vertical first (y ticks depend on the height), then the left margin from the y
        // tick labels, then the x ticks from the remaining width.
        let pad = 8.0
        let legend = names.count > 1 ? zip(names, counts).map { "\($0.isEmpty ? "(none)" : $0) (\($1))" } : []
        let top = PlotLayout.top(title: title)
        let bottom = Double(canvas.height) - PlotLayout.bottom(xLabel: xLabel, notes: canvas.notes.count)
        let yTicks = AxisTicks.covering(yExtent.lo, yExtent.hi, target: max(2, Int((bottom - top) / 70)))
        let yAxisLabels = yTicks.values.map { ReportNumber.tick($0, step: yTicks.step) }
        let left = PlotLayout.left(yLabel: yLabel, tickLabels: yAxisLabels)
        let right = Double(canvas.width) - 16 - PlotLayout.legendWidth(legend)
        let frame = PlotFrame(left: left, top: top, right: max(right, left + 40), bottom: max(bottom, top + 40))
        let xTicks = AxisTicks.covering(xExtent.lo, xExtent.hi, target: max(2, Int(frame.width / 90)))
        let xAxis = PlotAxis(scale: PlotScale(lo: xTicks.values.first!, hi: xTicks.values.last!,
                                            start: frame.left + pad, end: frame.right - pad),
                         ticks: xTicks.values, step: xTicks.step)
        let yAxis = PlotAxis(scale: PlotScale(lo: yTicks.values.first!, hi: yTicks.values.last!,
                                            start: frame.bottom - pad, end: frame.top + pad),
                         ticks: yTicks.values, step: yTicks.step)

        guard !valid.isEmpty else {
            AxesDrawing.empty(into: &canvas, frame: frame)
            return canvas.finish(title: title)
        }
        AxesDrawing.draw(into: &canvas, frame: frame, x: xAxis, y: yAxis, xLabel: xLabel, yLabel: yLabel,
                         verticalGrid: true)

        // Hover images, deduplicated by content and named after the plot's content hash.
        var hoverRef: [Int: String] = [:]
        if let hoverImages {
            var hash = ReportHash()
            for p in points { hash.add(p.0); hash.add(p.1) }
            for s in ids + groups + [title ?? "", xLabel, yLabel] { hash.add(s) }
            for d in hoverImages { hash.add(d) }
            let prefix = hash.id
            var stored: [Data: String] = [:], defs: [String] = []
            for i in valid where i < hoverImages.count && !hoverImages[i].isEmpty {
                let data = hoverImages[i]
                if let ref = stored[data] { hoverRef[i] = ref; continue }
                let ref = "\(prefix)-img\(defs.count)"
                stored[data] = ref
                hoverRef[i] = ref
                let small = (ReportPNGInfo.width(of: data) ?? 1000) <= 64 ? " data-small=\"1\"" : ""
                defs.append("<image id=\"\(ref)\" width=\"1\" height=\"1\"\(small) href=\"data:image/png;base64,\(data.base64EncodedString())\"/>")
            }
            if !defs.isEmpty { canvas.add("<defs>\n" + defs.joined(separator: "\n") + "\n</defs>") }
        }

        // Ordinary groups first, emphasised ones on top.
        let drawOrder = valid.sorted { a, b in
            let sa = styles[indexOf[group(a)]!].emphasised, sb = styles[indexOf[group(b)]!].emphasised
            return sa == sb ? a < b : !sa
        }
        var marks = "<g class=\"points\">"
        for i in drawOrder {
            let style = styles[indexOf[group(i)]!]
            let (cx, cy) = (xAxis.scale(points[i].0), yAxis.scale(points[i].1))
            var attrs = " class=\"pt\" fill=\"\(style.color)\" fill-opacity=\"\(style.emphasised ? "1" : "0.8")\""
            attrs += " stroke=\"\(style.emphasised ? "#7a1020" : "#fff")\" stroke-width=\"\(style.emphasised ? "1" : "0.75")\""
            attrs += " data-label=\"\(ReportHTML.escape(id(i)))\" data-group=\"\(ReportHTML.escape(group(i)))\""
            if let ref = hoverRef[i] { attrs += " data-hover=\"\(ref)\"" }
            let tooltip = "\(id(i)) — \(group(i)) (\(ReportNumber.compact(points[i].0)), \(ReportNumber.compact(points[i].1)))"
            marks += marker(style.diamond, cx, cy, style.radius, attrs) + "<title>\(ReportHTML.escape(tooltip))</title>"
            marks += style.diamond ? "</path>\n" : "</circle>\n"
        }
        canvas.add(marks + "</g>")

        let validSet = Set(valid)
        let annotated = annotate.filter { validSet.contains($0) }.sorted()
        if !annotated.isEmpty {
            let obstacles = valid.map { i -> Box in
                let (cx, cy, r) = (xAxis.scale(points[i].0), yAxis.scale(points[i].1), styles[indexOf[group(i)]!].radius)
                return Box(x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r)
            }
            var placed: [Box] = []
            var g = "<g class=\"annotations\">"
            for i in annotated {
                let r = styles[indexOf[group(i)]!].radius
                let (cx, cy) = (xAxis.scale(points[i].0), yAxis.scale(points[i].1))
                let label = placeLabel(id(i), at: (cx, cy), radius: r, frame: frame, placed: placed, points: obstacles)
                placed.append(label.box)
                g += SVGElement.text(label.x, label.y, id(i), anchor: label.anchor, size: 10.5, weight: "600",
                             extra: " stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\" stroke-linejoin=\"round\"")
            }
            canvas.add(g + "</g>")
        }

        AxesDrawing.legend(into: &canvas, frame: frame, entries: legend) { k, x, y in
            marker(styles[k].diamond, x, y, styles[k].radius, " fill=\"\(styles[k].color)\"") + (styles[k].diamond ? "</path>" : "</circle>")
        }
        return canvas.finish(title: title)
    }

    /// An axis-aligned rectangle in pixels, for keeping point labels apart.
    struct Box {
        var x0: Double, y0: Double, x1: Double, y1: Double
        func overlap(_ o: Box) -> Double { max(0, min(x1, o.x1) - max(x0, o.x0)) * max(0, min(y1, o.y1) - max(y0, o.y0)) }
        var area: Double { (x1 - x0) * (y1 - y0) }
    }

    /// Chooses where to write a point's label: the first of six positions around the marker
    /// (right-above, right-below, left-above, left-below, above, below) that stays inside the frame
    /// and clear of labels already placed and of other points; then the same sides one, two, …
    /// lines further out (a stack, for points that coincide); failing all, the least-bad one.
    /// Outliers tend to sit together, and their labels are exactly the ones that must stay legible.
    static func placeLabel(_ text: String, at p: (Double, Double), radius r: Double, frame: PlotFrame,
                           placed: [Box], points: [Box]) -> (x: Double, y: Double, anchor: String, box: Box) {
        let w = PlotLayout.textWidth(text, size: 10.5), h = 11.0
        let (cx, cy) = p
        var candidates: [(x: Double, y: Double, anchor: String)] = []
        for k in 0..<5 {
            let shift = Double(k) * (h + 1)
            candidates += [(cx + r + 2, cy - r + 1 - shift, "start"), (cx + r + 2, cy + r + h - 1 + shift, "start"),
                           (cx - r - 2, cy - r + 1 - shift, "end"), (cx - r - 2, cy + r + h - 1 + shift, "end")]
            if k == 0 { candidates += [(cx, cy - r - 3, "middle"), (cx, cy + r + h + 1, "middle")] }
        }
        var best: (cost: Double, index: Int, box: Box)?
        for (k, c) in candidates.enumerated() {
            let x0 = c.anchor == "start" ? c.x : c.anchor == "end" ? c.x - w : c.x - w / 2
            let box = Box(x0: x0, y0: c.y - h + 2, x1: x0 + w, y1: c.y + 2)
            let inside = Box(x0: frame.left, y0: frame.top, x1: frame.right, y1: frame.bottom)
            let outside = box.area - box.overlap(inside)
            let cost = 100 * outside + 10 * placed.reduce(0) { $0 + box.overlap($1) } + points.reduce(0) { $0 + box.overlap($1) }
            if cost == 0 { return (c.x, c.y, c.anchor, box) }
            if best == nil || cost < best!.cost { best = (cost, k, box) }
        }
        let c = candidates[best!.index]
        return (c.x, c.y, c.anchor, best!.box)
    }

    struct GroupStyle { var color: String; var diamond: Bool; var radius: Double; var emphasised: Bool }

    /// Colours in order of appearance, skipping the highlight red, which outlier groups get.
    static func groupStyles(_ names: [String]) -> [GroupStyle] {
        let ordinary = ReportPalette.categorical.filter { $0 != ReportPalette.highlight }
        var next = 0
        return names.map { name in
            let lower = name.lowercased()
            if lower.contains("outlier") || lower.contains("anomal") {
                return GroupStyle(color: ReportPalette.highlight, diamond: true, radius: 7, emphasised: true)
            }
            defer { next += 1 }
            return GroupStyle(color: ordinary[next % ordinary.count], diamond: false, radius: 4.5, emphasised: false)
        }
    }

    /// The opening tag of a circle or a diamond centred at `(cx, cy)`; the caller closes it.
    static func marker(_ diamond: Bool, _ cx: Double, _ cy: Double, _ r: Double, _ attrs: String) -> String {
        let (x, y) = (ReportNumber.px(cx), ReportNumber.px(cy))
        guard diamond else { return "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(ReportNumber.px(r))\"\(attrs)>" }
        let d = "M\(x) \(ReportNumber.px(cy - r))L\(ReportNumber.px(cx + r)) \(y)L\(x) \(ReportNumber.px(cy + r))L\(ReportNumber.px(cx - r)) \(y)Z"
        return "<path d=\"\(d)\"\(attrs)>"
    }
}

import Foundation
import NNRuntime

extension Plot {
    /// Above this many cells a heatmap is drawn as one embedded PNG (one pixel per cell, scaled up
    /// without smoothing) instead of one `<rect>` per cell: a 512×512 EA-distance matrix would
    /// otherwise add some 40 MB of markup to the report.
    static let heatmapVectorCellLimit = 128 * 128

    /// A heatmap of a matrix, e.g. DORA's extreme-activation distance matrix, with a colour bar.
    ///
    /// Colours come from ``ReportColormap`` (perceptually ordered, computed): the smallest finite value
    /// gets the map's dark end and the largest its light end. Row and column labels are drawn when
    /// there are at most 64 of them and the cells are big enough to hold text; each cell's
    /// `<title>` tooltip names its row, column and value either way. NaN cells are grey and
    /// counted in a note; ragged rows are padded with NaN.
    ///
    /// - Parameter order: a permutation of the row indices (e.g. a clustering order) used to
    ///   reorder the rows, and the columns too when the matrix is square. Anything that is not a
    ///   permutation is ignored with a note.
    public static func heatmap(_ matrix: [[Double]], rowLabels: [String], columnLabels: [String], title: String? = nil,
                               order: [Int]? = nil, width: Int = 560, height: Int = 560) -> SVG {
        var canvas = SVGCanvas(width: width, height: height)
        let rows = matrix.count
        let cols = matrix.map(\.count).max() ?? 0
        if matrix.contains(where: { $0.count != cols }) { canvas.notes.append("rows of unequal length padded with NaN") }
        var rowOrder = Array(0..<rows)
        if let order {
            if order.count == rows, Set(order) == Set(0..<rows) { rowOrder = order } else {
                canvas.notes.append("order ignored: not a permutation of the \(rows) rows")
            }
        }
        let colOrder = cols == rows ? rowOrder : Array(0..<cols)
        func value(_ r: Int, _ c: Int) -> Double { c < matrix[r].count ? matrix[r][c] : .nan }
        func rowName(_ r: Int) -> String { r < rowLabels.count ? rowLabels[r] : String(r) }
        func colName(_ c: Int) -> String { c < columnLabels.count ? columnLabels[c] : String(c) }

        var lo = Double.infinity, hi = -Double.infinity, missing = 0
        for r in 0..<rows {
            for c in 0..<cols {
                let v = value(r, c)
                if v.isFinite { (lo, hi) = (min(lo, v), max(hi, v)) } else { missing += 1 }
            }
        }
        if rows * cols == 0 || lo > hi { canvas.notes.append("no data to plot") }
        else if missing > 0 {
            canvas.notes.append(SVGElement.count(missing, "NaN or infinite cell", "NaN or infinite cells") + " shown grey")
        }
        if lo == hi { canvas.notes.append("all values are \(ReportNumber.compact(lo))") }
        let raster = rows * cols > heatmapVectorCellLimit
        if raster { canvas.notes.append("\(rows)×\(cols) cells drawn as an image; no per-cell tooltips") }

        // Colour bar on the right: its width depends on its tick labels.
        let top = PlotLayout.top(title: title)
        let notesHeight = Double(canvas.notes.count) * PlotLayout.noteLine
        // A constant matrix gets one label (its value) in the middle of the bar.
        let barTicks: (values: [Double], step: Double) = lo < hi ? AxisTicks.within(lo, hi, target: 5) : (lo == hi ? ([lo], 1) : ([], 1))
        let barLabels = lo < hi ? barTicks.values.map { ReportNumber.tick($0, step: barTicks.step) }
                                : barTicks.values.map(ReportNumber.compact)
        let barReserve = 20 + 14 + 7 + (barLabels.map { PlotLayout.textWidth($0, size: PlotLayout.tickFont) }.max() ?? 0) + 8
        let availableWidth = Double(canvas.width) - 8 - barReserve
        let availableHeight = Double(canvas.height) - top - 10 - notesHeight

        guard rows > 0, cols > 0, lo <= hi else {
            AxesDrawing.empty(into: &canvas, frame: PlotFrame(left: 8, top: top, right: 8 + availableWidth, bottom: top + availableHeight))
            return canvas.finish(title: title)
        }

        // Labels only when they can be read: at most 64, in a font of at least 6 px once the
        // labels' own space is taken from the cells. Cells of 2 px and more are whole pixels, so
        // no seams appear between them.
        let shorten = { (s: String) in PlotLayout.shorten(s, maxChars: 18) }
        func fit(labels: Bool) -> (cell: Double, font: Double, rowWidth: Double, colHeight: Double) {
            let guess = min(availableWidth / Double(cols), availableHeight / Double(rows))
            let font = min(PlotLayout.tickFont, guess * 0.85)
            let rowWidth = labels && rows <= 64 ? (rowOrder.map { PlotLayout.textWidth(shorten(rowName($0)), size: font) }.max() ?? 0) + 6 : 0
            let colHeight = labels && cols <= 64 ? (colOrder.map { PlotLayout.textWidth(shorten(colName($0)), size: font) }.max() ?? 0) + 6 : 0
            var cell = max(0.5, min((availableWidth - rowWidth) / Double(cols), (availableHeight - colHeight) / Double(rows)))
            if cell >= 2 { cell = floor(cell) }
            return (cell, min(font, cell * 0.85), rowWidth, colHeight)
        }
        var layout = fit(labels: rows <= 64 || cols <= 64)
        if layout.font < 6 { layout = fit(labels: false) }
        let (cell, font) = (layout.cell, layout.font)
        let showRows = layout.rowWidth > 0, showCols = layout.colHeight > 0
        let rowLabelWidth = layout.rowWidth
        let gridWidth = cell * Double(cols), gridHeight = cell * Double(rows)
        let slack = max(0, availableWidth - rowLabelWidth - gridWidth)
        let left = 8 + rowLabelWidth + slack / 2
        let bottom = top + gridHeight
        let t = { (v: Double) in hi > lo ? (v - lo) / (hi - lo) : 0.5 }

        if raster {
            var pixels = [UInt8](repeating: 0, count: rows * cols * 3)
            for (i, r) in rowOrder.enumerated() {
                for (j, c) in colOrder.enumerated() {
                    let v = value(r, c)
                    let rgb = v.isFinite ? ReportColormap.color(t(v)) : ReportColormap.missing
                    let k = (i * cols + j) * 3
                    (pixels[k], pixels[k + 1], pixels[k + 2]) = (rgb.r, rgb.g, rgb.b)
                }
            }
            if let png = try? Image(width: cols, height: rows, channels: 3, pixels: pixels).pngData() {
                canvas.add("<image x=\"\(ReportNumber.px(left))\" y=\"\(ReportNumber.px(top))\" width=\"\(ReportNumber.px(gridWidth))\" "
                           + "height=\"\(ReportNumber.px(gridHeight))\" preserveAspectRatio=\"none\" \(cell >= 1 ? "style=\"image-rendering:pixelated\" " : "")"
                           + "href=\"data:image/png;base64,\(png.base64EncodedString())\"/>")
            }
        } else {
            var g = "<g class=\"cells\" shape-rendering=\"crispEdges\">\n"
            for (i, r) in rowOrder.enumerated() {
                for (j, c) in colOrder.enumerated() {
                    let v = value(r, c)
                    let fill = v.isFinite ? ReportColormap.hex(t(v)) : ReportColormap.missing.hex
                    let tip = "\(rowName(r)) × \(colName(c)): \(ReportNumber.compact(v))"
                    g += SVGElement.rect(left + Double(j) * cell, top + Double(i) * cell, cell, cell, fill: fill, title: tip) + "\n"
                }
            }
            canvas.add(g + "</g>")
        }

        var labels = "<g class=\"labels\" fill=\"\(ReportPalette.axis)\">"
        if showRows {
            for (i, r) in rowOrder.enumerated() {
                labels += SVGElement.text(left - 4, top + (Double(i) + 0.5) * cell, shorten(rowName(r)), anchor: "end",
                                  size: font, fill: ReportPalette.axis, baseline: "middle")
            }
        }
        if showCols {
            for (j, c) in colOrder.enumerated() {
                labels += SVGElement.text(left + (Double(j) + 0.5) * cell, bottom + 4, shorten(colName(c)), anchor: "end",
                                  size: font, fill: ReportPalette.axis, rotate: -90, baseline: "middle")
            }
        }
        canvas.add(labels + "</g>")

        // Colour bar: stacked bands from the minimum (bottom) to the maximum (top).
        let barX = left + gridWidth + 20, barWidth = 14.0
        let barHeight = max(gridHeight, min(160, availableHeight))
        let barBottom = top + barHeight
        var bar = "<g class=\"colorbar\" shape-rendering=\"crispEdges\">"
        let bands = 64
        for k in 0..<bands {
            let band = barHeight / Double(bands)
            let y = barBottom - Double(k + 1) * band
            // Each band overlaps the next by half a pixel so no seams show between them.
            let fill = ReportColormap.hex(Double(k) / Double(bands - 1))
            bar += SVGElement.rect(barX, y, barWidth, band + (k + 1 < bands ? 0.5 : 0), fill: fill)
        }
        bar += SVGElement.rect(barX, top, barWidth, barHeight, fill: "none", extra: " stroke=\"#999\"")
        for (v, label) in zip(barTicks.values, barLabels) {
            let y = hi > lo ? barBottom - (v - lo) / (hi - lo) * barHeight : top + barHeight / 2
            bar += SVGElement.line(barX + barWidth, y, barX + barWidth + 4, y, stroke: ReportPalette.axis)
            bar += SVGElement.text(barX + barWidth + 7, y, label, fill: ReportPalette.axis, baseline: "middle")
        }
        canvas.add(bar + "</g>")
        // Drop the empty band a square grid leaves under itself in a taller box.
        let used = max(bottom + layout.colHeight, barBottom + 8) + 10 + notesHeight
        canvas.height = min(canvas.height, Int(ceil(used)))
        return canvas.finish(title: title)
    }
}

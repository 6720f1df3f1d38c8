import Foundation
import NNRuntime
import Attribution

/// The work of `interp attribute` once the options are resolved: maps per batch of images, their
/// files in the run folder, and the rows of `result.json` and `report.html`.
struct AttributeSession {
    struct MethodResult {
        let method: AttributionMethod
        let map: String, heatmap: String, overlay: String
        let min: Float, max: Float
        let overlayPNG: Data
    }
    struct Row {
        let url: URL, stem: String
        let predicted: Int, target: Int
        let imagePNG: Data
        var methods: [MethodResult]
    }

    let loaded: LoadedModel
    let methods: [AttributionMethod]
    let attributors: [Attributor]
    let folder: RunFolder
    private(set) var rows: [Row] = []
    private var stems = Set<String>()

    init(loaded: LoadedModel, methods: [AttributionMethod], attributors: [Attributor], folder: RunFolder) {
        (self.loaded, self.methods, self.attributors, self.folder) = (loaded, methods, attributors, folder)
    }

    /// Attributes one batch with every method and writes its maps, heatmaps and overlays.
    mutating func add(_ batch: [ImageItem], target: Int?) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: folder.file("maps"), withIntermediateDirectories: true)
        try fm.createDirectory(at: folder.file("heatmaps"), withIntermediateDirectories: true)
        let x = loaded.input.batch(try batch.map { try Image.load(contentsOf: $0.url) })
        let predicted = try attributors[0].predictions(x)
        let targets = target.map { Array(repeating: $0, count: batch.count) } ?? predicted
        if let bad = targets.first(where: { $0 >= loaded.classNames.count }) {
            throw AttributionError("--target \(bad) is outside the model's \(loaded.classNames.count) classes")
        }
        let pixels = loaded.input.denormalize(x)
        var newRows: [Row] = []
        for (i, item) in batch.enumerated() {
            var stem = item.url.deletingPathExtension().lastPathComponent
            if stems.contains(stem) { stem += "-\(rows.count + i)" }
            stems.insert(stem)
            let image = try Image(tensor: pixels[i].clamped(min: 0, max: 1))
            newRows.append(Row(url: item.url, stem: stem, predicted: predicted[i], target: targets[i],
                               imagePNG: try image.pngData(), methods: []))
        }
        for (method, attributor) in zip(methods, attributors) {
            let maps = try attributor.attribute(x, targets: targets).maps
            for i in batch.indices {
                let map = maps[i]
                let name = "\(newRows[i].stem).\(method.rawValue)"
                try NPY.write(map, to: folder.file("maps/\(name).npy"))
                let strength = Self.heat(map)
                let heat = try Self.colored(strength, width: map.shape[2], height: map.shape[1])
                let overlay = try Self.overlay(strength, on: pixels[i].clamped(min: 0, max: 1))
                try heat.write(to: folder.file("heatmaps/\(name).png"))
                try overlay.write(to: folder.file("heatmaps/\(name).overlay.png"))
                let values = map.scalars
                newRows[i].methods.append(MethodResult(method: method, map: "maps/\(name).npy", heatmap: "heatmaps/\(name).png",
                                                       overlay: "heatmaps/\(name).overlay.png", min: values.min() ?? 0,
                                                       max: values.max() ?? 0, overlayPNG: try overlay.pngData()))
            }
        }
        rows += newRows
    }

    /// Per-pixel strength in [0, 1] as captum's `visualize_image_attr` shows it by default: the
    /// channel sum, its absolute value, scaled so the 98th percentile is 1 (2 % outliers clipped).
    static func heat(_ map: Tensor) -> [Float] {
        let (c, h, w) = (map.shape[0], map.shape[1], map.shape[2])
        let values = map.scalars
        var combined = [Float](repeating: 0, count: h * w)
        for k in 0..<c { for p in 0..<h * w { combined[p] += values[k * h * w + p] } }
        combined = combined.map { Swift.abs($0) }
        let sorted = combined.sorted()
        let scale = sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count - 1) * 0.98))]
        guard scale > 0 else { return combined.map { _ in 0 } }
        return combined.map { Swift.min($0 / scale, 1) }
    }

    /// The strength in the report's colour map.
    static func colored(_ strength: [Float], width: Int, height: Int) throws -> Image {
        var px = [UInt8](repeating: 0, count: strength.count * 3)
        for (i, t) in strength.enumerated() {
            let rgb = ReportColormap.color(Double(t))
            (px[3 * i], px[3 * i + 1], px[3 * i + 2]) = (rgb.r, rgb.g, rgb.b)
        }
        return try Image(width: width, height: height, channels: 3, pixels: px)
    }

    /// The heatmap's colours over the image, more opaque where the attribution is strong.
    static func overlay(_ strength: [Float], on image: Tensor) throws -> Image {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let values = image.scalars
        var px = [UInt8](repeating: 0, count: h * w * 3)
        for p in 0..<h * w {
            let t = strength[p], alpha = 0.15 + 0.65 * t
            let rgb = ReportColormap.color(Double(t))
            for k in 0..<3 {
                let base = values[Swift.min(k, c - 1) * h * w + p]
                let heat = Float([rgb.r, rgb.g, rgb.b][k]) / 255
                px[3 * p + k] = (((1 - alpha) * base + alpha * heat) * 255).clampedByte
            }
        }
        return try Image(width: w, height: h, channels: 3, pixels: px)
    }

    func resultJSON() -> [String: Any] {
        [
            "model": loaded.name, "weights": loaded.weightsSource, "methods": methods.map(\.rawValue),
            "images": rows.map { row -> [String: Any] in
                [
                    "image": row.url.path, "stem": row.stem,
                    "predicted": row.predicted, "predicted_name": loaded.classNames[safe: row.predicted] ?? "",
                    "target": row.target, "target_name": loaded.classNames[safe: row.target] ?? "",
                    "methods": Dictionary(uniqueKeysWithValues: row.methods.map {
                        ($0.method.rawValue, ["map": $0.map, "heatmap": $0.heatmap, "overlay": $0.overlay,
                                              "min": Double($0.min), "max": Double($0.max)] as [String: Any])
                    }),
                ]
            },
        ]
    }

    /// `result.json` and the gallery: one row per image, the image then each method's overlay.
    func finish() throws {
        try folder.writeJSON(resultJSON(), to: "result.json")
        var report = Report(title: "Attribution maps: \(loaded.name)",
                            subtitle: "\(rows.count) images · \(methods.map(\.rawValue).joined(separator: ", "))")
        report.section("Run")
        let o = attributors[0].options
        report.keyValues([("model", loaded.name), ("weights", loaded.weightsSource), ("images", "\(rows.count)"),
                          ("methods", methods.map(\.rawValue).joined(separator: ", ")),
                          ("integrated gradients", "\(o.steps) steps, \(o.integration.rawValue)"),
                          ("noise tunnel", "\(o.samples) samples, σ = \(o.noiseLevel) × range, base \(o.base.rawValue)"),
                          ("seed", "\(o.seed)")])
        report.section("Gallery", intro: "Each row is an image and the overlay of each method's map for the explained class; the strength is the channel sum's absolute value scaled to its 98th percentile.")
        var items: [ReportImage] = []
        for row in rows {
            let name = loaded.classNames[safe: row.target] ?? "\(row.target)"
            items.append(ReportImage(png: row.imagePNG, caption: "\(row.stem): \(name)\(row.target == row.predicted ? "" : " (predicted \(row.predicted))")"))
            items += row.methods.map { ReportImage(png: $0.overlayPNG, caption: $0.method.rawValue) }
        }
        report.imageGrid(items, columns: methods.count + 1)
        report.table(headers: ["image", "target", "predicted"] + methods.map { "\($0.rawValue) min…max" },
                     rows: rows.map { row in
                         [row.stem, "\(row.target)", "\(row.predicted)"] + row.methods.map { String(format: "%.3g … %.3g", $0.min, $0.max) }
                     })
        try report.write(to: folder.file("report.html"))
    }
}

private extension Float {
    var clampedByte: UInt8 { UInt8(Swift.min(Swift.max(self.rounded(), 0), 255)) }
}

import ArgumentParser
import Foundation
import NNRuntime
import Attribution

/// `interp attribute`: attribution maps (saliency, Integrated Gradients, SmoothGrad and its
/// variants, guided backprop, GradCAM, and the random and Sobel controls) of a model's predicted or
/// given class for a set of images, as `.npy` maps, heatmaps, overlays and a gallery report.
struct AttributeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute",
        abstract: "Attribution maps (saliency, IG, SmoothGrad, GradCAM, …) of images, with heatmaps and a report.",
        discussion: """
        Explains each image's predicted class (or --target) with every method of --attribution \
        (\(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", ")); aliases ig, sg, sg2). \
        Maps are taken w.r.t. the normalised input and written as maps/<image>.<method>.npy ([C, H, W]; \
        GradCAM [1, H, W]), with heatmaps/<image>.<method>.png, heatmaps/<image>.<method>.overlay.png, \
        result.json and report.html in the run folder.
        """
    )

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("image"), parsing: .upToNextOption, help: "Image files (PNG or JPEG).")
    var images: [String] = []
    @Option(help: "A folder of images or a fetched sample set such as foolbox-mnist.") var data: String?
    @OptionGroup var methodOptions: AttributionOptionGroup
    @Option(help: "Class to explain for every image (default: each image's prediction).") var target: Int?
    @Option(help: "Images per call of the attribution methods.") var batchSize = 8
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if images.isEmpty && data == nil { throw ValidationError("give --image FILE... or --data D") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let target, target < 0 { throw ValidationError("--target must be a class index ≥ 0") }
    }

    func run() throws {
        try reportingErrors {
            runOptions.applyThreads()
            let methods = try methodOptions.methods(), options = methodOptions.options(seed: model.seed)
            let loaded = try model.load()
            let attributors: [Attributor]
            do { attributors = try methodOptions.attributors(for: loaded, seed: model.seed) } catch let e as AttributionError {
                throw ValidationError(e.description)
            }
            var items = images.map { ImageItem(url: URL(fileURLWithPath: $0), label: nil) }
            if let data { items += try ImageFiles.resolve(data) }
            let config: [String: Any] = [
                "model": model.model, "weights": model.weights as Any? ?? NSNull(), "seed": model.seed,
                "images": items.map(\.url.path), "attribution": methods.map(\.rawValue),
                "target": target as Any? ?? NSNull(), "options": (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(options))) ?? [:],
            ]
            let folder = try RunFolder.open(command: "attribute", config: config, options: runOptions)
            var session = AttributeSession(loaded: loaded, methods: methods, attributors: attributors, folder: folder)
            let bar = ProgressBar(label: "attribute")
            for start in stride(from: 0, to: items.count, by: batchSize) {
                let batch = Array(items[start..<min(start + batchSize, items.count)])
                do {
                    try session.add(batch, target: target)
                } catch let e as AttributionError { throw ValidationError(e.description) }
                bar.update(min(start + batchSize, items.count), items.count)
            }
            bar.finish("\(items.count) images × \(methods.count) methods")
            try session.finish()
            if runOptions.json { print(try jsonText(session.resultJSON())); return }
            for row in session.rows {
                let spans = row.methods.map { "\($0.method.rawValue) [\(String(format: "%.3g", $0.min)), \(String(format: "%.3g", $0.max))]" }
                print("\(row.url.lastPathComponent): target \(row.target) (\(loaded.classNames[safe: row.target] ?? "?")), predicted \(row.predicted); \(spans.joined(separator: "; "))")
            }
            print("report: \(folder.file("report.html").path)")
        }
    }
}

extension Integration: ExpressibleByArgument {}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

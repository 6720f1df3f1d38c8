import ArgumentParser
import Foundation
import NNRuntime

/// `interp predict`: top-k classes of images with their probabilities.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images and print the top classes with probabilities."
    )

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("image"), parsing: .upToNextOption, help: "Image files (PNG or JPEG).")
    var images: [String] = []
    @Option(help: "A folder of images or a fetched sample set such as foolbox-imagenet.")
    var data: String?
    @Option(help: "How many classes to show per image.") var top = 5
    @Option(help: "Images per forward pass.") var batchSize = 8
    @Flag(help: "Print JSON: [{image, top: [{index, label, probability}]}].") var json = false

    func validate() throws {
        if images.isEmpty && data == nil { throw ValidationError("give --image FILE... or --data D") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try model.load()
            var items = images.map { ImageItem(url: URL(fileURLWithPath: $0), label: nil) }
            if let data { items += try ImageFiles.resolve(data) }
            var results: [[String: Any]] = []
            var correct = 0, labelled = 0
            for start in stride(from: 0, to: items.count, by: batchSize) {
                let batch = Array(items[start..<min(start + batchSize, items.count)])
                let x = loaded.input.batch(try batch.map { try Image.load(contentsOf: $0.url) })
                let probabilities = withoutGradients { softmax(loaded.module(x), axis: 1) }
                let classCount = probabilities.shape[1]
                let values = probabilities.scalars
                for (row, item) in batch.enumerated() {
                    let p = Array(values[row * classCount..<(row + 1) * classCount])
                    let ranked = p.indices.sorted { p[$0] > p[$1] }.prefix(min(top, classCount))
                    if let label = item.label {
                        labelled += 1
                        if ranked.first == label { correct += 1 }
                    }
                    var entry: [String: Any] = ["image": item.url.path, "top": ranked.map {
                        ["index": $0, "label": loaded.classNames[$0], "probability": Double(p[$0])] as [String: Any]
                    }]
                    if let label = item.label { entry["label"] = label }
                    results.append(entry)
                    if !json {
                        let best = ranked.map { String(format: "%@ %.3f", loaded.classNames[$0], p[$0]) }.joined(separator: "; ")
                        let truth = item.label.map { $0 == ranked.first ? "  [label \($0) ✓]" : "  [label \($0) \(loaded.classNames[$0]) ✗]" } ?? ""
                        print("\(item.url.lastPathComponent): \(best)\(truth)")
                    }
                }
            }
            if json {
                print(try jsonText(results))
            } else if labelled > 0 {
                print("top-1: \(correct)/\(labelled) correct")
            }
        }
    }
}

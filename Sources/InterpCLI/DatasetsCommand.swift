import ArgumentParser
import Foundation
import NNRuntime

/// `interp datasets`: generators of datasets with known ground truth.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "datasets", abstract: "Generate benchmark datasets with known concepts.",
                                                    subcommands: [ShapesCommand.self])
}

/// `interp datasets shapes`: the planted-shortcut concept benchmark.
struct ShapesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Write the shapes concept benchmark: train/ and test/ ImageFolders, concepts.csv, concepts.json, README.txt."
    )

    @Option(help: "Output folder.") var out: String
    @Option(help: "Images in total (train + test; 20 % test).") var count = 5000
    @Option(help: "Image side in pixels.") var size = 32
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "The class whose training images mostly carry the watermark (0 circle, 1 cross, 2 square, 3 triangle).") var watermarkClass = 0
    @Option(help: "Share of that class's training images with the watermark.") var watermarkRate = 0.9
    @Flag(help: "Replace an existing output folder.") var overwrite = false

    func validate() throws {
        if count < 10 { throw ValidationError("--count must be at least 10") }
        if size < 16 || size > 256 { throw ValidationError("--size must be between 16 and 256") }
        if !(0..<4).contains(watermarkClass) { throw ValidationError("--watermark-class must be 0, 1, 2 or 3") }
        if !(0...1).contains(watermarkRate) { throw ValidationError("--watermark-rate must be between 0 and 1") }
    }

    func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: out)
            if FileManager.default.fileExists(atPath: url.path) {
                guard overwrite else { throw ValidationError("\(out) exists; pass --overwrite to replace it") }
                try FileManager.default.removeItem(at: url)
            }
            // Written into a temporary sibling and renamed, so an interrupted run leaves no half set.
            let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
            try? FileManager.default.removeItem(at: temp)
            var generator = ShapesGenerator()
            (generator.count, generator.size, generator.seed) = (count, size, seed)
            (generator.watermarkClass, generator.watermarkRate) = (watermarkClass, watermarkRate)
            try generator.write(to: temp) { done, total in ProgressBar(label: "shapes").update(done, total) }
            try FileManager.default.moveItem(at: temp, to: url)
            ProgressBar(label: "shapes").finish("wrote \(count) images to \(out)")
        }
    }
}

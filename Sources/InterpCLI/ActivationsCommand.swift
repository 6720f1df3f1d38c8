import ArgumentParser
import Foundation
import NNRuntime

/// `interp activations`: one row per image of a layer's output (pooled per channel or flattened)
/// as `.npy`, with the image of each row in `.images.txt` — the input INVERT and RDR accept.
struct ActivationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Write a layer's activations for a set of images to A.npy (+ A.images.txt)."
    )

    enum Pool: String, ExpressibleByArgument, CaseIterable { case mean, max, none }

    @OptionGroup var model: ModelOptions
    @Option(help: "The layer: a path, lucent's underscore form, PATH@K, or a trunk index (see `interp layers`).")
    var layer: String
    @Option(help: "A folder of images, an image file, or a fetched sample set such as foolbox-imagenet.")
    var data: String
    @Option(help: "Spatial pooling per channel: mean, max, or none (flatten C×H×W).") var pool: Pool = .mean
    @Option(help: "Output .npy file.") var out: String
    @Option(help: "Images per forward pass.") var batchSize = 16

    func validate() throws {
        if !out.hasSuffix(".npy") { throw ValidationError("--out must name a .npy file") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try model.load()
            let target = try loaded.module.resolveLayer(layer, trunk: loaded.trunk)
            let items = try ImageFiles.resolve(data)
            var rows: [Tensor] = []
            for start in stride(from: 0, to: items.count, by: batchSize) {
                let batch = Array(items[start..<min(start + batchSize, items.count)])
                let x = loaded.input.batch(try batch.map { try Image.load(contentsOf: $0.url) })
                let (_, acts) = withoutGradients { capturingActivations([target.captureName]) { loaded.module(x) } }
                guard let a = acts[target.captureName] else {
                    throw ModelError("layer \(target) was not called in the forward pass")
                }
                rows.append(Self.pooled(a, pool))
                FileHandle.standardError.write(Data("\r\(min(start + batchSize, items.count))/\(items.count) images".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            let matrix = concat(rows, axis: 0)
            let url = URL(fileURLWithPath: out)
            try NPY.write(matrix, to: url)
            let list = url.deletingPathExtension().appendingPathExtension("images.txt")
            try (items.map(\.url.path).joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
            print("wrote \(out) \(matrix.shape) and \(list.lastPathComponent) (layer \(target), pool \(pool.rawValue))")
        }
    }

    /// `[N, C, H, W]` → `[N, C]` by mean or max, or `[N, C·H·W]`; `[N, F]` stays.
    static func pooled(_ a: Tensor, _ pool: Pool) -> Tensor {
        guard a.rank == 4 else { return a.flattened() }
        switch pool {
        case .mean: return a.mean(axes: [2, 3])
        case .max: return a.flattened(startAxis: 2).max(axis: 2)
        case .none: return a.flattened()
        }
    }
}

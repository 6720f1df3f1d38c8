import Foundation
import NNRuntime

/// How to feed an ONNX model, which carries no preprocessing of its own: a preset and the values
/// behind it, from the command line or from a sidecar `NAME.json` beside `NAME.onnx` (command-line
/// values win). Nothing is guessed: without a preset or a mean and std, loading stops and says so.
///
/// Sidecar example: `{"preprocess": "imagenet", "crop": 224, "classes": "imagenet"}`, or with
/// explicit values `{"resize": 256, "crop": 224, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
/// "filter": "bicubic", "classes": ["cat", "dog"]}`.
public struct ONNXInputOptions: Codable, Equatable, Sendable {
    /// `imagenet` (resize 256, crop 224, ImageNet mean/std), `inception` (resize 342, crop 299,
    /// pixels scaled to [−1, 1]), `mnist`, `cifar10`, or `none` (pixels in [0, 1], resized straight
    /// to the input size).
    public var preprocess: String?
    /// Short side to resize to before the centre crop.
    public var resize: Int?
    /// Centre-crop size (the model's input size when the graph leaves it symbolic).
    public var crop: Int?
    public var mean: [Float]?
    public var std: [Float]?
    /// `bilinear`, `bicubic` or `nearest`.
    public var filter: String?
    /// Class names: a list, or the name of a known list (`imagenet`, `digits`, `cifar10`).
    public var classes: ClassNames?

    public enum ClassNames: Codable, Equatable, Sendable {
        case named(String)
        case list([String])

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .named(s) } else { self = .list(try c.decode([String].self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .named(let s): try c.encode(s)
            case .list(let l): try c.encode(l)
            }
        }
    }

    public init(preprocess: String? = nil, resize: Int? = nil, crop: Int? = nil, mean: [Float]? = nil, std: [Float]? = nil,
                filter: String? = nil, classes: ClassNames? = nil) {
        (self.preprocess, self.resize, self.crop, self.mean, self.std) = (preprocess, resize, crop, mean, std)
        (self.filter, self.classes) = (filter, classes)
    }

    public static let presets = ["imagenet", "inception", "mnist", "cifar10", "none"]

    /// True when any option is set.
    public var isEmpty: Bool { self == ONNXInputOptions() }

    /// These options, with unset ones taken from `fallback`.
    public func over(_ fallback: ONNXInputOptions) -> ONNXInputOptions {
        ONNXInputOptions(preprocess: preprocess ?? fallback.preprocess, resize: resize ?? fallback.resize, crop: crop ?? fallback.crop,
                         mean: mean ?? fallback.mean, std: std ?? fallback.std, filter: filter ?? fallback.filter,
                         classes: classes ?? fallback.classes)
    }
}

/// Opens `--model FILE.onnx` as a ``LoadedModel``.
public enum ONNXLoader {
    /// Reads the graph, resolves its input from `options` (over the sidecar's), builds and checks
    /// the module tree.
    public static func load(_ path: String, options: ONNXInputOptions = ONNXInputOptions()) throws -> LoadedModel {
        let url = URL(fileURLWithPath: path)
        let graph = try ONNXGraph.read(contentsOf: url)
        let merged = options.over(try sidecar(for: url))
        let input = try inputSpec(graph: graph, options: merged, file: url.lastPathComponent)
        let model = try ONNXModel(graph: graph, inputShape: [1, input.channels, input.height, input.width])
        guard model.outputShape.count == 2 else {
            throw ONNXError("\(url.lastPathComponent): the first output has shape \(model.outputShape); interp expects class scores [N, classes]")
        }
        let classCount = model.outputShape[1]
        var names = (0..<classCount).map { "class \($0)" }
        switch merged.classes {
        case .list(let list)?:
            guard list.count == classCount else {
                throw ONNXError("\(url.lastPathComponent): \(list.count) class names for \(classCount) outputs")
            }
            names = list
        case .named(let list)?:
            names = ModelRegistry.classNames(list, count: classCount, manifest: try? AssetManifest.locate())
        case nil:
            if merged.preprocess == "imagenet" && classCount == 1000 {
                names = ModelRegistry.classNames("imagenet", count: classCount, manifest: try? AssetManifest.locate())
            }
        }
        guard let camLayer = model.gradCAMLayer else {
            throw ONNXError("\(url.lastPathComponent): no node outputs a spatial [N, C, H, W] map; interp needs a convolutional network")
        }
        return LoadedModel(name: url.deletingPathExtension().lastPathComponent, module: model, input: input, classNames: names,
                           gradCAMLayer: camLayer, weightsSource: url.path)
    }

    /// `NAME.json` beside `NAME.onnx`, if present.
    public static func sidecar(for url: URL) throws -> ONNXInputOptions {
        let json = url.deletingPathExtension().appendingPathExtension("json")
        guard FileManager.default.fileExists(atPath: json.path) else { return ONNXInputOptions() }
        do { return try JSONDecoder().decode(ONNXInputOptions.self, from: Data(contentsOf: json)) } catch {
            throw ONNXError("\(json.lastPathComponent) is not a valid preprocessing sidecar (expected keys preprocess, resize, crop, mean, std, filter, classes): \(error)")
        }
    }

    /// The input description from the options and the graph's declared input shape.
    static func inputSpec(graph: ONNXGraph, options o: ONNXInputOptions, file: String) throws -> InputSpec {
        let shape = graph.inputShape
        guard shape.count == 4 else {
            throw ONNXError("\(file): input '\(graph.inputName)' has rank \(shape.count); interp feeds images [N, C, H, W]")
        }
        guard o.preprocess != nil || (o.mean != nil && o.std != nil) else {
            throw ONNXError("\(file) carries no preprocessing; pass --preprocess \(ONNXInputOptions.presets.joined(separator: "|")) (or --mean and --std), or put \(file.replacingOccurrences(of: ".onnx", with: ".json")) beside it")
        }
        var (resize, crop, mean, std, filter): (Int?, Int?, [Float], [Float], InputSpec.Filter)
        switch o.preprocess {
        case "imagenet"?: (resize, crop, mean, std, filter) = (256, 224, InputSpec.imagenet.mean, InputSpec.imagenet.std, .bilinear)
        case "inception"?: (resize, crop, mean, std, filter) = (342, 299, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], .bilinear)
        case "mnist"?: (resize, crop, mean, std, filter) = (nil, 28, InputSpec.mnist.mean, InputSpec.mnist.std, .bilinear)
        case "cifar10"?: (resize, crop, mean, std, filter) = (nil, 32, InputSpec.cifar10.mean, InputSpec.cifar10.std, .bilinear)
        case "none"?, nil:
            let c = shape[1] ?? 3
            (resize, crop, mean, std, filter) = (nil, nil, [Float](repeating: 0, count: c), [Float](repeating: 1, count: c), .bilinear)
        case let other?:
            throw ONNXError("unknown preprocessing '\(other)'; expected one of \(ONNXInputOptions.presets.joined(separator: ", "))")
        }
        if let r = o.resize { resize = r }
        if let m = o.mean { mean = m }
        if let s = o.std { std = s }
        if let f = o.filter {
            guard let parsed = InputSpec.Filter(rawValue: f) else { throw ONNXError("unknown filter '\(f)'; expected bilinear, bicubic or nearest") }
            filter = parsed
        }
        let channels = shape[1] ?? mean.count
        guard mean.count == channels, std.count == channels, std.allSatisfy({ $0 > 0 }) else {
            throw ONNXError("\(file): the model takes \(channels) channels; mean \(mean) and std \(std) must give one value each, std positive")
        }
        guard channels == 1 || channels == 3 else { throw ONNXError("\(file): the model takes \(channels) channels; interp feeds 1 or 3") }
        // The graph's fixed size wins over a preset's crop; a symbolic size needs one.
        let side = o.crop ?? crop
        guard let height = shape[2] ?? side, let width = shape[3] ?? side, height > 0, width > 0 else {
            throw ONNXError("\(file): the input size is symbolic (\(shape.map { $0.map(String.init) ?? "?" })); pass --crop N")
        }
        if let side = o.crop, (shape[2] != nil && shape[2] != side) || (shape[3] != nil && shape[3] != side) {
            throw ONNXError("\(file): --crop \(side) disagrees with the model's fixed input \(height)×\(width)")
        }
        if resize != nil && o.resize == nil && crop != nil && crop != min(height, width) {
            resize = Int((Double(resize!) * Double(min(height, width)) / Double(crop!)).rounded())
        }
        return InputSpec(channels: channels, height: height, width: width, resizeShortSide: resize, filter: filter, mean: mean, std: std)
    }
}

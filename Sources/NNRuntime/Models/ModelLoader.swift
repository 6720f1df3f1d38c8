import Foundation

/// A model ready to run: the architecture with its weights in evaluation mode, and what the CLI
/// needs to feed and read it.
public struct LoadedModel {
    public let name: String
    public let module: TrunkModel
    public let input: InputSpec
    public let classNames: [String]
    public let gradCAMLayer: String
    /// Where the weights came from (a file path, or "random").
    public let weightsSource: String
    public var trunk: [String] { module.trunk }

    public init(name: String, module: TrunkModel, input: InputSpec, classNames: [String], gradCAMLayer: String, weightsSource: String) {
        (self.name, self.module, self.input, self.classNames) = (name, module, input, classNames)
        (self.gradCAMLayer, self.weightsSource) = (gradCAMLayer, weightsSource)
    }
}

/// Resolves `--model`, `--weights` and `--random-init` into a ``LoadedModel``.
///
/// - A zoo name uses its fetched pretrained weights (`interp fetch NAME`), or `--weights FILE`, or
///   random weights only with an explicit `--random-init`: random weights are never used silently.
/// - A `.safetensors` file written by interp carries its architecture, classes and normalisation in
///   `__metadata__`, so `--model FILE.safetensors` alone works.
public enum ModelLoader {
    public static func load(model: String, weights: String? = nil, randomInit: Bool = false, seed: UInt64 = 0,
                            store: AssetStore = AssetStore(), manifest: AssetManifest? = nil) throws -> LoadedModel {
        if model.hasSuffix(".safetensors") {
            return try loadSelfDescribing(URL(fileURLWithPath: model), store: store)
        }
        let spec = try ModelRegistry.spec(named: model)
        let source: URL?
        if let weights {
            source = URL(fileURLWithPath: weights)
        } else if randomInit {
            source = nil
        } else if let assetName = spec.weightsAsset {
            let manifest = try manifest ?? AssetManifest.locate()
            source = try store.url(of: try manifest.asset(named: assetName))
        } else {
            throw ModelError("model '\(model)' has no pretrained weights to fetch; pass --weights FILE (.pth or .safetensors) or --random-init")
        }
        var classCount = spec.classCount
        var state: [String: Tensor]?
        if let source {
            let sd = try readWeights(source)
            // A fine-tuned head with another class count: build the architecture to match it.
            if let head = headClassCount(spec, sd), head != classCount { classCount = head }
            state = sd
        }
        let module = spec.build(classCount, seed)
        if let state {
            do { try module.loadStateDict(state) } catch let e as StateDictError {
                throw ModelError("\(source!.lastPathComponent) does not fit \(model): \(e.description)")
            }
        }
        module.eval()
        let names = ModelRegistry.classNames(spec.classNames, count: classCount, manifest: try? manifest ?? AssetManifest.locate())
        return LoadedModel(name: spec.name, module: module, input: spec.input, classNames: names,
                           gradCAMLayer: spec.gradCAMLayer, weightsSource: source?.path ?? "random (seed \(seed))")
    }

    /// A zoo architecture with fresh seeded weights for `classNames.count` classes, for training
    /// from scratch.
    public static func fresh(_ name: String, classNames: [String], seed: UInt64) throws -> LoadedModel {
        let spec = try ModelRegistry.spec(named: name)
        let module = spec.build(classNames.count, seed)
        return LoadedModel(name: spec.name, module: module, input: spec.input, classNames: classNames,
                           gradCAMLayer: spec.gradCAMLayer, weightsSource: "random (seed \(seed))")
    }

    /// Reads `.pth` (zip or legacy) or `.safetensors` weights, by content.
    public static func readWeights(_ url: URL) throws -> [String: Tensor] {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError("weights file \(url.path) does not exist")
        }
        if url.pathExtension == "safetensors" { return try SafeTensors.read(contentsOf: url).tensors }
        return try TorchCheckpoint.load(contentsOf: url)
    }

    /// The output size of the last linear layer according to a state dict, if it has one.
    private static func headClassCount(_ spec: ModelSpec, _ sd: [String: Tensor]) -> Int? {
        guard let w = sd[spec.headPath + ".weight"], w.rank == 2 else { return nil }
        return w.shape[0]
    }

    // MARK: - Self-describing safetensors

    public static let archKey = "interp.arch", classesKey = "interp.classes", meanKey = "interp.mean"
    public static let stdKey = "interp.std", inputSizeKey = "interp.input_size"

    /// Writes the model's weights with the metadata that makes the file loadable on its own.
    public static func save(_ loaded: LoadedModel, to url: URL) throws {
        func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try JSONEncoder().encode(v), as: UTF8.self) }
        let i = loaded.input
        let metadata = [archKey: loaded.name, classesKey: try json(loaded.classNames), meanKey: try json(i.mean),
                        stdKey: try json(i.std), inputSizeKey: try json([i.channels, i.height, i.width])]
        try SafeTensors.write(Dictionary(uniqueKeysWithValues: loaded.module.stateDict()), metadata: metadata, to: url)
    }

    private static func loadSelfDescribing(_ url: URL, store: AssetStore) throws -> LoadedModel {
        let file = try SafeTensors.read(contentsOf: url)
        guard let arch = file.metadata[archKey] else {
            throw ModelError("\(url.lastPathComponent) has no '\(archKey)' metadata; use --model NAME --weights \(url.path)")
        }
        let spec = try ModelRegistry.spec(named: arch)
        func decode<T: Decodable>(_ key: String, _ type: T.Type) throws -> T? {
            guard let s = file.metadata[key] else { return nil }
            do { return try JSONDecoder().decode(T.self, from: Data(s.utf8)) } catch {
                throw ModelError("\(url.lastPathComponent): metadata '\(key)' is not valid JSON for \(T.self)")
            }
        }
        let classes = try decode(classesKey, [String].self)
        let classCount = classes?.count ?? headClassCount(spec, file.tensors) ?? spec.classCount
        let module = spec.build(classCount, 0)
        do { try module.loadStateDict(file.tensors) } catch let e as StateDictError {
            throw ModelError("\(url.lastPathComponent) does not fit \(arch): \(e.description)")
        }
        module.eval()
        var input = spec.input
        if let mean = try decode(meanKey, [Float].self), let std = try decode(stdKey, [Float].self) {
            let size = try decode(inputSizeKey, [Int].self) ?? [input.channels, input.height, input.width]
            guard size.count == 3, mean.count == size[0], std.count == size[0] else {
                throw ModelError("\(url.lastPathComponent): interp.input_size, interp.mean and interp.std disagree")
            }
            input = InputSpec(channels: size[0], height: size[1], width: size[2],
                              resizeShortSide: input.resizeShortSide.map { _ in size[1] * 8 / 7 }, filter: input.filter,
                              mean: mean, std: std)
        }
        return LoadedModel(name: arch, module: module, input: input,
                           classNames: classes ?? ModelRegistry.classNames(spec.classNames, count: classCount),
                           gradCAMLayer: spec.gradCAMLayer, weightsSource: url.path)
    }
}

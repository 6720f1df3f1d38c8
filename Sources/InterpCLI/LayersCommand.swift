import ArgumentParser
import NNRuntime

/// `interp layers`: every capturable module call with its trunk index, type, output shape and
/// parameter count — the names `--layer` accepts.
struct LayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "List a model's layers: trunk index, path, type, output shape, parameters.",
        discussion: "--layer accepts a path (features.18), lucent's form (features_18), PATH@K for the K-th call of a module called more than once, or a trunk index."
    )

    @OptionGroup var model: ModelOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        try reportingErrors {
            let loaded = try model.load()
            let i = loaded.input
            let table = loaded.module.layerTable(input: .zeros([1, i.channels, i.height, i.width]), trunk: loaded.trunk)
            if json {
                print(try jsonText(table.map { l -> [String: Any] in
                    ["trunk_index": l.trunkIndex as Any, "path": l.name, "type": l.type, "output_shape": l.outputShape,
                     "parameters": l.parameterCount]
                }))
                return
            }
            print("\(loaded.name): input [\(i.channels), \(i.height), \(i.width)], weights \(loaded.weightsSource)")
            printTable(["index", "path", "type", "output", "params"], table.map { l in
                [l.trunkIndex.map(String.init) ?? "", l.name, l.type,
                 "[" + l.outputShape.map(String.init).joined(separator: ", ") + "]", String(l.parameterCount)]
            })
        }
    }
}

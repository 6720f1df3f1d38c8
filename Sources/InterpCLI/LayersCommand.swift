import ArgumentParser
import NNRuntime
import RDR

/// `interp layers`: every capturable module call with its trunk index, type, output shape and
/// parameter count — the names `--layer` accepts.
struct LayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "List a model's layers: trunk index, path, type, output shape, parameters.",
        discussion: "--layer accepts a path (features.18), lucent's form (features_18), PATH@K for the K-th call of a module called more than once, a trunk index, or for an .onnx model a node or tensor name."
    )

    @OptionGroup var model: ModelOptions
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Also show, per trunk index, the activation whose on/off pattern `interp rdr --layer INDEX` uses.") var rdr = false

    func run() throws {
        try reportingErrors {
            let loaded = try model.load()
            let i = loaded.input
            let table = loaded.module.layerTable(input: .zeros([1, i.channels, i.height, i.width]), trunk: loaded.trunk)
            let aliasing = loaded.module as? LayerAliasing
            // RDR's configuration layer per trunk index (none after the last activation).
            let configurations: [Int: ConfigurationLayer] = rdr ? Dictionary(uniqueKeysWithValues: loaded.trunk.indices.compactMap { index in
                (try? ConfigurationLayer.resolve(model: loaded.module, trunk: loaded.trunk, index: index, input: i)).map { (index, $0) }
            }) : [:]
            if json {
                print(try jsonText(table.map { l -> [String: Any] in
                    var row: [String: Any] = ["trunk_index": l.trunkIndex as Any, "path": l.name, "type": l.type, "output_shape": l.outputShape,
                                              "parameters": l.parameterCount]
                    if let names = aliasing?.aliases(of: l.name), !names.isEmpty { row["onnx_names"] = names }
                    if let c = l.trunkIndex.flatMap({ configurations[$0] }) {
                        row["rdr_configuration"] = ["path": c.configuration.captureName, "type": c.configurationType, "units": c.units]
                    }
                    return row
                }))
                return
            }
            print("\(loaded.name): input [\(i.channels), \(i.height), \(i.width)], weights \(loaded.weightsSource)")
            let header = ["index", "path", "type", "output", "params"] + (aliasing == nil ? [] : ["onnx output"])
            printTable(header + (rdr ? ["rdr configuration"] : []), table.map { l -> [String] in
                let shape = "[" + l.outputShape.map(String.init).joined(separator: ", ") + "]"
                var row: [String] = [l.trunkIndex.map(String.init) ?? "", l.name, l.type, shape, String(l.parameterCount)]
                if let aliasing { row.append(aliasing.aliases(of: l.name).first ?? "") }
                if rdr {
                    let c: ConfigurationLayer? = l.trunkIndex.flatMap { configurations[$0] }
                    row.append(c.map { "\($0.configuration.captureName) (\($0.units) units)" } ?? "")
                }
                return row
            })
        }
    }
}

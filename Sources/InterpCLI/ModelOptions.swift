import ArgumentParser
import Foundation
import NNRuntime

/// `--model`, `--weights`, `--random-init`, `--seed`: which network to open, shared by every command.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A zoo model (\(ModelRegistry.all.map(\.name).joined(separator: ", "))), a .safetensors file written by interp, or an .onnx graph.",
                               valueName: "name|file"))
    var model = "mobilenet_v2"

    @Option(help: ArgumentHelp("Weights to load into the architecture (.pth zip or legacy, or .safetensors), strictly.", valueName: "file"))
    var weights: String?

    @Flag(help: "Use seeded random weights (needed for zoo models without fetchable weights when --weights is absent).")
    var randomInit = false

    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 0

    @OptionGroup(title: "Input of an .onnx model") var input: InputOptions

    func load() throws -> LoadedModel {
        try loadModel(model, weights: weights, randomInit: randomInit, seed: seed, input: input)
    }
}

/// `--model`, `--weights`, `--random-init` for the method commands, where `--activations` can stand in
/// for the model (so none of them is required, unlike ``ModelOptions``).
struct OptionalModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A zoo model, a .safetensors file written by interp, or an .onnx graph.", valueName: "name|file")) var model: String?
    @Option(help: ArgumentHelp("Weights to load into the architecture (.pth or .safetensors).", valueName: "file")) var weights: String?
    @Flag(help: "Use randomly initialised weights (never implied).") var randomInit = false
    @OptionGroup(title: "Input of an .onnx model") var input: InputOptions

    /// The model, when one was given.
    func loadModel(seed: UInt64) throws -> LoadedModel? {
        try model.map { try InterpCLI.loadModel($0, weights: weights, randomInit: randomInit, seed: seed, input: input) }
    }

    /// The model, when one was given, and `layer` resolved in it.
    func load(seed: UInt64, layer: String?) throws -> (LoadedModel?, LayerPath?) {
        guard let loaded = try loadModel(seed: seed) else { return (nil, nil) }
        return (loaded, try layer.map { try loaded.module.resolveLayer($0, trunk: loaded.trunk) })
    }
}

/// `--neurons`: `all`, or ids and ranges such as `0-63,100`, returned sorted without repeats.
func parseNeuronList(_ text: String, channels: Int) throws -> [Int] {
    if text == "all" { return Array(0..<channels) }
    var ids = Set<Int>()
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--neurons: '\(part)' is not an id or a range a-b (expected e.g. 0-63,100 or all)")
        }
        let lo = bounds[0]!, hi = bounds.last!!
        guard lo <= hi, lo >= 0, hi < channels else {
            throw ValidationError("--neurons: '\(part)' is outside the layer's neurons 0…\(channels - 1)")
        }
        ids.formUnion(lo...hi)
    }
    return ids.sorted()
}

/// Percentages as `a-b` (the integers from a to b) or a comma-separated list, each within (0, 100].
func parsePercentages(_ text: String, flag: String) throws -> [Double] {
    let bounds = text.split(separator: "-").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    var values: [Double]
    if bounds.count == 2, let lo = bounds[0], let hi = bounds[1], lo <= hi, lo == lo.rounded(), hi == hi.rounded() {
        values = Array(stride(from: lo, through: hi, by: 1))
    } else {
        values = try text.split(separator: ",").map { part in
            guard let v = Double(part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(flag): '\(part)' is not a number (expected e.g. 1-10 or 10,30,50)")
            }
            return v
        }
    }
    guard !values.isEmpty, values.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
        throw ValidationError("\(flag) must lie within (0, 100], got \(text)")
    }
    return values
}

/// Writes a one-line error to stderr and exits non-zero, for errors from the runtime.
func fail(_ error: Error) -> Never {
    FileHandle.standardError.write(Data("interp: error: \(error)\n".utf8))
    exit(1)
}

extension ParsableCommand {
    /// Runs `body`, turning any error into one clean line on stderr and exit code 1.
    func reportingErrors(_ body: () throws -> Void) throws {
        do { try body() } catch let e as ValidationError { throw e } catch let e as CleanExit { throw e } catch { fail(error) }
    }
}

/// Prints an aligned text table.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for r in rows { print(line(r)) }
}

/// JSON text with sorted keys, for `--json` output.
func jsonText(_ value: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
}

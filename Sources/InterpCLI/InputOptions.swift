import ArgumentParser
import Foundation
import NNRuntime
import NNRuntimeONNX

/// `--preprocess`, `--resize`, `--crop`, `--mean`, `--std`, `--classes`: how to feed an `.onnx`
/// model, which carries no preprocessing (a sidecar `NAME.json` may hold the same; these win).
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Preprocessing of an .onnx model: \(ONNXInputOptions.presets.joined(separator: "|")).", valueName: "preset"))
    var preprocess: String?
    @Option(help: ArgumentHelp("Short side to resize to before the centre crop (.onnx models).", valueName: "pixels")) var resize: Int?
    @Option(help: ArgumentHelp("Centre-crop size, the input size of an .onnx model whose graph leaves it open.", valueName: "pixels")) var crop: Int?
    @Option(help: ArgumentHelp("Per-channel mean on [0, 1] pixels (.onnx models), e.g. 0.485,0.456,0.406.", valueName: "list")) var mean: String?
    @Option(help: ArgumentHelp("Per-channel std on [0, 1] pixels (.onnx models).", valueName: "list")) var std: String?
    @Option(help: ArgumentHelp("Class names of an .onnx model: imagenet, digits, cifar10, or a text file with one name per line.", valueName: "list|file"))
    var classes: String?

    var isEmpty: Bool { [preprocess, mean, std, classes].allSatisfy { $0 == nil } && resize == nil && crop == nil }

    func options() throws -> ONNXInputOptions {
        func floats(_ text: String?, _ flag: String) throws -> [Float]? {
            try text.map { t in
                try t.split(separator: ",").map {
                    guard let v = Float($0.trimmingCharacters(in: .whitespaces)) else {
                        throw ValidationError("\(flag): '\($0)' is not a number (expected e.g. 0.485,0.456,0.406)")
                    }
                    return v
                }
            }
        }
        var names: ONNXInputOptions.ClassNames?
        if let classes {
            if ["imagenet", "digits", "cifar10"].contains(classes) {
                names = .named(classes)
            } else {
                guard let text = try? String(contentsOfFile: classes, encoding: .utf8) else {
                    throw ValidationError("--classes: '\(classes)' is neither imagenet, digits, cifar10 nor a readable text file")
                }
                names = .list(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            }
        }
        if let preprocess, !ONNXInputOptions.presets.contains(preprocess) {
            throw ValidationError("--preprocess: '\(preprocess)' is not one of \(ONNXInputOptions.presets.joined(separator: ", "))")
        }
        for (flag, v) in [("--resize", resize), ("--crop", crop)] where v != nil && v! <= 0 {
            throw ValidationError("\(flag) must be positive, got \(v!)")
        }
        return ONNXInputOptions(preprocess: preprocess, resize: resize, crop: crop, mean: try floats(mean, "--mean"),
                                std: try floats(std, "--std"), classes: names)
    }
}

/// Opens `--model`: a zoo name, an interp `.safetensors`, or an `.onnx` graph with its input options.
func loadModel(_ model: String, weights: String?, randomInit: Bool, seed: UInt64, input: InputOptions) throws -> LoadedModel {
    if model.hasSuffix(".onnx") {
        guard weights == nil else { throw ValidationError("--weights does not apply to an .onnx model: its weights are in the graph") }
        guard !randomInit else { throw ValidationError("--random-init does not apply to an .onnx model: its weights are in the graph") }
        return try ONNXLoader.load(model, options: try input.options())
    }
    guard input.isEmpty else {
        throw ValidationError("--preprocess, --resize, --crop, --mean, --std and --classes apply to .onnx models; '\(model)' knows its own input")
    }
    return try ModelLoader.load(model: model, weights: weights, randomInit: randomInit, seed: seed)
}

/// Retraining builds the architecture afresh, which needs a zoo architecture.
func rejectONNXForRetraining(_ model: String, command: String) throws {
    if model.hasSuffix(".onnx") {
        throw ValidationError("\(command) retrains the model from scratch, which needs a zoo architecture (\(ModelRegistry.all.map(\.name).joined(separator: ", "))); an .onnx graph can be analysed by dora, invert, rdr, attribute and perturb, not retrained")
    }
}

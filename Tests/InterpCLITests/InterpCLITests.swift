import Testing
import ArgumentParser
@testable import InterpCLI

@Suite struct InterpCLITests {
    @Test func versionFlagPrintsTheVersion() {
        do {
            _ = try Interp.parseAsRoot(["--version"])
            Issue.record("--version should exit cleanly")
        } catch {
            #expect(Interp.message(for: error) == Interp.version)
            #expect(Interp.exitCode(for: error) == .success)
        }
    }

    @Test func helpListsSubcommands() {
        let help = Interp.helpMessage()
        #expect(help.contains("USAGE: interp"))
        #expect(help.contains("ops"))
    }

    @Test func unknownSubcommandIsAnError() {
        #expect(throws: (any Error).self) { try Interp.parseAsRoot(["no-such-command"]) }
    }

    @Test func opsParses() throws {
        let command = try Interp.parseAsRoot(["ops"])
        #expect(command is OpsCommand)
    }
}

import Foundation
import NNRuntime

@Suite struct ModelCommandTests {
    @Test func validationErrorsNameTheFlag() {
        #expect { try Interp.parseAsRoot(["predict", "--model", "mnist_cnn"]) } throws: {
            Interp.message(for: $0).contains("--image")
        }
        #expect { try Interp.parseAsRoot(["activations", "--layer", "1", "--data", "x", "--out", "a.txt"]) } throws: {
            Interp.message(for: $0).contains(".npy")
        }
        #expect { try Interp.parseAsRoot(["predict", "--image", "a.png", "--top", "0"]) } throws: {
            Interp.message(for: $0).contains("--top")
        }
    }

    @Test func modelOptionsDefaultToMobileNetV2() throws {
        let command = try Interp.parseAsRoot(["layers"]) as! LayersCommand
        #expect(command.model.model == "mobilenet_v2" && !command.model.randomInit)
    }

    @Test func unknownModelsAndMissingWeightsAreClearErrors() {
        #expect { try ModelLoader.load(model: "alexnet") } throws: { "\($0)".contains("unknown model 'alexnet'") && "\($0)".contains("mobilenet_v2") }
        #expect { try ModelLoader.load(model: "resnet18") } throws: { "\($0)".contains("--weights FILE") && "\($0)".contains("--random-init") }
        #expect { try ModelLoader.load(model: "resnet8", weights: "/nonexistent.pth") } throws: { "\($0)".contains("does not exist") }
    }

    @Test func randomInitWeightsRoundTripThroughSelfDescribingSafetensors() throws {
        let loaded = try ModelLoader.load(model: "resnet8", randomInit: true, seed: 3)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("r8-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelLoader.save(loaded, to: url)
        let again = try ModelLoader.load(model: url.path)
        #expect(again.name == "resnet8" && again.classNames == loaded.classNames && again.input == loaded.input)
        var gen = SeededGenerator(seed: 1)
        let x = Tensor.randn([2, 3, 32, 32], using: &gen)
        #expect(withoutGradients { again.module(x) }.scalars == withoutGradients { loaded.module(x) }.scalars)
        // A state dict of another architecture names the mismatching keys.
        #expect { try ModelLoader.load(model: "mnist_cnn", weights: url.path) } throws: {
            "\($0)".contains("does not fit mnist_cnn") && "\($0)".contains("missing keys: conv_layers.0.weight")
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["CI"] != nil
                   || (try? AssetStore().url(of: AssetManifest.locate().asset(named: "foolbox-samples"))) != nil))
    func activationsCommandWritesRowsAndImageList() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("A.npy").path
        var command = try Interp.parseAsRoot(["activations", "--model", "mnist_cnn", "--layer", "conv_layers.3",
                                              "--data", "foolbox-mnist", "--out", out])
        try command.run()
        let a = try NPY.read(contentsOf: URL(fileURLWithPath: out))
        #expect(a.shape == [20, 64])
        let list = try String(contentsOfFile: dir.appendingPathComponent("A.images.txt").path, encoding: .utf8)
        #expect(list.split(separator: "\n").count == 20 && list.contains("mnist_00_"))
    }
}

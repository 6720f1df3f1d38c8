import Foundation
import Testing
import NNRuntime
@testable import InterpCLI

@Suite struct ConfigTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func flagsOverrideConfigWhichOverridesDefaults() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try "model: resnet8\ndata: somewhere\nepochs: 7\nbatch-size: 32\nhflip: true\nnesterov: false\n".write(to: url, atomically: true, encoding: .utf8)
        let args = try ConfigFile.expand(["train", "--config", url.path, "--epochs", "2"])
        let command = try Interp.parseAsRoot(args) as! TrainCommand
        #expect(command.epochs == 2, "the flag wins")
        #expect(command.training.batchSize == 32 && command.model == "resnet8" && command.training.hflip && !command.training.nesterov, "the config fills the rest")
        #expect(command.training.learningRate == 1e-3, "defaults stay")
        try "- not\n- a mapping\n".write(to: url, atomically: true, encoding: .utf8)
        #expect { try ConfigFile.expand(["train", "--config", url.path]) } throws: { "\($0)".contains("expected a mapping") }
    }

    @Test(arguments: ["train-resnet8-cifar10.yaml", "train-mnist_cnn-mnist5k.yaml", "train-resnet8-shapes.yaml"])
    func committedConfigsParse(_ name: String) throws {
        let args = try ConfigFile.expand(["train", "--config", Self.root.appendingPathComponent("Configs/\(name)").path])
        let command = try Interp.parseAsRoot(args) as! TrainCommand
        #expect(command.epochs > 0)
    }

    @Test func cifarRecipeRunsOneEpochOnASyntheticCIFARFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cifar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var gen = SeededGenerator(seed: 3)
        func records(_ n: Int) -> Data {
            var d = Data()
            for i in 0..<n { d.append(UInt8(i % 10)); d.append(contentsOf: (0..<3072).map { _ in UInt8(gen.next() % 256) }) }
            return d
        }
        try records(24).write(to: dir.appendingPathComponent("data_batch_1.bin"))
        try records(6).write(to: dir.appendingPathComponent("test_batch.bin"))
        let out = dir.appendingPathComponent("run")
        let args = try ConfigFile.expand(["train", "--config", Self.root.appendingPathComponent("Configs/train-resnet8-cifar10.yaml").path,
                                          "--data", dir.path, "--epochs", "1", "--batch-size", "8", "--out", out.path])
        var command = try Interp.parseAsRoot(args)
        try command.run()
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("result.json"))) as! [String: Any]
        #expect(result["epochs"] as? Int == 1)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        let training = config["training"] as! [String: Any]
        #expect(training["schedule"] as? String == "step:10:0.5" && training["optimizer"] as? String == "adam")
        #expect(try ModelLoader.load(model: out.appendingPathComponent("model.safetensors").path).classNames.first == "airplane")
    }
}

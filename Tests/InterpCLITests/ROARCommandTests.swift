import Foundation
import Testing
import ArgumentParser
import NNRuntime
@testable import InterpCLI

/// `interp roar` end to end on a tiny image folder, including a run that is cut short and resumed.
@Suite struct ROARCommandTests {
    /// 28×28 gray digits-like images: class "bright" has a bright square in the top-left corner.
    func makeData(_ dir: URL) throws {
        var gen = SeededGenerator(seed: 9)
        for split in ["train", "test"] {
            for (label, name) in ["dark", "bright"].enumerated() {
                let folder = dir.appendingPathComponent(split).appendingPathComponent(name)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for i in 0..<(split == "train" ? 24 : 8) {
                    let pixels = (0..<(28 * 28)).map { p -> UInt8 in
                        let inSquare = p % 28 < 10 && p / 28 < 10
                        return UInt8(min(255, Int(gen.nextUniform() * 60) + (inSquare && label == 1 ? 180 : 0)))
                    }
                    try Image(width: 28, height: 28, channels: 1, pixels: pixels).write(to: folder.appendingPathComponent("\(i).png"))
                }
            }
        }
    }

    @Test func retrainsEveryUnitAndResumesWithoutRedoingFinishedOnes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("roar-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try makeData(dir.appendingPathComponent("data"))
        let out = dir.appendingPathComponent("run")
        let args = ["roar", "--model", "mnist_cnn", "--data", dir.appendingPathComponent("data").path, "--attribution", "saliency",
                    "--fractions", "30,60", "--runs", "1", "--epochs", "1", "--batch-size", "16", "--out", out.path]
        try (try #require(try Interp.parseAsRoot(args) as? ROARCommand)).run()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("result.json"))) as! [String: Any]
        #expect(json["kind"] as? String == "roar" && json["fractions"] as? [Double] == [30, 60])
        let methods = try #require(json["methods"] as? [String: [String: Any]])
        #expect(Set(methods.keys) == ["saliency", "random"], "the random baseline always runs")
        for (_, m) in methods {
            #expect((m["runs"] as? [[Double]])?.first?.count == 2 && (m["mean"] as? [Double])?.count == 2 && (m["std"] as? [Double])?.count == 2)
        }
        // Cut short: one unit lost its result (killed before it finished); the others are done.
        let units = out.appendingPathComponent("units")
        try FileManager.default.removeItem(at: units.appendingPathComponent("roar-random-60-run0/result.json"))
        let kept = units.appendingPathComponent("roar-saliency-30-run0/result.json")
        let stamp = try FileManager.default.attributesOfItem(atPath: kept.path)[.modificationDate] as! Date
        let base = units.appendingPathComponent("roar-base-0-run0/result.json")
        let baseStamp = try FileManager.default.attributesOfItem(atPath: base.path)[.modificationDate] as! Date
        try (try #require(try Interp.parseAsRoot(args) as? ROARCommand)).run()
        #expect(try FileManager.default.attributesOfItem(atPath: kept.path)[.modificationDate] as! Date == stamp, "a finished unit was retrained")
        #expect(try FileManager.default.attributesOfItem(atPath: base.path)[.modificationDate] as! Date == baseStamp, "the base model was retrained")
        #expect(FileManager.default.fileExists(atPath: units.appendingPathComponent("roar-random-60-run0/result.json").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
    }

    @Test func badOptionsAreOneLine() throws {
        #expect { try Interp.parseAsRoot(["roar", "--model", "mnist_cnn", "--data", "d", "--attribution", "saliency", "--fractions", "10,150"]) } throws: {
            Interp.message(for: $0).contains("(0, 100]")
        }
        #expect { try Interp.parseAsRoot(["roar", "--model", "mnist_cnn", "--data", "d", "--attribution", "saliency", "--runs", "0"]) } throws: {
            Interp.message(for: $0).contains("--runs")
        }
        let command = try Interp.parseAsRoot(["roar", "--model", "m", "--data", "d", "--attribution", "gradcam,sg2"]) as! ROARCommand
        #expect(try command.evaluated().map(\.rawValue) == ["gradcam", "smoothgrad-squared", "random"])
    }
}

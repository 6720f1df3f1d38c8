import Foundation
import Testing
import ArgumentParser
import NNRuntime
@testable import DoraCore
@testable import InterpCLI

/// `interp dora`: option resolution, neuron lists, and an analysis-only run end to end.
@Suite struct DoraCommandTests {
    @Test func neuronListsParseAndRejectBadInput() throws {
        #expect(try DoraCommand.parseNeurons("0-3,7,2", channels: 10, preset: nil) == [0, 1, 2, 3, 7])
        #expect(try DoraCommand.parseNeurons(nil, channels: 5, preset: nil) == [0, 1, 2, 3, 4])
        #expect(try DoraCommand.parseNeurons(nil, channels: 320, preset: .quick).count == 64)
        for bad in ["0-12", "3-1", "a", "1,2", "-4"] {
            #expect(throws: ValidationError.self, "'\(bad)'") { try DoraCommand.parseNeurons(bad, channels: 10, preset: nil) }
        }
    }

    @Test func presetsYieldToExplicitFlags() throws {
        let quick = try #require(try Interp.parseAsRoot(["dora", "--model", "mobilenet_v2", "--layer", "18", "--preset", "quick", "--iters", "7"]) as? DoraCommand)
        let c = try quick.resolvedConfiguration(input: .imagenet)
        #expect(c.generation.iterations == 7 && c.generation.height == 128)
        let paper = try #require(try Interp.parseAsRoot(["dora", "--model", "m", "--layer", "1", "--preset", "paper", "--lr", "0.05"]) as? DoraCommand)
        let p = try paper.resolvedConfiguration(input: .imagenet)
        #expect(p.signalsPerNeuron == 5 && p.generation.learningRate == 0.05 && p.generation.transforms == .notebook)
        #expect { try Interp.parseAsRoot(["dora", "--layer", "1"]) } throws: { Interp.message(for: $0).contains("--activations") }
        var bad = try Interp.parseAsRoot(["dora", "--activations", "a.npy", "--outliers-fraction", "0.7"])
        #expect { try bad.run() } throws: { Interp.message(for: $0).contains("outliers fraction") }
    }

    /// A planted activation matrix: 23 neurons in one block that excite each other, one that answers
    /// only to itself. The analysis must flag that one first and write every output. (The block is
    /// larger than LOF's 20 neighbours, so the outlier's neighbourhood cannot be the whole set.)
    @Test func analysisOnlyRunFlagsThePlantedOutlier() throws {
        let k = 24
        var a = [Float](repeating: 0, count: k * k)
        var gen = SeededGenerator(seed: 4)
        for i in 0..<k { for j in 0..<k {
            let together = (i < k - 1) == (j < k - 1)
            a[i * k + j] = (together ? 1 : 0.02) + 0.1 * gen.nextUniform() + (i == j ? 0.5 : 0)
        } }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dora-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("A.npy")
        try NPY.write(Tensor(shape: [k, k], scalars: a), to: input)
        let out = dir.appendingPathComponent("run")
        let command = try #require(try Interp.parseAsRoot(["dora", "--activations", input.path, "--outliers-fraction", "0.1",
                                                             "--embedding", "mds", "--out", out.path]) as? DoraCommand)
        try command.run()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("result.json"))) as! [String: Any]
        #expect((json["outliers"] as? [Int])?.first == k - 1)
        #expect((json["is_outlier"] as? [Bool])?[k - 1] == true)
        #expect((json["neurons"] as? [Int])?.count == k)
        #expect((json["embedding"] as? [[Double]])?.count == k)
        #expect(json["specificity"] as? Double == 1)
        for file in ["activations.npy", "distances.npy", "atlas.csv", "report.html", "config.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Representation atlas") && html.contains("neuron \(k - 1)"))
    }
}

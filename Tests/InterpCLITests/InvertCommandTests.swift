import Foundation
import Testing
import ArgumentParser
import NNRuntime
@testable import InterpCLI

/// `interp invert` end to end on planted activations: each neuron fires for a known formula over a
/// concept CSV, and the run must find it, write every output and reject bad input in one line.
@Suite struct InvertCommandTests {
    /// 240 images with three random concepts; neuron 0 fires for `red & ~round`, neuron 1 for `big`,
    /// neuron 2 for nothing, neuron 3 for `round | big` (ties: integer activations).
    func plantedRun(_ extra: [String] = []) throws -> (json: [String: Any], dir: URL, out: URL) {
        let n = 240, k = 4
        var gen = SeededGenerator(seed: 11)
        var csv = "image,red,round,big,never\n", names: [String] = []
        var a = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let red = gen.nextUniform() < 0.4, round = gen.nextUniform() < 0.5, big = gen.nextUniform() < 0.3
            let name = String(format: "img/%03d.png", i)
            names.append(name)
            csv += "\(name),\(red ? 1 : 0),\(round ? 1 : 0),\(big ? 1 : 0),0\n"
            a[i * k + 0] = (red && !round ? 2 : 0) + 0.5 * gen.nextUniform()
            a[i * k + 1] = (big ? 1 : 0) + 0.9 * gen.nextUniform()
            a[i * k + 2] = gen.nextUniform()
            a[i * k + 3] = (round || big) ? 1 : 0
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("invert-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(csv.utf8).write(to: dir.appendingPathComponent("concepts.csv"))
        try NPY.write(Tensor(shape: [n, k], scalars: a), to: dir.appendingPathComponent("A.npy"))
        try Data((names.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("A.images.txt"))
        let out = dir.appendingPathComponent("run")
        let command = try #require(try Interp.parseAsRoot(["invert", "--activations", dir.appendingPathComponent("A.npy").path,
                                                             "--concepts", dir.appendingPathComponent("concepts.csv").path,
                                                             "--max-fraction", "0.9", "--out", out.path] + extra) as? InvertCommand)
        try command.run()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("result.json"))) as! [String: Any]
        return (json, dir, out)
    }

    func best(_ json: [String: Any], _ neuron: Int) -> [String: Any]? {
        let rows = json["neurons"] as? [[String: Any]] ?? []
        return (rows.first { $0["neuron"] as? Int == neuron }?["explanations"] as? [[String: Any]])?.first
    }

    @Test func plantedFormulasAreFoundAndEveryOutputIsWritten() throws {
        let (json, dir, out) = try plantedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The beam keeps the first of two formulas with one mask, so either operand order can win.
        #expect(["red & ~round", "~round & red"].contains(best(json, 0)?["formula"] as? String ?? ""))
        #expect((best(json, 0)?["auc"] as? Double ?? 0) == 1)
        #expect(best(json, 1)?["formula"] as? String == "big")
        #expect(["round | big", "big | round"].contains(best(json, 3)?["formula"] as? String ?? ""))
        #expect((best(json, 3)?["p_value"] as? Double ?? 1) < 1e-20)
        #expect((best(json, 2)?["auc"] as? Double ?? 1) < 0.7)
        #expect(json["skipped_concepts"] as? [String] == ["never"])
        let first = try #require(best(json, 0))
        for key in ["formula", "length", "auc", "differentiability", "concept_fraction", "p_value"] { #expect(first[key] != nil, "\(key)") }
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Layer overview") && html.contains("Neuron 0: "))
    }

    @Test func negativeModeFindsWhatSilencesANeuron() throws {
        let (json, dir, _) = try plantedRun(["--mode", "negative", "--neurons", "0,1"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect((json["neurons"] as? [[String: Any]])?.count == 2)
        // Neuron 1 is lowest where `big` is absent: the negated literal has AUC 1 − AUC(big).
        #expect(best(json, 1)?["formula"] as? String == "~big")
        #expect((best(json, 1)?["auc"] as? Double ?? 1) < 0.1)
    }

    /// The paper's ground-truth check in small (METHODS.md §2.8: output neurons labelled with their
    /// own class): with L = B = 1 and no fraction bound, each logit of the pretrained MNIST CNN on
    /// mnist5k's test split must be labelled with its own digit.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CI"] != nil
                   || (try? AssetStore().url(of: AssetManifest.locate().asset(named: "mnist5k"))) != nil))
    func mnistLogitsAreLabelledWithTheirOwnDigit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("invert-mnist-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let command = try #require(try Interp.parseAsRoot(["invert", "--model", "mnist_cnn", "--layer", "fc_layers.2", "--data", "mnist5k",
                                                             "--concepts", "classes", "--length", "1", "--beam", "1",
                                                             "--max-fraction", "1", "--out", dir.path]) as? InvertCommand)
        try command.run()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("result.json"))) as! [String: Any]
        for digit in 0..<10 {
            #expect(best(json, digit)?["formula"] as? String == "class \(digit)")
            #expect((best(json, digit)?["auc"] as? Double ?? 0) > 0.99)
        }
        #expect(json["images"] as? Int == 1000)
    }

    @Test func badInputIsOneLine() throws {
        #expect { try Interp.parseAsRoot(["invert", "--concepts", "c.csv"]) } throws: { Interp.message(for: $0).contains("--activations") }
        #expect { try Interp.parseAsRoot(["invert", "--activations", "a.npy", "--concepts", "c.csv", "--beam", "0"]) } throws: {
            Interp.message(for: $0).lowercased().contains("beam")
        }
        #expect { try Interp.parseAsRoot(["invert", "--activations", "a.npy", "--concepts", "classes"]) } throws: {
            Interp.message(for: $0).contains("--data")
        }
        #expect(throws: ValidationError.self) { try parseNeuronList("2-1", channels: 4) }
        #expect(try parseNeuronList("3,0-1,1", channels: 4) == [0, 1, 3])
    }
}

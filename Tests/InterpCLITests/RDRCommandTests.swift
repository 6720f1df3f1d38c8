import Foundation
import Testing
import ArgumentParser
import NNRuntime
@testable import InterpCLI

/// `interp rdr` end to end: planted clusters in a saved activation matrix, and a real model's
/// configurations on fetched images.
@Suite struct RDRCommandTests {
    func run(_ args: [String]) throws -> [String: Any] {
        let command = try #require(try Interp.parseAsRoot(["rdr"] + args) as? RDRCommand)
        try command.run()
        let out = args[args.firstIndex(of: "--out")! + 1]
        return try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("result.json"))) as! [String: Any]
    }

    /// Three clusters of 30 rows, each with its own block of units switched on (plus noise): every
    /// region must hold its target and its k neighbours and stay inside the target's cluster.
    @Test func plantedClustersGiveRegionsInsideTheTargetsCluster() throws {
        let n = 90, d = 48
        var gen = SeededGenerator(seed: 5)
        var p = [Float](repeating: 0, count: n * d), labels: [String] = []
        for i in 0..<n {
            let cluster = i % 3
            labels.append(["alpha", "beta", "gamma"][cluster])
            for j in 0..<d {
                let inBlock = j / 16 == cluster
                p[i * d + j] = (inBlock ? (gen.nextUniform() < 0.95 ? 1 : -1) : (gen.nextUniform() < 0.1 ? 1 : -1)) * (0.5 + gen.nextUniform())
            }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rdr-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try NPY.write(Tensor(shape: [n, d], scalars: p), to: dir.appendingPathComponent("P.npy"))
        try Data((labels.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("labels.txt"))
        let json = try run(["--activations", dir.appendingPathComponent("P.npy").path, "--labels", dir.appendingPathComponent("labels.txt").path,
                            "--targets", "6", "--k", "5", "--t", "4", "--out", dir.appendingPathComponent("run").path])
        #expect(json["units"] as? Int == d)
        let targets = try #require(json["targets"] as? [[String: Any]])
        #expect(targets.count == 6)
        for t in targets {
            let target = try #require(t["target"] as? Int)
            let members = try #require(t["members"] as? [Int])
            let neighbours = (t["neighbours"] as? [[String: Any]] ?? []).compactMap { $0["index"] as? Int }
            #expect(neighbours.count == 5 && neighbours.first == target)
            #expect(members.contains(target) && Set(neighbours).isSubset(of: members))
            #expect(members.allSatisfy { $0 % 3 == target % 3 }, "region of \(target) leaves its cluster")
            #expect(t["purity"] as? Double == 1)
            let units = t["principal_units"] as? [[String: Any]] ?? []
            #expect(units.count == 4 && units.allSatisfy { ($0["index"] as? Int ?? -1) / 16 == target % 3 || $0["state"] as? Bool == false })
            let baselines = try #require(t["baselines"] as? [String: [String: Any]])
            #expect((baselines["euclidean"]?["members"] as? [Int])?.count == members.count)
            #expect((baselines["cosine"]?["members"] as? [Int])?.count == members.count)
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/report.html").path))
    }

    /// The pretrained MNIST CNN at trunk index 3 (conv_layers.3): the configuration is the ReLU after
    /// it, 64×14×14 units, and each region holds its target.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CI"] != nil
                   || (try? AssetStore().url(of: AssetManifest.locate().asset(named: "foolbox-samples"))) != nil))
    func mnistConfigurationsOnFetchedImages() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rdr-mnist-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try run(["--model", "mnist_cnn", "--layer", "3", "--data", "foolbox-mnist", "--split", "train",
                            "--targets", "2", "--k", "4", "--t", "6", "--out", dir.path])
        #expect(json["units"] as? Int == 64 * 14 * 14)
        #expect((json["configuration"] as? String)?.hasPrefix("conv_layers.4") == true)
        for t in json["targets"] as? [[String: Any]] ?? [] {
            #expect((t["members"] as? [Int])?.contains(t["target"] as? Int ?? -1) == true)
            for unit in t["principal_units"] as? [[String: Any]] ?? [] {
                let (i, c, y, x) = (unit["index"] as! Int, unit["channel"] as! Int, unit["y"] as! Int, unit["x"] as! Int)
                #expect(i == (c * 14 + y) * 14 + x)
            }
        }
    }

    @Test func badInputIsOneLine() throws {
        #expect { try Interp.parseAsRoot(["rdr", "--layer", "3"]) } throws: { Interp.message(for: $0).contains("--activations") }
        #expect { try Interp.parseAsRoot(["rdr", "--activations", "p.npy", "--target", "1", "--targets", "3"]) } throws: {
            Interp.message(for: $0).contains("one of --target")
        }
        #expect { try Interp.parseAsRoot(["rdr", "--activations", "p.npy", "--k", "0"]) } throws: { Interp.message(for: $0).contains("k") }
    }
}

import Foundation
import Testing
import ArgumentParser
import NNRuntime
@testable import InterpCLI

/// `interp perturb` end to end on the MNIST CNN and fetched digits, and its option checks.
@Suite struct PerturbCommandTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CI"] != nil
                   || (try? AssetStore().url(of: AssetManifest.locate().asset(named: "foolbox-samples"))) != nil))
    func curvesForEveryMethodAndMode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perturb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (mode, extra) in [("pixel", ["--percentiles", "5,10,20"]), ("region", ["--region", "7", "--regions", "16"])] {
            let out = dir.appendingPathComponent(mode)
            let command = try #require(try Interp.parseAsRoot(["perturb", "--model", "mnist_cnn", "--data", "foolbox-mnist", "--limit", "6",
                                                                 "--attribution", "saliency,random", "--abs", "--mode", mode, "--out", out.path] + extra) as? PerturbCommand)
            try command.run()
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("result.json"))) as! [String: Any]
            #expect(json["images"] as? Int == 6)
            let methods = try #require(json["methods"] as? [String: [String: Any]])
            #expect(Set(methods.keys) == ["saliency", "random"])
            for (_, m) in methods {
                let morf = m["morf"] as? [Double] ?? [], lerf = m["lerf"] as? [Double] ?? []
                #expect(morf.count == (mode == "pixel" ? 3 : 17) && lerf.count == morf.count)
                #expect(morf.allSatisfy(\.isFinite) && lerf.allSatisfy(\.isFinite))
                #expect(m[mode == "pixel" ? "morf_auc" : "aopc_morf"] is Double)
            }
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
        }
    }

    @Test func badOptionsAreOneLine() throws {
        #expect { try Interp.parseAsRoot(["perturb", "--data", "x", "--attribution", "gradcam", "--percentiles", "0,5"]) } throws: {
            Interp.message(for: $0).contains("(0, 100]")
        }
        #expect { try Interp.parseAsRoot(["perturb", "--data", "x", "--attribution", "nonsense"]) } throws: {
            Interp.message(for: $0).contains("unknown method 'nonsense'")
        }
        #expect(try (Interp.parseAsRoot(["perturb", "--data", "x", "--attribution", "ig", "--percentiles", "2-4"]) as! PerturbCommand).parsedPercentiles() == [2, 3, 4])
    }
}

import Foundation
import Testing
import NNRuntime
@testable import InterpCLI

struct AttributeCommandTests {
    static let samplesFetched = ProcessInfo.processInfo.environment["CI"] != nil
        || ((try? AssetStore().url(of: AssetManifest.locate().asset(named: "foolbox-samples"))) != nil
            && (try? AssetStore().url(of: AssetManifest.locate().asset(named: "mnist_cnn"))) != nil)

    @Test(.enabled(if: samplesFetched))
    func writesMapsHeatmapsResultAndGallery() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attribute-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var command = try Interp.parseAsRoot(["attribute", "--model", "mnist_cnn", "--data", "foolbox-mnist",
                                              "--attribution", "saliency,ig,gradcam,sg2,random,sobel", "--steps", "8",
                                              "--samples", "3", "--out", dir.path])
        try command.run()
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("result.json"))) as! [String: Any]
        let images = result["images"] as! [[String: Any]]
        #expect(images.count == 20)
        #expect(result["methods"] as? [String] == ["saliency", "integrated-gradients", "gradcam", "smoothgrad-squared", "random", "sobel"])
        let first = images[0]
        let stem = first["stem"] as! String
        #expect(stem.hasPrefix("mnist_00_"))
        // foolbox's MNIST samples are named by label; the model classifies them correctly.
        #expect(first["target"] as? Int == Int(stem.split(separator: "_").last!))
        #expect(first["target_name"] as? String == "\(first["target"]!)")
        let methods = first["methods"] as! [String: [String: Any]]
        let ig = methods["integrated-gradients"]!
        #expect(ig["map"] as? String == "maps/\(stem).integrated-gradients.npy")
        #expect((ig["min"] as! Double) < (ig["max"] as! Double))
        let map = try NPY.read(contentsOf: dir.appendingPathComponent(ig["map"] as! String))
        #expect(map.shape == [1, 28, 28])
        let cam = try NPY.read(contentsOf: dir.appendingPathComponent("maps/\(stem).gradcam.npy"))
        #expect(cam.shape == [1, 28, 28] && cam.scalars.allSatisfy { $0 >= 0 })
        for name in ["heatmaps/\(stem).saliency.png", "heatmaps/\(stem).sobel.overlay.png"] {
            let image = try Image.load(contentsOf: dir.appendingPathComponent(name))
            #expect(image.width == 28 && image.height == 28 && image.channels == 3)
        }
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Gallery") && html.components(separatedBy: "<img ").count - 1 == 20 * 7)
    }

    @Test func badMethodsAndOptionsAreOneLineErrors() throws {
        #expect { try Interp.parseAsRoot(["attribute", "--model", "mnist_cnn", "--image", "x.png", "--attribution", "saliency,lrp"]) } throws: {
            let m = Interp.message(for: $0)
            return m.contains("unknown method 'lrp'") && m.contains("integrated-gradients") && !m.contains("\n")
        }
        #expect { try Interp.parseAsRoot(["attribute", "--attribution", "ig"]) } throws: { Interp.message(for: $0).contains("--image") }
        var command = try Interp.parseAsRoot(["attribute", "--model", "resnet8", "--random-init", "--image", "x.png",
                                              "--attribution", "sg", "--base", "sobel"])
        #expect { try command.run() } throws: {
            let m = Interp.message(for: $0)
            return m.contains("base 'sobel' cannot be wrapped") && !m.contains("\n")
        }
    }
}

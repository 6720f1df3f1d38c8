import Foundation
import Testing
import NNRuntime
import TestSupport

/// The `.pth` reader against checkpoints written by `torch.save` (Tests/Reference/make_checkpoint_fixtures.py).
@Suite struct CheckpointTests {
    let keys = ["conv.weight", "conv.bias", "half", "bn.num_batches_tracked", "transposed", "shared_a", "shared_b",
                "double", "ints", "bytes", "flags", "bf16"]

    func expected(_ key: String) throws -> Tensor { try NPY.read(contentsOf: Fixtures.url("checkpoints/expected_\(key).npy")) }

    @Test(arguments: ["tiny_zip.pt", "tiny_legacy.pt", "nested_zip.pt"])
    func loadsEveryTensorExactly(_ file: String) throws {
        let sd = try TorchCheckpoint.load(contentsOf: Fixtures.url("checkpoints/" + file))
        #expect(Set(sd.keys) == Set(keys))
        for key in keys {
            let want = try expected(key)
            #expect(sd[key]!.shape == want.shape, "\(file) \(key)")
            #expect(sd[key]!.scalars == want.scalars, "\(file) \(key)")
        }
    }

    @Test func refusesForbiddenGlobalsWithoutRunningThem() {
        #expect { try TorchCheckpoint.load(contentsOf: Fixtures.url("checkpoints/evil.pt")) } throws: { error in
            let text = "\(error)"
            return text.contains("evil.pt") && text.contains("refusing pickle global 'os.system'") && !text.contains("\n")
        }
    }

    func temp(_ bytes: [UInt8], _ name: String = "t.pth") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url
    }

    @Test func everyTruncationOfTheLegacyFileIsAnError() throws {
        let full = try [UInt8](Data(contentsOf: Fixtures.url("checkpoints/tiny_legacy.pt")))
        for length in stride(from: 0, to: full.count, by: max(1, full.count / 300)) {
            let url = try temp(Array(full[..<length]))
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(throws: (any Error).self, "prefix of \(length) bytes") { try TorchCheckpoint.load(contentsOf: url) }
        }
    }

    @Test func clearErrorsForOtherBadFiles() throws {
        let cases: [([UInt8], String)] = [
            (Array("hello".utf8), "not a PyTorch checkpoint"),
            ([0x50, 0x4B, 0x03, 0x04, 1, 2, 3], "zip"),
            ([0x80, 0x02, 0x4B, 0x05, 0x2E], "bad magic number"),
        ]
        for (bytes, fragment) in cases {
            let url = try temp(bytes)
            defer { try? FileManager.default.removeItem(at: url) }
            #expect { try TorchCheckpoint.load(contentsOf: url) } throws: { "\($0)".contains(fragment) && !"\($0)".contains("\n") }
        }
    }

    @Test(arguments: ["tiny_zip.pt", "tiny_legacy.pt"])
    func randomCorruptionNeverTraps(_ file: String) throws {
        let good = try [UInt8](Data(contentsOf: Fixtures.url("checkpoints/" + file)))
        var gen = SeededGenerator(seed: 5)
        var failures = 0
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(file)")
        defer { try? FileManager.default.removeItem(at: url) }
        for _ in 0..<600 {
            let bytes = Corruption.mutate(good, using: &gen)
            try Data(bytes).write(to: url)
            do { _ = try TorchCheckpoint.load(contentsOf: url) } catch { failures += 1 }
        }
        #expect(failures > 0)
    }
}

@Suite struct NPYTests {
    @Test func roundTripAndAlignment() throws {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5])
        let data = NPY.encode(t)
        #expect((data.count - 24) % 64 == 0, "data starts on a 64-byte boundary")
        let back = try NPY.decode(data)
        #expect(back.shape == [2, 3] && back.scalars == t.scalars)
        #expect(try NPY.decode(NPY.encode(Tensor(3))).shape == [])
        #expect(try NPY.decode(NPY.encode(Tensor([1, 2]))).shape == [2])
    }

    func npy(_ header: String, _ body: [UInt8]) -> Data {
        var h = header
        while (10 + h.utf8.count + 1) % 16 != 0 { h += " " }
        h += "\n"
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count), 0] + Array(h.utf8) + body)
    }

    @Test func dtypesAndFortranOrder() throws {
        let i64 = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", [5, 0, 0, 0, 0, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(try NPY.decode(i64).scalars == [5, -2])
        let u8 = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", [0, 128, 255])
        #expect(try NPY.decode(u8).scalars == [0, 128, 255])
        // Fortran order: the first axis varies fastest, so [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        let f: [Float] = [1, 4, 2, 5, 3, 6]
        let fortran = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                          f.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        #expect(try NPY.decode(fortran).scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test func badFilesAreOneLineErrors() {
        let cases: [(Data, String)] = [
            (Data("nope".utf8), "bad magic"),
            (npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0]), "big-endian"),
            (npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0, 0, 0, 0, 0]), "unsupported dtype"),
            (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", [0, 0, 0, 0]), "needs 12"),
            (npy("{'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0]), "lacks 'descr'"),
            (Data([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x7F]), "runs past the end"),
        ]
        for (data, fragment) in cases {
            #expect { try NPY.decode(data) } throws: { "\($0)".contains(fragment) && !"\($0)".contains("\n") }
        }
    }
}

import Foundation
import Testing
import NNRuntime
import TestSupport

/// The `.pth` reader against checkpoints written by `torch.save` in both on-disk formats
/// (Tests/Reference/make_checkpoint_fixtures.py), and against damaged and hostile files: every
/// one must give a one-line `CheckpointError` naming the file, never a trap, a hang or a call.
@Suite struct CheckpointTests {
    static let keys = ["conv.weight", "conv.bias", "half", "bn.num_batches_tracked", "transposed", "shared_a", "shared_b",
                       "double", "ints", "bytes", "flags", "bf16", "param", "empty"]

    func fixture(_ name: String) -> URL { Fixtures.url("checkpoints/" + name) }
    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: fixture(name))) }

    /// A scratch file holding `bytes`; the caller removes it.
    func temp(_ bytes: [UInt8], _ name: String = "t.pth") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url
    }

    /// Loading `url` throws a one-line `CheckpointError` that names the file and contains `fragment`.
    func expectError(_ url: URL, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) { try TorchCheckpoint.load(contentsOf: url) }
        check(error, url.lastPathComponent, fragment, sourceLocation)
    }

    /// Decoding `bytes` (in memory: writing thousands of scratch files would dominate the test's
    /// time) throws a one-line `CheckpointError` that names the file and contains `fragment`.
    func expectError(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) {
            try TorchCheckpoint.decode(Data(bytes), name: "bad.pth")
        }
        check(error, "bad.pth", fragment, sourceLocation)
    }

    func check(_ error: CheckpointError?, _ file: String, _ fragment: String, _ sourceLocation: SourceLocation) {
        guard let text = error?.description else { return }
        #expect(text.hasPrefix(file + ": ") && (fragment.isEmpty || text.contains(fragment)) && !text.contains("\n"), "\(text)",
                sourceLocation: sourceLocation)
    }

    // MARK: - Reading what torch.save wrote

    @Test(arguments: ["tiny_zip.pt", "tiny_legacy.pt", "nested_zip.pt"])
    func loadsEveryTensorExactly(_ file: String) throws {
        let sd = try TorchCheckpoint.load(contentsOf: fixture(file))
        #expect(Set(sd.keys) == Set(Self.keys))
        for key in Self.keys {
            let want = try NPY.read(contentsOf: fixture("expected_\(key).npy"))
            let got = try #require(sd[key], "\(file) lacks \(key)")
            #expect(got.shape == want.shape, "\(file) \(key)")
            #expect(got.scalars.map(\.bitPattern) == want.scalars.map(\.bitPattern), "\(file) \(key)")
        }
    }

    /// The layouts the fixture exercises, spelled out: views, shared storage, dtypes, 0-d and empty tensors.
    @Test func stridesOffsetsAndDtypes() throws {
        let sd = try TorchCheckpoint.load(contentsOf: fixture("tiny_legacy.pt"))
        let transposed = try #require(sd["transposed"]), a = try #require(sd["shared_a"]), b = try #require(sd["shared_b"])
        #expect(transposed.shape == [6, 4])
        #expect(a.shape == [4] && b.shape == [2, 2])
        #expect(a.scalars[3] == b.scalars[0], "shared[5] seen through both views")
        #expect(sd["bn.num_batches_tracked"]!.shape == [] && sd["bn.num_batches_tracked"]!.scalar == 7)
        #expect(sd["empty"]!.shape == [0, 3])
        #expect(sd["ints"]!.scalars == [-3, -2, -1, 0, 1, 2])
        #expect(sd["bytes"]!.scalars == [0, 7, 255])
        #expect(sd["flags"]!.scalars == [1, 0, 1])
        #expect(sd["param"]!.shape == [2, 3])
    }

    // MARK: - Hostile files

    @Test func refusesForbiddenGlobalsWithoutRunningThem() throws {
        expectError(fixture("evil.pt"), "refusing pickle global 'os.system'")
        expectError(fixture("evil_zip.pt"), "refusing pickle global 'posix.system'")
        // Protocol 4 spelling (STACK_GLOBAL), calling os.system("touch <marker>"): the marker must not appear.
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("interp-pwned-\(UUID().uuidString)").path
        let command = Array("touch \(marker)".utf8)
        let pickle: [UInt8] = [0x80, 0x04, 0x8C, 2] + Array("os".utf8) + [0x8C, 6] + Array("system".utf8) + [0x93, 0x8C, UInt8(command.count)]
            + command + [0x85, 0x52, 0x2E]
        expectError(pickle, "refusing pickle global 'os.system' (only tensor rebuilds")
        #expect(!FileManager.default.fileExists(atPath: marker))
        expectError([0x80, 0x02] + Array("cbuiltins\neval\n".utf8) + [0x2E], "'builtins.eval'")
    }

    @Test func unsupportedDtypeIsNamed() {
        expectError(fixture("complex_zip.pt"), "unsupported tensor dtype 'torch.ComplexFloatStorage'")
    }

    @Test(arguments: [
        ("missing_storage_zip.pt", "storage '0' is missing"),
        ("short_storage_zip.pt", "storage '0' holds 48 bytes, but 24 FloatStorage elements need 96"),
        ("view_past_storage.pt", "needs 5 elements, but storage '0' holds 4: storage too small"),
        ("view_overflow.pt", "overflows"),
        ("view_huge.pt", "expands 4 stored elements to 1099511627776"),
        // A zip64 field placing the local header at 2^64 - 16 (ZIPFoundation's Archive traps on it).
        ("zip64_offset.pt", "corrupt zip archive: a size or offset (18446744073709551600) points past the end"),
    ])
    func storagesThatDoNotFitTheirViews(_ file: String, _ fragment: String) {
        expectError(fixture(file), fragment)
    }

    /// Pickles that try to exhaust the reader: each is an error at once, with memory and time in
    /// proportion to the file.
    @Test func hostilePicklesAreBoundedErrors() throws {
        let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        let header = magic + [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E] + [0x80, 0x02, 0x7D, 0x2E]   // + protocol 1001, sys_info {}
        let cases: [([UInt8], String)] = [
            // 200,000 nested tuples: a flat heap, so no recursive release can overflow the call stack.
            ([0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 200_000) + [0x2E], "bad magic number"),
            ([0x80, 0x02] + [UInt8](repeating: 0x28, count: 70_000), "more than 65536 marks"),
            ([0x80, 0x02, 0x8D] + [UInt8](repeating: 0xFF, count: 8), "runs past the end"),        // 2^64-byte string
            ([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41], "runs past the end"),
            ([0x80, 0x02, 0x8B, 0x00, 0x00, 0x01, 0x00] + [UInt8](repeating: 0, count: 65536), "too large"),  // LONG4
            ([0x80, 0x02, 0x68, 0x07, 0x2E], "memo entry 7 is not defined"),
            ([0x80, 0x02, 0x61, 0x2E], "stack underflow"),
            ([0x80, 0x02, 0x28, 0x73], "stack underflow"),                                    // SETITEM across a MARK
            ([0x80, 0x02, 0x4B, 0x01, 0x4B, 0x02, 0x61], "APPEND to a int"),
            ([0x80, 0x02, 0x49, 0x31, 0x0A, 0x2E], "unsupported pickle opcode 0x49"),           // text INT
            ([0x80, 0x09, 0x2E], "unsupported pickle protocol 9"),
            (Array(magic.dropLast()), "truncated pickle"),
            // A state dict containing itself under "state_dict": descending must stop.
            (header + [0x80, 0x02, 0x7D, 0x71, 0x00, 0x58, 10, 0, 0, 0] + Array("state_dict".utf8) + [0x68, 0x00, 0x73, 0x2E]
                + [0x80, 0x02, 0x5D, 0x2E], "holds no tensors"),
            // A self-referencing list as the storage key list.
            (header + [0x80, 0x02, 0x7D, 0x2E, 0x80, 0x02, 0x5D, 0x32, 0x61, 0x2E], "storage key list holds a list"),
            // A persistent id that is not a storage.
            (header + [0x80, 0x02, 0x4B, 0x01, 0x85, 0x51, 0x2E], "unsupported persistent id"),
        ]
        for (bytes, fragment) in cases { expectError(bytes, fragment) }
    }

    // MARK: - Damaged files

    @Test func clearErrorsForOtherBadFiles() throws {
        expectError(Array("hello".utf8), "not a PyTorch checkpoint (neither a zip archive nor a pickle)")
        expectError([], "empty file")
        expectError([0x50, 0x4B, 0x03, 0x04, 1, 2, 3], "corrupt zip archive")
        expectError([0x80, 0x02, 0x4B, 0x05, 0x2E], "bad magic number")
        expectError(try bytes("npy_f4.npy"), "not a PyTorch checkpoint")
        expectError(try bytes("arrays.npz"), "has no <root>/data.pkl")
        expectError(FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).pth"), "cannot read file")
        // The central directory overwritten: the zip no longer lists its entries.
        var zip = try bytes("tiny_zip.pt")
        let cd = try #require(zip.indices.reversed().first { zip[$0...].starts(with: [0x50, 0x4B, 0x01, 0x02]) })
        for i in cd..<min(cd + 40, zip.count) { zip[i] = 0xEE }
        expectError(zip, "corrupt zip archive")
        // One byte of the stored data.pkl changed: the CRC-32 catches it.
        var flipped = try bytes("tiny_zip.pt")
        let name = Array("tiny_zip/data.pkl".utf8)
        let local = try #require(flipped.indices.first { flipped[$0...].starts(with: name) }) - 30
        let dataStart = local + 30 + name.count + Int(flipped[local + 28]) + Int(flipped[local + 29]) << 8
        flipped[dataStart + 10] ^= 0x01
        expectError(flipped, "CRC-32 mismatch in 'tiny_zip/data.pkl'")
    }

    @Test func everyTruncationIsAnError() throws {
        for file in ["tiny_legacy.pt", "tiny_zip.pt"] {
            let full = try bytes(file)
            // A spread over the whole file, and every length near both ends, where the headers are.
            let lengths = Set(Array(stride(from: 0, to: full.count, by: 5)) + Array(0..<128) + Array(full.count - 128..<full.count))
            for length in lengths.sorted() {
                expectError(Array(full[..<length]), "")
            }
        }
        let url = try temp(Array(try bytes("tiny_legacy.pt").dropLast()))      // and through the file API
        defer { try? FileManager.default.removeItem(at: url) }
        expectError(url, "truncated")
    }

    /// Thousands of random mutations (flipped, overwritten, inserted and deleted bytes, truncation):
    /// each load returns or throws a one-line `CheckpointError`; a trap would end the test process.
    @Test(arguments: ["tiny_zip.pt", "tiny_legacy.pt", "nested_zip.pt"])
    func randomCorruptionNeverTraps(_ file: String) throws {
        let good = try bytes(file)
        var gen = SeededGenerator(seed: 0xC0FFEE ^ UInt64(file.utf8.count))
        var failures = 0, loads = 0
        for _ in 0..<1000 {
            var bad = Corruption.mutate(good, using: &gen)
            if gen.next() % 4 == 0, bad.count > 1 {                                  // delete a run of bytes
                let at = Int(gen.next() % UInt64(bad.count)), n = Int(gen.next() % 16) + 1
                bad.removeSubrange(at..<min(at + n, bad.count))
            }
            do { _ = try TorchCheckpoint.decode(Data(bad), name: file); loads += 1 } catch {
                failures += 1
                #expect(error is CheckpointError && !"\(error)".contains("\n"), "\(error)")
            }
        }
        #expect(failures > 300, "most mutations break the file (\(loads) still loaded)")
    }
}



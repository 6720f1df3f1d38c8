import Foundation
import Testing
import NNRuntime
import TestSupport

/// `.npy`/`.npz` against files numpy wrote (Tests/Reference/make_checkpoint_fixtures.py), our own
/// writer's layout, and malformed files, which must be one-line `NPYError`s and never traps.
@Suite struct NPYTests {
    func fixture(_ name: String) -> URL { Fixtures.url("checkpoints/" + name) }

    /// A hand-made `.npy` with a version 1.0 header (padded to 16 bytes) and `body` as data.
    func npy(_ header: String, _ body: [UInt8], version: UInt8 = 1) -> Data {
        var h = header
        let prefix = version == 1 ? 10 : 12
        while (prefix + h.utf8.count + 1) % 16 != 0 { h += " " }
        h += "\n"
        let n = h.utf8.count
        let length: [UInt8] = version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8(n >> 8), 0, 0]
        return Data([0x93] + Array("NUMPY".utf8) + [version, 0] + length + Array(h.utf8) + body)
    }

    func floats(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    func expectError(_ data: Data, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: NPYError.self, sourceLocation: sourceLocation) { try NPY.decode(data) }
        guard let text = error.map({ "\($0)" }) else { return }
        #expect((fragment.isEmpty || text.contains(fragment)) && !text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
    }

    // MARK: - Reading what numpy wrote

    @Test(arguments: [
        ("f4", [-3, -0.5, 0, 1.25, 1024, 0x1p-20]), ("f8", [-3, -0.5, 0, 1.25, 1024, 0x1p-20]),
        ("f2", [-3, -0.5, 0, 1.25, 1024, 0x1p-20]),                     // 2^-20 is a float16 subnormal
        ("i8", [-128, -1, 0, 1, 2, 127]), ("i4", [-128, -1, 0, 1, 2, 127]), ("i2", [-128, -1, 0, 1, 2, 127]),
        ("i1", [-128, -1, 0, 1, 2, 127]), ("u1", [0, 1, 2, 127, 128, 255]), ("b1", [1, 0, 1, 1, 0, 0]),
    ] as [(String, [Float])])
    func readsEveryDtype(_ dtype: String, _ values: [Float]) throws {
        let t = try NPY.read(contentsOf: fixture("npy_\(dtype).npy"))
        #expect(t.shape == [2, 3])
        #expect(t.scalars == values)
    }

    @Test func fortranOrderVersionsAndDegenerateShapes() throws {
        // np.asfortranarray(arange(24).reshape(2, 3, 4)): stored first-axis-fastest, read back in C order.
        let f = try NPY.read(contentsOf: fixture("npy_fortran.npy"))
        #expect(f.shape == [2, 3, 4] && f.scalars == (0..<24).map(Float.init))
        for v in ["v2", "v3"] {
            let t = try NPY.read(contentsOf: fixture("npy_\(v).npy"))
            #expect(t.shape == [3, 2] && t.scalars == [0, 1, 2, 3, 4, 5], "version \(v)")
        }
        let scalar = try NPY.read(contentsOf: fixture("npy_scalar.npy"))
        #expect(scalar.shape == [] && scalar.scalar == 2.5)
        #expect(try NPY.read(contentsOf: fixture("npy_empty.npy")).shape == [0, 3])
        // A hand-made Fortran (2, 3): [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        let hand = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats([1, 4, 2, 5, 3, 6]))
        #expect(try NPY.decode(hand).scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test func refusesBigEndianAndUnsupportedDtypes() {
        let big = #expect(throws: NPYError.self) { try NPY.read(contentsOf: fixture("npy_bigendian.npy")) }
        #expect("\(big!)".contains("npy_bigendian.npy: big-endian dtype '>f4' is not supported"))
        let complex = #expect(throws: NPYError.self) { try NPY.read(contentsOf: fixture("npy_complex.npy")) }
        #expect("\(complex!)".contains("npy_complex.npy: unsupported dtype '<c8'"))
    }

    @Test func npzArchives() throws {
        for file in ["arrays.npz", "arrays_compressed.npz"] {         // stored and deflated members
            let arrays = try NPZ.read(contentsOf: fixture(file))
            #expect(Set(arrays.keys) == ["a", "b"], "\(file)")
            #expect(arrays["a"]?.shape == [2, 3] && arrays["a"]?.scalars == [0, 1, 2, 3, 4, 5], "\(file)")
            #expect(arrays["b"]?.scalars == [1, -2], "\(file)")
        }
        // A deflate stream cut short by the end of the file (ZIPFoundation's Archive.extract never returns).
        let cut = #expect(throws: NPYError.self) { try NPZ.read(contentsOf: fixture("deflate_past_eof.npz")) }
        #expect("\(cut!)".contains("deflate_past_eof.npz: corrupt member a.npy"))
        let notZip = #expect(throws: NPYError.self) { try NPZ.read(contentsOf: fixture("npy_f4.npy")) }
        #expect("\(notZip!)".contains("npy_f4.npy: not a readable .npz"))
    }

    // MARK: - Writing

    @Test func roundTripAndAlignment() throws {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5])
        let data = NPY.encode(t)
        #expect((data.count - 24) % 64 == 0, "data starts on a 64-byte boundary")
        let header = String(decoding: data[10..<data.count - 24], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") && header.hasSuffix(" \n"))
        let back = try NPY.decode(data)
        #expect(back.shape == [2, 3] && back.scalars == t.scalars)
        for shape in [[], [1], [7], [0, 3], [2, 1, 3, 1]] as [[Int]] {
            let x = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float($0) - 0.5 })
            let d = NPY.encode(x)
            #expect((d.count - 4 * x.count) % 64 == 0)
            let y = try NPY.decode(d)
            #expect(y.shape == shape && y.scalars == x.scalars, "\(shape)")
        }
    }

    @Test func writesAtomicallyAndNamesTheFileOnFailure() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.npy")
        try NPY.write(Tensor([1, 2, 3]), to: url)
        try NPY.write(Tensor([4, 5]), to: url)                          // replaces the first
        #expect(try NPY.read(contentsOf: url).scalars == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.npy"], "no temporary file left")
        let missing = dir.appendingPathComponent("no/such/dir/x.npy")
        let failed = #expect(throws: NPYError.self) { try NPY.write(Tensor([1]), to: missing) }
        #expect("\(failed!)".contains("x.npy: cannot write") && !"\(failed!)".contains("\n"))
    }

    // MARK: - Malformed files

    @Test func badFilesAreOneLineErrors() {
        let f1 = floats([1])
        expectError(Data("nope".utf8), "bad magic")
        expectError(Data([0x93] + Array("NUMPY".utf8) + [4, 0, 0, 0]), "unsupported .npy version 4.0")
        expectError(Data([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x7F]), "runs past the end")
        expectError(Data([0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0, 0]), "truncated header")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f1), "needs 12")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f1 + [0]), "data has 5 bytes")
        expectError(npy("{'fortran_order': False, 'shape': (1,), }", f1), "keys are [\"fortran_order\", \"shape\"]")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", f1), "expected descr, fortran_order and shape")
        expectError(npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", f1), "appears twice")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", f1), "non-negative ints")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': 1, }", f1), "'shape' is not a tuple")
        expectError(npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", f1), "'fortran_order' is not True or False")
        expectError(npy("{'descr': 4, 'fortran_order': False, 'shape': (1,), }", f1), "'descr' is not a string")
        expectError(npy("{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }", f1), "malformed header")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (((((1,),),),),), }", f1), "malformed header")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", f1), "expected the end of the header")
        expectError(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", f1), "structured arrays")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", f1), "malformed header")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", f1), "too large")
        expectError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f1, version: 2) + Data([0]), "data has 5 bytes")
        let deep = "{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 20_000) + "}"
        expectError(npy(deep, f1), "malformed header")
    }

    @Test func everyTruncationIsAnError() throws {
        for file in ["npy_f8.npy", "npy_fortran.npy"] {
            let full = try Data(contentsOf: fixture(file))
            for n in 0..<full.count { expectError(full.prefix(n), "") }
        }
    }

    /// Random damage to .npy bytes in memory and to .npz files on disk: decode returns or throws.
    @Test func randomCorruptionNeverTraps() throws {
        var gen = SeededGenerator(seed: 11)
        let good = [UInt8](try Data(contentsOf: fixture("npy_fortran.npy")))
        var rejected = 0
        for _ in 0..<1500 {
            do { _ = try NPY.decode(Data(Corruption.mutate(good, using: &gen))) } catch {
                rejected += 1
                #expect(error is NPYError && !"\(error)".contains("\n"))
            }
        }
        #expect(rejected > 500)
        for file in ["arrays.npz", "arrays_compressed.npz"] {
            let zip = [UInt8](try Data(contentsOf: fixture(file)))
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(file)")
            defer { try? FileManager.default.removeItem(at: url) }
            for _ in 0..<400 {
                try Data(Corruption.mutate(zip, using: &gen)).write(to: url)
                do { _ = try NPZ.read(contentsOf: url) } catch { #expect(error is NPYError && !"\(error)".contains("\n")) }
            }
        }
    }
}

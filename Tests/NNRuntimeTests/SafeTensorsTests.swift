import Foundation
import Testing
import NNRuntime

@Suite struct SafeTensorsTests {
    /// Builds a file from a header string and raw data bytes.
    func file(_ header: String, _ body: [UInt8]) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(Data(header.utf8))
        d.append(contentsOf: body)
        return d
    }

    /// A one-tensor F32 header.
    func f32(_ name: String = "t", shape: String, offsets: String) -> String {
        #"{"\#(name)":{"dtype":"F32","shape":\#(shape),"data_offsets":\#(offsets)}}"#
    }

    /// The error `decode` throws for `data` (failing the test when it succeeds or throws another type).
    func decodeError(_ data: Data, sourceLocation: SourceLocation = #_sourceLocation) -> SafeTensorsError? {
        do {
            _ = try SafeTensors.decode(data)
            Issue.record("decoding succeeded but should have failed", sourceLocation: sourceLocation)
        } catch let e as SafeTensorsError {
            #expect(!e.description.contains("\n"), "error message spans lines: \(e)", sourceLocation: sourceLocation)
            #expect(e.description.hasPrefix("safetensors: "), sourceLocation: sourceLocation)
            return e
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test func roundTripWithMetadata() throws {
        let a = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 4, 5, 6]), s = Tensor(7), empty = Tensor.zeros([0, 3])
        let data = try SafeTensors.encode(["b.weight": a, "a.scalar": s, "c.empty": empty],
                                          metadata: ["interp.arch": "resnet8", "format": "pt"])
        // Header length is a multiple of 8 and the header is right-padded with spaces.
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0 && data[8] == UInt8(ascii: "{"))
        #expect(data.count == 8 + n + 4 * 7)
        let back = try SafeTensors.decode(data)
        #expect(back.tensors["b.weight"]!.shape == [2, 3] && back.tensors["b.weight"]!.scalars == a.scalars)
        #expect(back.tensors["a.scalar"]!.shape == [] && back.tensors["a.scalar"]!.scalars == [7])
        #expect(back.tensors["c.empty"]!.shape == [0, 3])
        #expect(back.metadata == ["interp.arch": "resnet8", "format": "pt"])
        // Sorted keys: "a.scalar" occupies the first bytes of the data section.
        let header = String(decoding: data[8..<8 + n], as: UTF8.self)
        #expect(header.contains(#""a.scalar":{"data_offsets":[0,4]"#))

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(["x": a], metadata: ["k": "v"], to: url)
        try SafeTensors.write(["x": a * 2], to: url)              // replaces the file atomically
        let read = try SafeTensors.read(contentsOf: url)
        #expect(read.tensors["x"]!.scalars == (a * 2).scalars && read.metadata.isEmpty)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.contains(url.lastPathComponent) && $0 != url.lastPathComponent }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func decodesHalfBFloatDoubleAndIntegers() throws {
        // F16 1.0 = 0x3C00, −2.0 = 0xC000, 2^-24 = 0x0001 (subnormal), 65504 = 0x7BFF;
        // BF16 1.5 = 0x3FC0; I64 42 and −3; I32 7; F64 0.25. Header right-padded with spaces.
        let header = #"{"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[],"data_offsets":[8,10]},"#
            + #""n":{"dtype":"I64","shape":[2],"data_offsets":[10,26]},"i":{"dtype":"I32","shape":[1],"data_offsets":[26,30]},"#
            + #""d":{"dtype":"F64","shape":[1],"data_offsets":[30,38]},"__metadata__":{"format":"pt"}}   "#
        var body: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0xFF, 0x7B, 0xC0, 0x3F]
        body += [42, 0, 0, 0, 0, 0, 0, 0] + [0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        body += [7, 0, 0, 0]
        withUnsafeBytes(of: (0.25 as Double).bitPattern.littleEndian) { body += $0 }
        let st = try SafeTensors.decode(file(header, body))
        #expect(st.tensors["h"]!.shape == [2, 2])
        #expect(st.tensors["h"]!.scalars == [1, -2, 0x1p-24, 65504])
        #expect(st.tensors["b"]!.shape == [] && st.tensors["b"]!.scalars == [1.5])
        #expect(st.tensors["n"]!.scalars == [42, -3])
        #expect(st.tensors["i"]!.scalars == [7])
        #expect(st.tensors["d"]!.scalars == [0.25])
        #expect(st.metadata == ["format": "pt"])
    }

    @Test func tooShortFile() {
        guard case .tooShort(byteCount: 3)? = decodeError(Data([1, 2, 3])) else { Issue.record("wrong case"); return }
    }

    @Test func truncatedHeader() {
        let e = decodeError(Data([255, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8))
        guard case .truncatedHeader(length: 255, fileSize: 10)? = e else { Issue.record("wrong case: \(String(describing: e))"); return }
        #expect(e!.description.contains("255") && e!.description.contains("10-byte file"))
    }

    @Test func headerOverTheCap() {
        // 2^32 bytes claimed: rejected before any allocation.
        guard case .headerTooLarge(length: 1 << 32)? = decodeError(Data([0, 0, 0, 0, 1, 0, 0, 0])) else {
            Issue.record("wrong case"); return
        }
    }

    @Test func badJSON() {
        for header in ["not json", #"{"t": [1, 2"#, "[1, 2]", "  {}"] {
            guard case .invalidHeader? = decodeError(file(header, [])) else { Issue.record("wrong case for \(header)"); continue }
        }
    }

    @Test func holeBetweenTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        let e = decodeError(file(header, [UInt8](repeating: 0, count: 12)))
        guard case .misplaced(tensor: "b", begin: 8, end: 12, expected: 4)? = e else {
            Issue.record("wrong case: \(String(describing: e))"); return
        }
        #expect(e!.description.contains("'b'"))
    }

    @Test func overlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        guard case .misplaced(tensor: "b", begin: 4, end: 8, expected: 8)? = decodeError(file(header, [UInt8](repeating: 0, count: 8))) else {
            Issue.record("wrong case"); return
        }
    }

    @Test func firstTensorNotAtZero() {
        guard case .misplaced(tensor: "t", begin: 4, end: 8, expected: 0)? =
                decodeError(file(f32(shape: "[1]", offsets: "[4,8]"), [UInt8](repeating: 0, count: 8))) else {
            Issue.record("wrong case"); return
        }
    }

    @Test func wrongSize() {
        let e = decodeError(file(f32("conv1.weight", shape: "[4,3]", offsets: "[0,100]"), [UInt8](repeating: 0, count: 100)))
        guard case .sizeMismatch(tensor: "conv1.weight", begin: 0, end: 100, dtype: "F32", shape: [4, 3], needed: 48)? = e else {
            Issue.record("wrong case: \(String(describing: e))"); return
        }
        #expect(e!.description == "safetensors: tensor 'conv1.weight' spans bytes 0..100 but F32 [4, 3] needs 48")
    }

    @Test func overflowingShape() {
        let shape = "[4294967296,4294967296,4294967296]"
        guard case .sizeMismatch(tensor: "t", begin: 0, end: 4, dtype: "F32", shape: _, needed: nil)? =
                decodeError(file(f32(shape: shape, offsets: "[0,4]"), [0, 0, 0, 0])) else {
            Issue.record("wrong case"); return
        }
    }

    @Test func trailingBytes() {
        let e = decodeError(file(f32(shape: "[1]", offsets: "[0,4]"), [UInt8](repeating: 0, count: 6)))
        guard case .trailingBytes(dataSize: 6, covered: 4)? = e else { Issue.record("wrong case: \(String(describing: e))"); return }
    }

    @Test func tensorPastTheEnd() {
        guard case .pastEnd(tensor: "t", end: 8, dataSize: 4)? = decodeError(file(f32(shape: "[2]", offsets: "[0,8]"), [0, 0, 0, 0])) else {
            Issue.record("wrong case"); return
        }
    }

    @Test func negativeDimension() {
        guard case .negativeDimension(tensor: "t", shape: [-1])? = decodeError(file(f32(shape: "[-1]", offsets: "[0,4]"), [0, 0, 0, 0])) else {
            Issue.record("wrong case"); return
        }
    }

    @Test func unsupportedDtypeAndMissingFields() {
        guard case .unsupportedDtype(tensor: "t", dtype: "Q8")? =
                decodeError(file(#"{"t":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}"#, [0])) else {
            Issue.record("wrong case"); return
        }
        guard case .invalidHeader? = decodeError(file(#"{"t":{"dtype":"F32","shape":[1]}}"#, [0, 0, 0, 0])) else {
            Issue.record("wrong case"); return
        }
        guard case .invalidHeader? = decodeError(file(#"{"__metadata__":{"k":1}}"#, [])) else {
            Issue.record("wrong case"); return
        }
    }

    @Test func readNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try file(f32(shape: "[1]", offsets: "[0,4]"), [0, 0]).write(to: url)
        do {
            _ = try SafeTensors.read(contentsOf: url)
            Issue.record("read succeeded")
        } catch let e as SafeTensorsError {
            #expect(e.description.contains(url.lastPathComponent))
            guard case .pastEnd(tensor: "t", end: 4, dataSize: 2) = e.reason else { Issue.record("wrong case: \(e)"); return }
        }
        #expect(throws: SafeTensorsError.self) {
            try SafeTensors.read(contentsOf: url.appendingPathExtension("missing"))
        }
    }

    @Test func randomCorruptionNeverTraps() throws {
        var gen = SeededGenerator(seed: 99)
        let good = try SafeTensors.encode(["w": .randn([3, 4], using: &gen), "b": .randn([4], using: &gen)],
                                          metadata: ["k": "v"])
        var accepted = 0
        for _ in 0..<2000 {
            var bytes = [UInt8](good)
            switch gen.next() % 4 {
            case 0: bytes[Int(gen.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: gen.next() | 1)
            case 1: bytes.removeLast(Int(gen.next() % UInt64(bytes.count)))
            case 2: bytes.insert(UInt8(truncatingIfNeeded: gen.next()), at: Int(gen.next() % UInt64(bytes.count)))
            default: bytes.remove(at: Int(gen.next() % UInt64(bytes.count)))
            }
            if (try? SafeTensors.decode(Data(bytes))) != nil { accepted += 1 }
        }
        // Most mutations are caught; the ones that survive changed a value byte, not the structure.
        #expect(accepted < 2000)
    }
}

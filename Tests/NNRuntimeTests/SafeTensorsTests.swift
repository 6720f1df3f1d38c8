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

    @Test func roundTripWithMetadata() throws {
        let a = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 4, 5, 6]), s = Tensor(7)
        let data = try SafeTensors.encode(["b.weight": a, "a.scalar": s], metadata: ["interp.arch": "resnet8"])
        let back = try SafeTensors.decode(data)
        #expect(back.tensors["b.weight"]!.shape == [2, 3] && back.tensors["b.weight"]!.scalars == a.scalars)
        #expect(back.tensors["a.scalar"]!.shape == [] && back.tensors["a.scalar"]!.scalars == [7])
        #expect(back.metadata == ["interp.arch": "resnet8"])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(["x": a], to: url)
        #expect(try SafeTensors.read(contentsOf: url).tensors["x"]!.scalars == a.scalars)
    }

    @Test func decodesHalfBFloatAndIntegers() throws {
        // F16 1.0 = 0x3C00, −2.0 = 0xC000; BF16 1.5 = 0x3FC0; I64 42.
        let header = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[],"data_offsets":[4,6]},"n":{"dtype":"I64","shape":[1],"data_offsets":[6,14]}}"#
        let body: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0xC0, 0x3F, 42, 0, 0, 0, 0, 0, 0, 0]
        let st = try SafeTensors.decode(file(header, body))
        #expect(st.tensors["h"]!.scalars == [1, -2])
        #expect(st.tensors["b"]!.scalars == [1.5])
        #expect(st.tensors["n"]!.scalars == [42])
    }

    @Test(arguments: [
        ("short file", Data([1, 2, 3]), "too short"),
        ("header past end", Data([255, 0, 0, 0, 0, 0, 0, 0, 123]), "runs past the end"),
        ("huge header", Data([0, 0, 0, 0, 1, 0, 0, 0]), "cap"),
    ])
    func rejectsBadPrefixes(_ name: String, _ data: Data, _ fragment: String) {
        #expect { try SafeTensors.decode(data) } throws: { "\($0)".contains(fragment) }
    }

    @Test func rejectsInconsistentHeaders() {
        let f32 = { (shape: String, offsets: String) in #"{"t":{"dtype":"F32","shape":\#(shape),"data_offsets":\#(offsets)}}"# }
        let cases: [(Data, String)] = [
            (file("not json", []), "not a JSON object"),
            (file(f32("[2]", "[0,4]"), [0, 0, 0, 0]), "needs 8"),
            (file(f32("[1]", "[4,8]"), [UInt8](repeating: 0, count: 8)), "expected 0"),
            (file(f32("[1]", "[0,4]"), [UInt8](repeating: 0, count: 6)), "data section has 6 bytes"),
            (file(f32("[2]", "[0,8]"), [0, 0, 0, 0]), "past the 4-byte data section"),
            (file(#"{"t":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}"#, [0]), "unsupported dtype Q8"),
            (file(f32("[-1]", "[0,4]"), [0, 0, 0, 0]), "negative dimension"),
            (file(#"{"t":{"dtype":"F32","shape":[1]}}"#, [0, 0, 0, 0]), "lacks"),
            (file(#"{"__metadata__":{"k":1}}"#, []), "not a string"),
        ]
        for (data, fragment) in cases {
            #expect { try SafeTensors.decode(data) } throws: { error in
                "\(error)".contains(fragment) && !"\(error)".contains("\n")
            }
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

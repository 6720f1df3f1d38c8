import Foundation

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
/// bytes of JSON (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`),
/// then the tensors' bytes. Validated as the reference implementation validates it, so a truncated,
/// overlapping or oversized file is an error and never a crash or a huge allocation.
public struct SafeTensors {
    public let tensors: [String: Tensor]
    public let metadata: [String: String]

    /// The reference implementation's cap on the header size.
    public static let maxHeaderLength = 100_000_000

    public static func read(contentsOf url: URL) throws -> SafeTensors {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SafeTensorsError("\(url.lastPathComponent): cannot read file (\(error.localizedDescription))")
        }
        do { return try decode(data) } catch let e as SafeTensorsError {
            throw SafeTensorsError("\(url.lastPathComponent): \(e.message)")
        }
    }

    public static func decode(_ data: Data) throws -> SafeTensors {
        guard data.count >= 8 else { throw SafeTensorsError("file of \(data.count) bytes is too short for a safetensors header") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maxHeaderLength) else { throw SafeTensorsError("header length \(n) exceeds the \(maxHeaderLength)-byte cap") }
        guard n <= UInt64(data.count - 8) else { throw SafeTensorsError("header length \(n) runs past the end of the \(data.count)-byte file") }
        let headerBytes = data.subdata(in: data.startIndex + 8..<data.startIndex + 8 + Int(n))
        guard headerBytes.first == UInt8(ascii: "{"),
              let json = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw SafeTensorsError("header is not a JSON object")
        }
        let buffer = data.subdata(in: data.startIndex + 8 + Int(n)..<data.endIndex)
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in json {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafeTensorsError("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw SafeTensorsError("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw SafeTensorsError("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw SafeTensorsError("tensor '\(name)' has a negative dimension in \(shape)") }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        var tensors: [String: Tensor] = [:]
        for e in entries {
            guard e.begin == expected, e.end >= e.begin else {
                throw SafeTensorsError("tensor '\(e.name)' starts at byte \(e.begin), expected \(expected) (offsets must be contiguous)")
            }
            guard let size = dtypeSize[e.dtype] else {
                throw SafeTensorsError("tensor '\(e.name)' has unsupported dtype \(e.dtype) (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)")
            }
            let (count, overflow) = e.shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, count.multipliedReportingOverflow(by: size).overflow == false, e.end - e.begin == count * size else {
                throw SafeTensorsError("tensor '\(e.name)' spans bytes \(e.begin)..\(e.end) but \(e.dtype) \(e.shape) needs \(overflow ? "more than addressable" : String(count * size))")
            }
            guard e.end <= buffer.count else {
                throw SafeTensorsError("tensor '\(e.name)' ends at byte \(e.end), past the \(buffer.count)-byte data section")
            }
            tensors[e.name] = convert(buffer, from: e.begin, count: count, dtype: e.dtype, shape: e.shape)
            expected = e.end
        }
        guard expected == buffer.count else {
            throw SafeTensorsError("data section has \(buffer.count) bytes but the tensors cover \(expected)")
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// Encodes float32 tensors with keys in sorted order and optional metadata.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }   // keep the data 8-byte aligned
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            tensors[name]!.withUnsafeBufferPointer { p in out.append(UnsafeBufferPointer(start: p.baseAddress, count: p.count)) }
        }
        return out
    }

    /// Writes atomically: a temporary file in the same folder renamed into place.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try encode(tensors, metadata: metadata).write(to: url, options: .atomic)
    }

    private static let dtypeSize = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2,
                                    "I8": 1, "U8": 1, "BOOL": 1]

    private static func convert(_ buffer: Data, from begin: Int, count: Int, dtype: String, shape: [Int]) -> Tensor {
        Tensor(shape: shape) { out in
            buffer.withUnsafeBytes { raw in
                let base = raw.baseAddress!.advanced(by: begin)
                func load<T>(_ type: T.Type, _ i: Int) -> T { base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self) }
                for i in 0..<count {
                    switch dtype {
                    case "F32": out[i] = Float(bitPattern: UInt32(littleEndian: load(UInt32.self, i)))
                    case "F16": out[i] = Float(Float16(bitPattern: UInt16(littleEndian: load(UInt16.self, i))))
                    case "BF16": out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: load(UInt16.self, i))) << 16)
                    case "F64": out[i] = Float(Double(bitPattern: UInt64(littleEndian: load(UInt64.self, i))))
                    case "I64": out[i] = Float(Int64(littleEndian: load(Int64.self, i)))
                    case "I32": out[i] = Float(Int32(littleEndian: load(Int32.self, i)))
                    case "I16": out[i] = Float(Int16(littleEndian: load(Int16.self, i)))
                    case "I8": out[i] = Float(load(Int8.self, i))
                    case "U8": out[i] = Float(load(UInt8.self, i))
                    default: out[i] = load(UInt8.self, i) != 0 ? 1 : 0
                    }
                }
            }
        }
    }
}

/// A safetensors file is malformed; the message names the file and tensor and what was expected.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "safetensors: \(message)" }
}

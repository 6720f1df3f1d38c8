import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
/// bytes of JSON (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`),
/// then the tensors' bytes. Validated as the reference implementation validates it, so a truncated,
/// overlapping or oversized file is an error and never a crash or a huge allocation.
public struct SafeTensors {
    public let tensors: [String: Tensor]
    public let metadata: [String: String]

    /// The reference implementation's cap on the header size.
    public static let maxHeaderLength = 100_000_000

    /// Bytes per element of each dtype read (all are converted to `Float`).
    static let dtypeSizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2,
                             "I8": 1, "U8": 1, "BOOL": 1]

    public static func read(contentsOf url: URL) throws -> SafeTensors {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SafeTensorsError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        do { return try decode(data) } catch let e as SafeTensorsError {
            throw SafeTensorsError.inFile(url.lastPathComponent, e)
        }
    }

    public static func decode(_ data: Data) throws -> SafeTensors {
        guard data.count >= 8 else { throw SafeTensorsError.tooShort(byteCount: data.count) }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maxHeaderLength) else { throw SafeTensorsError.headerTooLarge(length: n) }
        guard n <= UInt64(data.count - 8) else {
            throw SafeTensorsError.truncatedHeader(length: n, fileSize: data.count)
        }
        let headerStart = data.startIndex + 8, dataStart = headerStart + Int(n)
        let headerBytes = data.subdata(in: headerStart..<dataStart)
        guard headerBytes.first == UInt8(ascii: "{"),
              let json = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw SafeTensorsError.invalidHeader("header is not a JSON object")
        }
        let buffer = data.subdata(in: dataStart..<data.endIndex)

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in json {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafeTensorsError.invalidHeader("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError.invalidHeader("__metadata__ value for '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw SafeTensorsError.invalidHeader("tensor '\(name)' lacks dtype, shape or data_offsets [begin, end]")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw SafeTensorsError.negativeDimension(tensor: name, shape: shape) }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }

        // Sorted by offset, the tensors must tile the data section exactly: no holes, no overlaps.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        var tensors: [String: Tensor] = [:]
        for e in entries {
            guard e.begin == expected else {
                throw SafeTensorsError.misplaced(tensor: e.name, begin: e.begin, end: e.end, expected: expected)
            }
            guard let size = dtypeSizes[e.dtype] else {
                throw SafeTensorsError.unsupportedDtype(tensor: e.name, dtype: e.dtype)
            }
            var count = 1, overflow = false
            for d in e.shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                count = p; overflow = overflow || o
            }
            let (bytes, o2) = count.multipliedReportingOverflow(by: size)
            guard !overflow, !o2, e.end - e.begin == bytes else {
                throw SafeTensorsError.sizeMismatch(tensor: e.name, begin: e.begin, end: e.end, dtype: e.dtype,
                                                    shape: e.shape, needed: overflow || o2 ? nil : bytes)
            }
            guard e.end <= buffer.count else {
                throw SafeTensorsError.pastEnd(tensor: e.name, end: e.end, dataSize: buffer.count)
            }
            tensors[e.name] = convert(buffer, from: e.begin, count: count, dtype: e.dtype, shape: e.shape)
            expected = e.end
        }
        guard expected == buffer.count else {
            throw SafeTensorsError.trailingBytes(dataSize: buffer.count, covered: expected)
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// Encodes float32 tensors with keys in sorted order and optional metadata; the header is
    /// right-padded with spaces so the data starts 8-byte aligned.
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
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            tensors[name]!.withUnsafeBufferPointer { p in
                #if _endian(little)
                out.append(UnsafeBufferPointer(start: p.baseAddress, count: p.count))
                #else
                for v in p { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
                #endif
            }
        }
        return out
    }

    /// Writes atomically: a temporary file in the same folder, renamed into place, so a reader (or
    /// a crash mid-write) never sees a partial file.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let data = try encode(tensors, metadata: metadata)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do { try data.write(to: temp) } catch {
            throw SafeTensorsError.unwritable(file: url.path, reason: error.localizedDescription)
        }
        guard rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw SafeTensorsError.unwritable(file: url.path, reason: reason)
        }
    }

    private static func convert(_ buffer: Data, from begin: Int, count: Int, dtype: String, shape: [Int]) -> Tensor {
        Tensor(shape: shape) { out in
            guard count > 0 else { return }
            buffer.withUnsafeBytes { raw in
                let base = raw.baseAddress!.advanced(by: begin)
                func load<T>(_ type: T.Type, _ i: Int) -> T { base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self) }
                for i in 0..<count {
                    switch dtype {
                    case "F32": out[i] = Float(bitPattern: UInt32(littleEndian: load(UInt32.self, i)))
                    case "F16": out[i] = halfToFloat(UInt16(littleEndian: load(UInt16.self, i)))
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

    /// IEEE half to single precision (exact: every half is a float), without relying on `Float16`.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F), mantissa = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * 0x1p-24                        // zero and subnormals
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

/// A safetensors file is malformed or cannot be read or written. Each description is one line
/// naming the file or tensor and what was expected.
public indirect enum SafeTensorsError: Error, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The file could not be written or renamed into place.
    case unwritable(file: String, reason: String)
    /// Fewer than the 8 bytes of the header length.
    case tooShort(byteCount: Int)
    /// The header length exceeds ``SafeTensors/maxHeaderLength``.
    case headerTooLarge(length: UInt64)
    /// The header length runs past the end of the file.
    case truncatedHeader(length: UInt64, fileSize: Int)
    /// The header is not a JSON object of the expected form.
    case invalidHeader(String)
    /// A shape entry is negative.
    case negativeDimension(tensor: String, shape: [Int])
    /// A dtype this reader does not convert.
    case unsupportedDtype(tensor: String, dtype: String)
    /// A tensor does not start where the previous one (in offset order) ends: a hole or an overlap.
    case misplaced(tensor: String, begin: Int, end: Int, expected: Int)
    /// A tensor's byte span does not match its dtype and shape (`needed` nil: not addressable).
    case sizeMismatch(tensor: String, begin: Int, end: Int, dtype: String, shape: [Int], needed: Int?)
    /// A tensor ends past the data section.
    case pastEnd(tensor: String, end: Int, dataSize: Int)
    /// The data section is longer than the tensors cover.
    case trailingBytes(dataSize: Int, covered: Int)
    /// An error in a named file.
    case inFile(String, SafeTensorsError)

    /// The error without the file it occurred in.
    public var reason: SafeTensorsError {
        if case let .inFile(_, e) = self { return e.reason }
        return self
    }

    public var description: String { "safetensors: " + message }

    private var message: String {
        switch self {
        case let .unreadable(file, reason): return "cannot read \(file) (\(reason))"
        case let .unwritable(file, reason): return "cannot write \(file) (\(reason))"
        case let .tooShort(n): return "file of \(n) bytes is too short for the 8-byte header length"
        case let .headerTooLarge(n):
            return "header length \(n) exceeds the \(SafeTensors.maxHeaderLength)-byte cap"
        case let .truncatedHeader(n, size): return "header length \(n) runs past the end of the \(size)-byte file"
        case let .invalidHeader(what): return what
        case let .negativeDimension(t, shape): return "tensor '\(t)' has a negative dimension in \(shape)"
        case let .unsupportedDtype(t, dtype):
            return "tensor '\(t)' has unsupported dtype \(dtype) (expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL)"
        case let .misplaced(t, begin, end, expected):
            return "tensor '\(t)' spans bytes \(begin)..\(end) but should start at byte \(expected) "
                + "(tensors must be contiguous, without holes or overlaps)"
        case let .sizeMismatch(t, begin, end, dtype, shape, needed):
            return "tensor '\(t)' spans bytes \(begin)..\(end) but \(dtype) \(shape) needs "
                + (needed.map { "\($0)" } ?? "more bytes than addressable")
        case let .pastEnd(t, end, size): return "tensor '\(t)' ends at byte \(end), past the \(size)-byte data section"
        case let .trailingBytes(size, covered):
            return "data section has \(size) bytes but the tensors cover \(covered) (trailing bytes)"
        case let .inFile(file, e): return "\(file): \(e.message)"
        }
    }
}

import Foundation
import NNRuntime

/// Decodes `TensorProto`s (initializers, `Constant` values, attribute tensors) into ``ONNXValue``s.
///
/// Data may sit in `raw_data` (little-endian bytes), in the typed repeated fields (`float_data`,
/// `int32_data` — which also carries 8/16-bit integers, booleans and the bit patterns of float16 and
/// bfloat16 —, `int64_data`, `double_data`, `uint64_data`), or in an external file beside the model
/// (`data_location = EXTERNAL`, with `location`, `offset` and `length`). Every size is checked
/// against the declared shape before any byte is read, so a truncated or inconsistent file gives an
/// error naming the tensor rather than a crash.
struct ONNXTensorDecoder {
    /// The folder of the `.onnx` file, against which external data locations are resolved.
    let baseDirectory: URL?
    private var externalFiles: [String: Data] = [:]

    init(baseDirectory: URL?) { self.baseDirectory = baseDirectory }

    mutating func decode(_ proto: Onnx_TensorProto, what: String) throws -> ONNXValue {
        let name = proto.name.isEmpty ? what : "\(what) '\(proto.name)'"
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else {
            throw ONNXError("\(name) has invalid dimensions \(proto.dims)")
        }
        let shape = proto.dims.map { Int($0) }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o || p > 1 << 40)
        }
        guard !overflow else { throw ONNXError("\(name) has too many elements for its dimensions \(shape)") }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) else {
            throw ONNXError("\(name) has unknown data type \(proto.dataType)")
        }
        guard let size = Self.elementSize[type] else {
            throw ONNXError("\(name) has data type \(type), which interp cannot compute with (expected a float, integer or bool type)")
        }
        if proto.hasDataLocation && proto.dataLocation == .external {
            let bytes = try external(proto, name: name, expected: count * size)
            return try Self.fromBytes(bytes, type: type, shape: shape, name: name)
        }
        if proto.hasRawData {
            guard proto.rawData.count == count * size else {
                throw ONNXError("\(name) holds \(proto.rawData.count) bytes of raw data; its shape \(shape) of \(type) needs \(count * size)")
            }
            return try Self.fromBytes(proto.rawData, type: type, shape: shape, name: name)
        }
        func check(_ n: Int, _ field: String) throws {
            guard n == count else { throw ONNXError("\(name) holds \(n) values in \(field); its shape \(shape) needs \(count)") }
        }
        switch type {
        case .float:
            try check(proto.floatData.count, "float_data")
            return .float(Tensor(shape: shape, scalars: proto.floatData))
        case .double:
            try check(proto.doubleData.count, "double_data")
            return .float(Tensor(shape: shape, scalars: proto.doubleData.map { Float($0) }))
        case .float16, .bfloat16:
            try check(proto.int32Data.count, "int32_data")
            let convert = type == .float16 ? Self.halfToFloat : Self.bfloat16ToFloat
            return .float(Tensor(shape: shape, scalars: proto.int32Data.map { convert(UInt16(truncatingIfNeeded: $0)) }))
        case .int64:
            try check(proto.int64Data.count, "int64_data")
            return .int(IntTensor(shape: shape, values: proto.int64Data))
        case .uint64, .uint32:
            try check(proto.uint64Data.count, "uint64_data")
            return .int(IntTensor(shape: shape, values: proto.uint64Data.map { Int64(truncatingIfNeeded: $0) }))
        default:
            try check(proto.int32Data.count, "int32_data")
            return .int(IntTensor(shape: shape, values: proto.int32Data.map { Int64($0) }))
        }
    }

    /// Bytes per element of each supported type.
    static let elementSize: [Onnx_TensorProto.DataType: Int] = [
        .float: 4, .double: 8, .float16: 2, .bfloat16: 2, .int64: 8, .uint64: 8, .int32: 4, .uint32: 4,
        .int16: 2, .uint16: 2, .int8: 1, .uint8: 1, .bool: 1,
    ]

    static func fromBytes(_ data: Data, type: Onnx_TensorProto.DataType, shape: [Int], name: String) throws -> ONNXValue {
        let count = shape.reduce(1, *)
        return data.withUnsafeBytes { raw -> ONNXValue in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
            }
            switch type {
            case .float:
                return .float(Tensor(shape: shape) { dst in for i in 0..<count { dst[i] = Float(bitPattern: load(UInt32.self, i)) } })
            case .double:
                return .float(Tensor(shape: shape) { dst in for i in 0..<count { dst[i] = Float(Double(bitPattern: load(UInt64.self, i))) } })
            case .float16:
                return .float(Tensor(shape: shape) { dst in for i in 0..<count { dst[i] = halfToFloat(load(UInt16.self, i)) } })
            case .bfloat16:
                return .float(Tensor(shape: shape) { dst in for i in 0..<count { dst[i] = bfloat16ToFloat(load(UInt16.self, i)) } })
            case .int64, .uint64: return .int(IntTensor(shape: shape, values: (0..<count).map { load(Int64.self, $0) }))
            case .int32: return .int(IntTensor(shape: shape, values: (0..<count).map { Int64(load(Int32.self, $0)) }))
            case .uint32: return .int(IntTensor(shape: shape, values: (0..<count).map { Int64(load(UInt32.self, $0)) }))
            case .int16: return .int(IntTensor(shape: shape, values: (0..<count).map { Int64(load(Int16.self, $0)) }))
            case .uint16: return .int(IntTensor(shape: shape, values: (0..<count).map { Int64(load(UInt16.self, $0)) }))
            case .int8: return .int(IntTensor(shape: shape, values: (0..<count).map { Int64(load(Int8.self, $0)) }))
            default: return .int(IntTensor(shape: shape, values: (0..<count).map { Int64(load(UInt8.self, $0)) }))
            }
        }
    }

    /// IEEE half precision bits to Float (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F), mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let value = Float(mantissa) * 0x1p-24
            return sign != 0 ? -value : value
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
    }

    static func bfloat16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    // MARK: - External data

    /// The bytes of an external tensor. Locations must be relative paths inside the model's folder:
    /// a model file never makes interp read elsewhere.
    private mutating func external(_ proto: Onnx_TensorProto, name: String, expected: Int) throws -> Data {
        var entries: [String: String] = [:]
        for e in proto.externalData { entries[e.key] = e.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw ONNXError("\(name) is stored externally but names no 'location'")
        }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw ONNXError("\(name): external data location '\(location)' must be a relative path inside the model's folder")
        }
        guard let base = baseDirectory else {
            throw ONNXError("\(name) is stored in external file '\(location)', but the model was not read from a file")
        }
        let offset = try Self.integer(entries["offset"], default: 0, key: "offset", name: name)
        let length = try Self.integer(entries["length"], default: -1, key: "length", name: name)
        if externalFiles[location] == nil {
            let url = base.appendingPathComponent(location)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ONNXError("\(name) is stored in '\(location)', which is not beside the model (\(url.path) does not exist)")
            }
            do { externalFiles[location] = try Data(contentsOf: url, options: .alwaysMapped) } catch {
                throw ONNXError("cannot read external data file \(url.path): \(error.localizedDescription)")
            }
        }
        let file = externalFiles[location]!
        let size = length >= 0 ? length : file.count - offset
        guard size == expected else {
            throw ONNXError("\(name): external data length \(size) bytes does not match its shape (\(expected) bytes)")
        }
        guard offset >= 0, offset <= file.count, size <= file.count - offset else {
            throw ONNXError("\(name): bytes \(offset)..<\(offset + size) lie outside '\(location)' (\(file.count) bytes); the file is truncated or not this model's")
        }
        return file.subdata(in: offset..<(offset + size))
    }

    private static func integer(_ text: String?, default value: Int, key: String, name: String) throws -> Int {
        guard let text else { return value }
        guard let v = Int(text), v >= 0 else { throw ONNXError("\(name): external data \(key) '\(text)' is not a non-negative integer") }
        return v
    }
}

/// An ONNX file could not be read or run; one line naming what was wrong and what was expected.
public struct ONNXError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

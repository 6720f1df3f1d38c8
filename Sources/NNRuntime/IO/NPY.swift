import Foundation

/// NumPy's `.npy` format (versions 1.0–3.0): the `\x93NUMPY` magic, a version, a header length, a
/// Python dict literal with `descr`, `fortran_order` and `shape`, then the raw data. interp writes
/// `<f4` arrays (activations, attribution maps, reference values) and reads the common numeric
/// dtypes as Float, so fixtures produced by numpy need no conversion step.
///
/// Reading validates everything before touching the data: the header is parsed as a literal (not
/// searched for substrings), the dtype must be little-endian, and the data must be exactly as long
/// as the shape says, so a truncated or damaged file is a one-line ``NPYError``.
public enum NPY {
    /// Reads a `.npy` file; errors name the file.
    public static func read(contentsOf url: URL) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NPYError("\(url.lastPathComponent): cannot read file (\(oneLine(error)))")
        }
        do { return try decode(data) } catch let e as NPYError { throw NPYError("\(url.lastPathComponent): \(e.message)") }
    }

    /// Decodes the bytes of a `.npy` file.
    public static func decode(_ data: Data) throws -> Tensor {
        try data.withUnsafeBytes { try decode(raw: $0) }
    }

    private static func decode(raw b: UnsafeRawBufferPointer) throws -> Tensor {
        guard b.count >= 10, b[0] == 0x93, b[1] == 0x4E, b[2] == 0x55, b[3] == 0x4D, b[4] == 0x50, b[5] == 0x59 else {
            throw NPYError("not a .npy file (bad magic; expected \\x93NUMPY)")
        }
        guard (1...3).contains(b[6]), b[7] == 0 else { throw NPYError("unsupported .npy version \(b[6]).\(b[7]) (expected 1.0, 2.0 or 3.0)") }
        let lengthBytes = b[6] == 1 ? 2 : 4, headerStart = 8 + lengthBytes
        guard b.count >= headerStart else { throw NPYError("truncated header") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        guard headerLength <= b.count - headerStart else {
            throw NPYError("header of \(headerLength) bytes runs past the end of the \(b.count)-byte file")
        }
        let header = try NPYHeader.parse(Array(b[headerStart..<headerStart + headerLength]))
        guard let type = ScalarType(npyDescr: header.descr) else {
            throw NPYError(header.descr.hasPrefix(">")
                ? "big-endian dtype '\(header.descr)' is not supported (save with .astype('<f4'))"
                : "unsupported dtype '\(header.descr)' (expected <f4, <f8, <f2, <i8, <i4, <i2, |i1, |u1 or |b1)")
        }
        guard let count = StridedView.count(header.shape), count.multipliedReportingOverflow(by: type.size).overflow == false else {
            throw NPYError("shape \(header.shape) is too large")
        }
        let start = headerStart + headerLength
        guard b.count - start == count * type.size else {
            throw NPYError("data has \(b.count - start) bytes, but shape \(header.shape) of \(header.descr) needs \(count * type.size)")
        }
        // Fortran order stores the first axis fastest: the same gather with column-major strides.
        // (Wrapping products: they can only overflow when a zero-length axis leaves nothing to read.)
        var strides = [Int](repeating: 1, count: header.shape.count)
        if header.fortranOrder {
            for i in strides.indices.dropFirst() { strides[i] = strides[i - 1] &* header.shape[i - 1] }
        } else {
            for i in strides.indices.reversed().dropFirst() { strides[i] = strides[i + 1] &* header.shape[i + 1] }
        }
        return StridedView.gather(UnsafeRawBufferPointer(rebasing: b[start...]), type, offset: 0, shape: header.shape, strides: strides)
    }

    /// Encodes a tensor as a version 1.0 `<f4` array in C order, its header padded with spaces so the
    /// data starts at a multiple of 64 bytes (numpy's alignment, which lets readers map it directly).
    public static func encode(_ t: Tensor) -> Data {
        let dims = t.shape.map(String.init)
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Version 2.0 only if the header outgrows version 1.0's 2-byte length (a rank of thousands).
        let version: UInt8 = dict.utf8.count + 64 > 0xFFFF ? 2 : 1
        let prefix = version == 1 ? 10 : 12
        let headerLength = (dict.utf8.count + 1 + prefix + 63) / 64 * 64 - prefix
        var out = Data([0x93] + Array("NUMPY".utf8) + [version, 0])
        out.append(contentsOf: (0..<prefix - 8).map { UInt8(truncatingIfNeeded: headerLength >> (8 * $0)) })
        out.append(contentsOf: Array(dict.utf8) + [UInt8](repeating: 0x20, count: headerLength - dict.utf8.count - 1) + [0x0A])
        t.withUnsafeBufferPointer { values in
            #if _endian(little)
            out.append(UnsafeBufferPointer(start: values.baseAddress, count: values.count))
            #else
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            #endif
        }
        return out
    }

    /// Writes atomically: Foundation's `.atomic` writes a temporary file beside `url` and renames it
    /// over the destination, so a reader (or a crash mid-write) never sees a half-written array.
    public static func write(_ t: Tensor, to url: URL) throws {
        do { try encode(t).write(to: url, options: .atomic) } catch {
            throw NPYError("\(url.lastPathComponent): cannot write (\(oneLine(error)))")
        }
    }

    static func oneLine(_ error: Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// `.npz` archives (`np.savez`, `np.savez_compressed`): a zip of `.npy` files.
public enum NPZ {
    /// Every `.npy` member, keyed by its name without the extension.
    public static func read(contentsOf url: URL) throws -> [String: Tensor] {
        let name = url.lastPathComponent
        let zip: ZipReader
        do { zip = try ZipReader([UInt8](try Data(contentsOf: url))) } catch let e as ZipError {
            throw NPYError("\(name): not a readable .npz (zip) archive: \(e.description)")
        } catch {
            throw NPYError("\(name): cannot read file (\(NPY.oneLine(error)))")
        }
        var result: [String: Tensor] = [:]
        for member in zip.members where member.path.hasSuffix(".npy") {
            do { result[String(member.path.dropLast(4))] = try NPY.decode(Data(try zip.read(member))) } catch let e as ZipError {
                throw NPYError("\(name): corrupt member \(member.path): \(e.description)")
            } catch let e as NPYError {
                throw NPYError("\(name)/\(member.path): \(e.message)")
            }
        }
        return result
    }
}

/// A malformed `.npy`/`.npz`, or one interp cannot read; one line naming the file and what was expected.
public struct NPYError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "npy: \(message)" }
}

// MARK: - Header

/// The three keys of a `.npy` header, parsed from its Python dict literal. Only the literal forms
/// numpy writes are accepted (quoted strings, `True`/`False`, tuples of ints, optionally with
/// Python 2's `L` suffix); nesting is capped so a hostile header cannot recurse deeply.
struct NPYHeader {
    let descr: String
    let fortranOrder: Bool
    let shape: [Int]

    private indirect enum Literal { case string(String), bool(Bool), int(Int), tuple([Literal]), list }

    static func parse(_ text: [UInt8]) throws -> NPYHeader {
        var s = Scanner(c: text)
        let dict = try s.dict()
        guard Set(dict.keys) == ["descr", "fortran_order", "shape"] else {
            throw NPYError("malformed header: keys are \(dict.keys.sorted()), expected descr, fortran_order and shape")
        }
        let descr: String
        switch dict["descr"]! {
        case .string(let d): descr = d
        case .list: throw NPYError("unsupported dtype: structured arrays are not supported")
        default: throw NPYError("malformed header: 'descr' is not a string")
        }
        guard case let .bool(fortran) = dict["fortran_order"]! else { throw NPYError("malformed header: 'fortran_order' is not True or False") }
        guard case let .tuple(dims) = dict["shape"]! else { throw NPYError("malformed header: 'shape' is not a tuple") }
        let shape = try dims.map { d -> Int in
            guard case let .int(v) = d, v >= 0 else { throw NPYError("malformed header: 'shape' holds something other than non-negative ints") }
            return v
        }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }

    private struct Scanner {
        let c: [UInt8]
        var i = 0

        mutating func skipSpace() { while i < c.count, [0x20, 0x09, 0x0A, 0x0D].contains(c[i]) { i += 1 } }
        func fail(_ what: String) -> NPYError { NPYError("malformed header: expected \(what) at column \(i)") }
        mutating func eat(_ ch: Character) -> Bool {
            skipSpace()
            guard i < c.count, c[i] == ch.asciiValue! else { return false }
            i += 1
            return true
        }

        mutating func dict() throws -> [String: Literal] {
            guard eat("{") else { throw fail("'{'") }
            var out: [String: Literal] = [:]
            while !eat("}") {
                skipSpace()
                guard case let .string(key) = try value(depth: 0) else { throw fail("a quoted key") }
                guard out[key] == nil else { throw NPYError("malformed header: key '\(key)' appears twice") }
                guard eat(":") else { throw fail("':'") }
                out[key] = try value(depth: 0)
                if !eat(",") { guard eat("}") else { throw fail("',' or '}'") }; break }
            }
            skipSpace()
            guard i == c.count else { throw fail("the end of the header") }
            return out
        }

        mutating func value(depth: Int) throws -> Literal {
            skipSpace()
            guard i < c.count, depth < 4 else { throw fail("a value") }
            switch c[i] {
            case 0x27, 0x22:                                            // 'text' or "text", no escapes
                let quote = c[i]
                guard let end = c[(i + 1)...].firstIndex(of: quote) else { throw fail("a closing quote") }
                defer { i = end + 1 }
                return .string(String(decoding: c[(i + 1)..<end], as: UTF8.self))
            case 0x28:                                                  // (a, b, …)
                i += 1
                var items: [Literal] = []
                while !eat(")") {
                    items.append(try value(depth: depth + 1))
                    if !eat(",") { guard eat(")") else { throw fail("',' or ')'") }; break }
                }
                return .tuple(items)
            case 0x5B:                                                  // a list: a structured dtype
                var level = 0
                repeat {
                    guard i < c.count else { throw fail("']'") }
                    if c[i] == 0x5B { level += 1 } else if c[i] == 0x5D { level -= 1 }
                    i += 1
                } while level > 0
                return .list
            case UInt8(ascii: "T"), UInt8(ascii: "F"):
                for (word, v) in [("True", true), ("False", false)] where c[i...].starts(with: word.utf8) {
                    i += word.utf8.count
                    return .bool(v)
                }
                throw fail("True or False")
            default:
                let start = i
                if c[i] == UInt8(ascii: "-") { i += 1 }
                while i < c.count, (0x30...0x39).contains(c[i]) { i += 1 }
                guard let v = Int(String(decoding: c[start..<i], as: UTF8.self)) else { throw fail("a value") }
                if i < c.count, c[i] == UInt8(ascii: "L") { i += 1 }       // Python 2 long
                return .int(v)
            }
        }
    }
}

// MARK: - Element types and strided copies, shared with TorchCheckpoint

/// The element types the readers convert to Float (PyTorch storages and numpy dtypes), all
/// little-endian on disk.
enum ScalarType {
    case float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    var size: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// A numpy `descr` string; `=` (native) counts as little-endian only on little-endian hosts.
    init?(npyDescr d: String) {
        var code = Substring(d)
        guard let order = code.popFirst(), "<|=".contains(order) else { return nil }
        #if _endian(big)
        if order == "=" && !["i1", "u1", "b1"].contains(code) { return nil }
        #endif
        switch code {
        case "f8": self = .float64; case "f4": self = .float32; case "f2": self = .float16
        case "i8": self = .int64; case "i4": self = .int32; case "i2": self = .int16
        case "i1": self = .int8; case "u1": self = .uint8; case "b1": self = .bool
        default: return nil
        }
    }

    /// Converts `count` consecutive elements, the first at element index `element` of `raw`, into
    /// `out`. The caller has checked that they lie inside `raw`.
    func convert(_ raw: UnsafeRawBufferPointer, element: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        guard count > 0, let base = raw.baseAddress else { return }
        let p = base + element * size
        func each<T>(_ type: T.Type, _ f: (T) -> Float) {
            for i in 0..<count { out[i] = f(p.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
        }
        switch self {
        case .float32:
            #if _endian(little)
            UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: count * 4)
            #else
            each(UInt32.self) { Float(bitPattern: UInt32(littleEndian: $0)) }
            #endif
        case .float64: each(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
        case .float16: each(UInt16.self) { ScalarType.halfToFloat(UInt16(littleEndian: $0)) }
        case .bfloat16: each(UInt16.self) { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
        case .int64: each(Int64.self) { Float(Int64(littleEndian: $0)) }
        case .int32: each(Int32.self) { Float(Int32(littleEndian: $0)) }
        case .int16: each(Int16.self) { Float(Int16(littleEndian: $0)) }
        case .int8: each(Int8.self) { Float($0) }
        case .uint8: each(UInt8.self) { Float($0) }
        case .bool: each(UInt8.self) { $0 != 0 ? 1 : 0 }
        }
    }

    /// IEEE binary16 → Float, exactly (by bits, since Swift's `Float16` is missing on Intel macOS).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int(h >> 10) & 0x1F, mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0: return sign * Float(mantissa) * 0x1p-24                     // zero and subnormals
        case 31: return Float(bitPattern: UInt32(h & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13)   // inf, NaN
        default: return Float(bitPattern: UInt32(h & 0x8000) << 16 | UInt32(exponent + 112) << 23 | mantissa << 13)
        }
    }
}

/// A strided view into a flat buffer of elements (PyTorch's size/stride/offset, numpy's C and
/// Fortran orders), checked with overflow-reporting arithmetic and copied out contiguously.
enum StridedView {
    /// The element count, or nil if it overflows.
    static func count(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// One past the largest element index the view reads (0 when it is empty), or nil on overflow.
    static func extent(offset: Int, shape: [Int], strides: [Int]) -> Int? {
        guard offset >= 0, shape.count == strides.count, let n = count(shape) else { return nil }
        if n == 0 { return 0 }
        var last = offset
        for (d, s) in zip(shape, strides) where d > 1 {
            guard s >= 0 else { return nil }
            let (step, o1) = (d - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(step)
            if o1 || o2 { return nil }
            last = sum
        }
        return last == Int.max ? nil : last + 1
    }

    /// Copies the view out as a contiguous tensor. The caller has checked that
    /// `extent(offset:shape:strides:)` fits inside `raw`; strides of length-1 axes are ignored, so
    /// the running index never leaves that extent by more than one stride.
    static func gather(_ raw: UnsafeRawBufferPointer, _ type: ScalarType, offset: Int, shape: [Int], strides: [Int]) -> Tensor {
        let strides = zip(shape, strides).map { $0 > 1 ? $1 : 0 }
        return Tensor(shape: shape) { out in
            guard let dst = out.baseAddress, !out.isEmpty else { return }
            guard let inner = shape.last else { type.convert(raw, element: offset, count: 1, into: dst); return }
            let rank = shape.count, innerStride = strides[rank - 1]
            var index = [Int](repeating: 0, count: rank - 1)
            var src = offset, done = 0
            while done < out.count {
                if innerStride == 1 || inner == 1 {
                    type.convert(raw, element: src, count: inner, into: dst + done)
                } else {
                    for j in 0..<inner { type.convert(raw, element: src + j * innerStride, count: 1, into: dst + done + j) }
                }
                done += inner
                var axis = rank - 2                                   // advance the outer odometer
                while axis >= 0 {
                    index[axis] += 1
                    src += strides[axis]
                    if index[axis] < shape[axis] { break }
                    src -= strides[axis] * shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

import Foundation
import ZIPFoundation

/// NumPy's `.npy` format (versions 1.0–3.0): the `\x93NUMPY` magic, a version, a header length, a
/// Python dict literal with `descr`, `fortran_order` and `shape`, then the raw data. interp writes
/// `<f4` arrays (activations, attribution maps) and reads the common numeric dtypes as Float.
public enum NPY {
    public static func read(contentsOf url: URL) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NPYError("\(url.lastPathComponent): cannot read file (\(error.localizedDescription))")
        }
        do { return try decode(data) } catch let e as NPYError { throw NPYError("\(url.lastPathComponent): \(e.message)") }
    }

    public static func decode(_ data: Data) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw NPYError("not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let (lengthBytes, headerStart) = major == 1 ? (2, 10) : (4, 12)
        guard major >= 1 && major <= 3 else { throw NPYError("unsupported .npy version \(major)") }
        guard bytes.count >= headerStart else { throw NPYError("truncated header") }
        let headerLength = bytes[8..<8 + lengthBytes].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard headerLength <= bytes.count - headerStart else { throw NPYError("header of \(headerLength) bytes runs past the end") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let (descr, fortran, shape) = try parseHeader(header)
        guard let (size, convert) = decoders[descr] else {
            throw NPYError(descr.hasPrefix(">") ? "big-endian dtype \(descr) is not supported" : "unsupported dtype \(descr) (expected <f4, <f8, <f2, <i8, <i4, <i2, |i1, |u1 or |b1)")
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw NPYError("shape \(shape) overflows") }
            count = p
        }
        let start = headerStart + headerLength
        guard count.multipliedReportingOverflow(by: size).overflow == false, bytes.count - start == count * size else {
            throw NPYError("data has \(bytes.count - start) bytes, shape \(shape) of \(descr) needs \(count * size)")
        }
        let flat = bytes.withUnsafeBytes { raw in
            Tensor(shape: shape) { out in for i in 0..<count { out[i] = convert(raw.baseAddress! + start + i * size) } }
        }
        // Fortran order stores the first axis fastest: read it as the reversed shape and transpose.
        return fortran && shape.count > 1
            ? Tensor(shape: shape.reversed(), storage: flat.storage).permuted(Array((0..<shape.count).reversed())).detached()
            : flat
    }

    /// Encodes a tensor as a version 1.0 `<f4` array, C order, data aligned to 64 bytes.
    public static func encode(_ t: Tensor) -> Data {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        out.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        out.append(Data(header.utf8))
        t.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        return out
    }

    /// Writes atomically (temporary file + rename).
    public static func write(_ t: Tensor, to url: URL) throws {
        try encode(t).write(to: url, options: .atomic)
    }

    private static let decoders: [String: (Int, (UnsafeRawPointer) -> Float)] = [
        "<f4": (4, { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }),
        "<f8": (8, { Float(Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)))) }),
        "<f2": (2, { Float(Float16(bitPattern: UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)))) }),
        "<i8": (8, { Float(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }),
        "<i4": (4, { Float(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) }),
        "<i2": (2, { Float(Int16(littleEndian: $0.loadUnaligned(as: Int16.self))) }),
        "|i1": (1, { Float($0.load(as: Int8.self)) }),
        "|u1": (1, { Float($0.load(as: UInt8.self)) }),
        "|b1": (1, { $0.load(as: UInt8.self) != 0 ? 1 : 0 }),
    ]

    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    private static func parseHeader(_ h: String) throws -> (String, Bool, [Int]) {
        func value(_ key: String) throws -> Substring {
            guard let k = h.range(of: "'\(key)':") else { throw NPYError("header lacks '\(key)'") }
            return h[k.upperBound...].drop { $0 == " " }
        }
        let d = try value("descr")
        guard d.first == "'", let end = d.dropFirst().firstIndex(of: "'") else { throw NPYError("malformed descr in header") }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let f = try value("fortran_order")
        guard f.hasPrefix("True") || f.hasPrefix("False") else { throw NPYError("malformed fortran_order in header") }
        let s = try value("shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw NPYError("malformed shape in header") }
        let dims = try s[s.index(after: s.startIndex)..<close].split(separator: ",").map { part -> Int in
            let t = part.trimmingCharacters(in: .whitespaces)
            guard let v = Int(t), v >= 0 else { throw NPYError("bad dimension '\(t)' in shape") }
            return v
        }
        return (descr, f.hasPrefix("True"), dims)
    }
}

/// `.npz` archives: a zip of `.npy` files, keyed by name without the extension.
public enum NPZ {
    public static func read(contentsOf url: URL) throws -> [String: Tensor] {
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw NPYError("\(url.lastPathComponent): not a readable .npz (zip) archive")
        }
        var result: [String: Tensor] = [:]
        for entry in archive where entry.type == .file && entry.path.hasSuffix(".npy") {
            var data = Data()
            do { _ = try archive.extract(entry, skipCRC32: false) { data.append($0) } } catch {
                throw NPYError("\(url.lastPathComponent): corrupt member \(entry.path)")
            }
            do { result[String(entry.path.dropLast(4))] = try NPY.decode(data) } catch let e as NPYError {
                throw NPYError("\(url.lastPathComponent)/\(entry.path): \(e.message)")
            }
        }
        return result
    }
}

/// A malformed `.npy`/`.npz`; one line naming the file and what was expected.
public struct NPYError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "npy: \(message)" }
}

import Analysis
import Foundation

/// The on-disk form of a ``ConfigurationMatrix``, so that one extraction pass over a reference set
/// (the expensive part of RDR: a forward pass per instance) serves many targets and runs.
///
/// Layout, all integers little-endian:
///
/// | bytes | content |
/// | --- | --- |
/// | 0..<8 | magic `"RDRCONF\0"` |
/// | 8..<12 | format version (UInt32, currently 1) |
/// | 12..<16 | reserved, zero |
/// | 16..<24 | rows (UInt64) |
/// | 24..<32 | units (UInt64) |
/// | 32..<40 | checksum of the payload words (UInt64, FNV-1a over words) |
/// | 40… | rows · ⌈units/64⌉ words (UInt64), row-major, as ``ConfigurationMatrix/words`` |
///
/// The reader checks the magic, version, reserved field, that the size is exactly header plus
/// payload, that no bit past `units` is set in any row and the checksum, so truncated, padded or
/// garbled files are refused with one line instead of producing wrong distances. (Each checksum step
/// is a bijection of the running value, so any single changed word is always caught.)
extension ConfigurationMatrix {
    static let magic: [UInt8] = Array("RDRCONF\0".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSize = 40

    /// Writes the matrix to `url` (replacing it), streaming the payload in chunks.
    public func write(to url: URL) throws {
        var header = ConfigurationMatrix.magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { header += $0 } }
        put(ConfigurationMatrix.formatVersion)
        put(UInt32(0))
        put(UInt64(rows))
        put(UInt64(units))
        put(ConfigurationMatrix.checksum(words))
        guard FileManager.default.createFile(atPath: url.path, contents: Data(header)) else {
            throw RDRError("cannot create \(url.path)")
        }
        let handle: FileHandle
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw RDRError("cannot open \(url.path) for writing: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            let chunk = 1 << 20   // words per write: 8 MB
            var start = 0
            while start < words.count {
                let end = Swift.min(words.count, start + chunk)
                let data = words[start..<end].withUnsafeBufferPointer { buffer -> Data in
                    #if _endian(big)
                    return Data(buffer.flatMap { w in withUnsafeBytes(of: w.littleEndian, Array.init) })
                    #else
                    return Data(buffer: buffer)
                    #endif
                }
                try handle.write(contentsOf: data)
                start = end
            }
        } catch {
            throw RDRError("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// Reads a matrix written by ``write(to:)``; every malformed file is a one-line ``RDRError``
    /// naming the file and what is wrong.
    public static func read(contentsOf url: URL) throws -> ConfigurationMatrix {
        let name = url.lastPathComponent
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw RDRError("cannot read configuration file \(url.path): \(error.localizedDescription)")
        }
        guard data.count >= headerSize else {
            throw RDRError("\(name) is not a configuration file: \(data.count) bytes, shorter than the \(headerSize)-byte header")
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> ConfigurationMatrix in
            func int<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            guard Array(raw[0..<8]) == magic else {
                throw RDRError("\(name) is not a configuration file (bad magic; expected one written by interp rdr)")
            }
            let version = int(8, UInt32.self)
            guard version == formatVersion else {
                throw RDRError("\(name) has configuration format version \(version); this build reads version \(formatVersion)")
            }
            guard int(12, UInt32.self) == 0 else { throw RDRError("\(name) is garbled: reserved header field is not zero") }
            let rows64 = int(16, UInt64.self), units64 = int(24, UInt64.self)
            guard units64 > 0, units64 < 1 << 40, rows64 < 1 << 40 else {
                throw RDRError("\(name) is garbled: header says \(rows64) rows of \(units64) units")
            }
            let (rows, units) = (Int(rows64), Int(units64))
            let perRow = Bitset.wordCount(units)
            let (payload, overflow) = rows.multipliedReportingOverflow(by: perRow * 8)
            guard !overflow, data.count - headerSize == payload else {
                let what = data.count - headerSize < payload ? "truncated" : "longer than its header says"
                throw RDRError("\(name) is \(what): \(rows) rows of \(units) units need \(payload) bytes after the header, found \(data.count - headerSize)")
            }
            var words = [UInt64](repeating: 0, count: rows * perRow)
            words.withUnsafeMutableBytes { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[headerSize...]))
            }
            #if _endian(big)
            for i in words.indices { words[i] = UInt64(littleEndian: words[i]) }
            #endif
            let stored = int(32, UInt64.self)
            guard ConfigurationMatrix.checksum(words) == stored else {
                throw RDRError("\(name) is garbled: the checksum of its \(rows) rows does not match the header")
            }
            let mask = Bitset.tailMask(units)
            if mask != ~0 {
                for r in 0..<rows where words[r * perRow + perRow - 1] & ~mask != 0 {
                    throw RDRError("\(name) is garbled: row \(r) has bits set past unit \(units - 1)")
                }
            }
            return try ConfigurationMatrix(units: units, rows: rows, words: consume words)
        }
    }

    /// FNV-1a over whole words: h ← (h ⊕ w) · P with P odd.
    static func checksum(_ words: [UInt64]) -> UInt64 {
        words.withUnsafeBufferPointer { buffer in
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for w in buffer { h = (h ^ w) &* 0x0000_0100_0000_01B3 }
            return h
        }
    }
}

import Foundation
import ZIPFoundation

/// gzip (RFC 1952) decompression for `.gz` data files (MNIST IDX, `mnist_5k.csv.gz`): the header is
/// parsed here and the deflate stream inflated by ZIPFoundation's zlib binding.
public enum Gzip {
    public static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    public static func decompress(_ data: Data) throws -> Data {
        let b = [UInt8](data)
        guard b.count >= 18, b[0] == 0x1F, b[1] == 0x8B, b[2] == 8 else { throw DatasetError("not a gzip (deflate) stream") }
        let flags = b[3]
        var p = 10
        if flags & 0x04 != 0 {                                   // FEXTRA
            guard p + 2 <= b.count else { throw DatasetError("truncated gzip header") }
            p += 2 + Int(b[p]) | Int(b[p + 1]) << 8
        }
        for bit: UInt8 in [0x08, 0x10] where flags & bit != 0 {  // FNAME, FCOMMENT: zero-terminated
            guard let end = b[Swift.min(p, b.count)...].firstIndex(of: 0) else { throw DatasetError("truncated gzip header") }
            p = end + 1
        }
        if flags & 0x02 != 0 { p += 2 }                          // FHCRC
        guard p <= b.count - 8 else { throw DatasetError("truncated gzip stream") }
        let body = data.subdata(in: data.startIndex + p..<data.endIndex - 8)
        let expectedSize = Int(b[b.count - 4]) | Int(b[b.count - 3]) << 8 | Int(b[b.count - 2]) << 16 | Int(b[b.count - 1]) << 24
        var out = Data()
        out.reserveCapacity(Swift.min(expectedSize, 1 << 28))
        let chunk = 1 << 16
        do {
            _ = try Data.decompress(size: Int64(body.count), bufferSize: chunk, skipCRC32: true, provider: { position, want in
                // zlib is told every chunk is `want` bytes long, so always hand over exactly that many:
                // the stream's bytes, then zeros; a stream that has not ended two chunks past its end
                // is corrupt (without this, a truncated file would be read past its buffer or loop).
                guard position >= 0, position <= Int64(body.count + 2 * chunk), want >= 0 else {
                    throw DatasetError("deflate stream does not end inside the file")
                }
                var piece = Data(count: want)
                let from = Int(position), to = Swift.min(from + want, body.count)
                if from < to { piece.replaceSubrange(0..<(to - from), with: body[from..<to]) }
                return piece
            }, consumer: { data in
                guard out.count + data.count <= expectedSize else { throw DatasetError("inflates past the \(expectedSize) bytes its trailer declares") }
                out.append(data)
            })
        } catch let e as DatasetError {
            throw DatasetError("corrupt gzip stream (\(e.description))")
        } catch {
            throw DatasetError("corrupt gzip stream (\(error))")
        }
        guard out.count & 0xFFFF_FFFF == expectedSize else {
            throw DatasetError("gzip stream inflates to \(out.count) bytes, the trailer says \(expectedSize)")
        }
        return out
    }
}

import Foundation
import ZIPFoundation

/// PyTorch `.pth` state dicts, read without PyTorch and without executing anything.
///
/// Two on-disk formats exist and pretrained weights in the wild use both:
/// - the zip format (`torch.save`'s default since 1.6): `<root>/data.pkl` plus one
///   `<root>/data/<key>` entry of raw little-endian elements per storage;
/// - the legacy format: five pickles in a row (magic number, protocol version, `sys_info`, the
///   state dict, the list of storage keys), then every storage as an int64 element count and its
///   raw bytes.
///
/// The pickles run on ``PickleMachine``, which only knows tensor rebuilds, storage types and
/// `OrderedDict`. Tensors come back as Float whatever their storage type, with their storage
/// offset, size and stride honoured (a transposed or sliced view is copied out), and every index
/// a view can touch is checked against its storage before anything is read.
public enum TorchCheckpoint {
    /// Reads every tensor of the state dict, converted to Float. A dict that nests the state dict
    /// under `"state_dict"` or `"model"` (training checkpoints) is accepted too; entries that are
    /// not tensors (version numbers, optimizer settings) are skipped.
    public static func load(contentsOf url: URL) throws -> [String: Tensor] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError("\(url.lastPathComponent): cannot read file (\(NPY.oneLine(error)))")
        }
        return try decode(data, name: url.lastPathComponent)
    }

    /// Reads a checkpoint already in memory (downloaded bytes, a member of another archive), as
    /// ``load(contentsOf:)`` does; `name` is the file name the errors give.
    public static func decode(_ data: Data, name: String = "checkpoint") throws -> [String: Tensor] {
        let bytes = [UInt8](data)
        do {
            guard !bytes.isEmpty else { throw CheckpointError("empty file, not a PyTorch checkpoint") }
            if bytes.starts(with: [0x50, 0x4B]) { return try loadZip(bytes) }
            return try loadLegacy(bytes)
        } catch let e as PickleError {
            throw CheckpointError("\(name): \(e.description)")
        } catch let e as ZipError {
            throw CheckpointError("\(name): corrupt zip archive: \(e.description)")
        } catch let e as CheckpointError {
            throw CheckpointError("\(name): \(e.description)")
        } catch {
            throw CheckpointError("\(name): \(NPY.oneLine(error))")
        }
    }

    // MARK: - Formats

    private static func loadZip(_ bytes: [UInt8]) throws -> [String: Tensor] {
        let zip = try ZipReader(bytes)
        // `<root>/data.pkl` at the top of the archive; the root folder is named after the file at save time.
        guard let pkl = zip.members.first(where: { $0.path.split(separator: "/", omittingEmptySubsequences: false).count == 2
                                                   && $0.path.hasSuffix("/data.pkl") }) else {
            throw CheckpointError("not a PyTorch checkpoint: the zip archive has no <root>/data.pkl")
        }
        let root = String(pkl.path.dropLast("data.pkl".count))
        if let order = zip.member(root + "byteorder"), try zip.read(order) != Array("little".utf8) {
            throw CheckpointError("big-endian checkpoints are not supported")
        }
        var machine = PickleMachine(bytes: try zip.read(pkl))
        var refs: [String: StorageRef] = [:]
        let value = try machine.run { try storageReference($0, &refs) }
        var cache: [String: [UInt8]] = [:]
        return try stateDict(value, machine.heap) { ref in
            if let b = cache[ref.key] { return b[...] }
            guard let entry = zip.member(root + "data/" + ref.key) else {
                throw CheckpointError("storage '\(ref.key)' is missing (no \(root)data/\(ref.key) in the archive)")
            }
            let b = try zip.read(entry)
            let (need, o) = ref.count.multipliedReportingOverflow(by: ref.scalar.size)
            guard !o, b.count >= need else {
                throw CheckpointError("storage '\(ref.key)' holds \(b.count) bytes, but \(ref.count) \(ref.typeName) elements need \(o ? "more" : String(need))")
            }
            cache[ref.key] = b
            return b[...]
        }
    }

    /// torch's legacy magic number 0x1950a86a20f9469cfc6c, as LONG1's little-endian bytes.
    private static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    private static func loadLegacy(_ bytes: [UInt8]) throws -> [String: Tensor] {
        guard bytes[0] == 0x80 else { throw CheckpointError("not a PyTorch checkpoint (neither a zip archive nor a pickle)") }
        var position = 0
        func next(_ persistent: ([PickleValue]) throws -> PickleValue = { _ in throw PickleError("unexpected persistent id") })
            throws -> (PickleValue, PickleHeap) {
            var machine = PickleMachine(bytes: bytes, start: position)
            let v = try machine.run(persistent: persistent)
            position = machine.position
            return (v, machine.heap)
        }
        guard case let .bigInt(magic) = try next().0, magic == legacyMagic else {
            throw CheckpointError("not a PyTorch checkpoint (bad magic number)")
        }
        guard case .int(1001) = try next().0 else { throw CheckpointError("unsupported legacy protocol version (expected 1001)") }
        let (sysInfo, sysHeap) = try next()
        for (k, v) in sysHeap.entries(sysInfo) ?? [] {
            if case .string("little_endian") = k, case .bool(false) = v { throw CheckpointError("big-endian checkpoints are not supported") }
        }
        var refs: [String: StorageRef] = [:]
        let (value, heap) = try next { try storageReference($0, &refs) }
        let (keyList, keyHeap) = try next()
        guard case .list = keyList, let keys = keyHeap.items(keyList) else {
            throw CheckpointError("the storage key list is missing after the state dict")
        }
        var storages: [String: Range<Int>] = [:]
        for keyValue in keys {
            guard case let .string(key) = keyValue else { throw CheckpointError("the storage key list holds a \(keyValue.typeName)") }
            guard let ref = refs[key] else { throw CheckpointError("storage '\(key)' is listed but no tensor refers to it") }
            guard bytes.count - position >= 8 else { throw CheckpointError("truncated before storage '\(key)'") }
            let count = bytes[position..<position + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            position += 8
            guard count == UInt64(ref.count) else {
                throw CheckpointError("storage '\(key)' has \(count) elements on disk, the state dict says \(ref.count)")
            }
            let size = ref.scalar.size
            guard ref.count <= (bytes.count - position) / size else {
                throw CheckpointError("truncated in storage '\(key)': \(ref.count) \(ref.typeName) elements need \(ref.count * size) bytes, \(bytes.count - position) remain")
            }
            storages[key] = position..<position + ref.count * size
            position += ref.count * size
        }
        return try stateDict(value, heap) { ref in
            guard let range = storages[ref.key] else { throw CheckpointError("storage '\(ref.key)' is missing from the file") }
            return bytes[range]
        }
    }

    // MARK: - Shared

    /// `('storage', StorageType, key, location, numel[, view_metadata])` → a storage reference.
    /// A key seen twice must name the same type and size.
    private static func storageReference(_ pid: [PickleValue], _ refs: inout [String: StorageRef]) throws -> PickleValue {
        guard pid.count >= 5, case .string("storage") = pid[0] else {
            throw PickleError("unsupported persistent id (expected ('storage', type, key, location, numel))")
        }
        guard case let .global(type) = pid[1], type.hasPrefix("torch."),
              let scalar = PickleMachine.storageTypes[String(type.dropFirst("torch.".count))] else {
            throw PickleError("persistent id names \(pid[1].typeName), not a storage type")
        }
        let key: String
        switch pid[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw PickleError("storage key is a \(pid[2].typeName), not a string")
        }
        guard case let .int(count) = pid[4], count >= 0, count <= Int64(Int.max / 8) else {
            throw PickleError("storage '\(key)' has an invalid element count")
        }
        if pid.count > 5, case .none = pid[5] {} else if pid.count > 5 {
            throw PickleError("storage '\(key)' is a view of another storage (pre-1.0 checkpoints are not supported)")
        }
        let ref = StorageRef(typeName: String(type.dropFirst("torch.".count)), scalar: scalar, key: key, count: Int(count))
        if let seen = refs[key] {
            guard seen.typeName == ref.typeName, seen.count == ref.count else {
                throw PickleError("storage '\(key)' is referenced as both \(seen.count) \(seen.typeName) and \(ref.count) \(ref.typeName)")
            }
        } else {
            refs[key] = ref
        }
        return .storage(ref)
    }

    /// The tensors of the state dict (or of the one nested under `state_dict`/`model`).
    private static func stateDict(_ value: PickleValue, _ heap: PickleHeap,
                                  storage: (StorageRef) throws -> ArraySlice<UInt8>) throws -> [String: Tensor] {
        guard var entries = heap.entries(value) else {
            throw CheckpointError("the checkpoint holds a \(value.typeName), not a state dict")
        }
        // Training checkpoints nest the state dict; descend a few levels at most, since the heap is
        // a graph (a dict may contain itself).
        func nested(_ name: String) -> [(key: PickleValue, value: PickleValue)]? {
            guard let entry = entries.last(where: { if case .string(name) = $0.key { true } else { false } }) else { return nil }
            return heap.entries(entry.value)
        }
        for _ in 0..<3 {
            guard let inner = nested("state_dict") ?? nested("model") else { break }
            entries = inner
        }
        var result: [String: Tensor] = [:]
        for (k, v) in entries {
            guard case let .string(key) = k, case let .tensor(ref) = v else { continue }   // e.g. version ints
            result[key] = try materialize(ref, try storage(ref.storage), key: key)
        }
        guard !result.isEmpty else { throw CheckpointError("the state dict holds no tensors") }
        return result
    }

    /// Copies a (possibly strided) view out of its storage as Float, after checking with
    /// overflow-reporting arithmetic that every index it reads lies inside the storage.
    private static func materialize(_ ref: TensorRef, _ bytes: ArraySlice<UInt8>, key: String) throws -> Tensor {
        let type = ref.storage.scalar
        let available = min(bytes.count / type.size, ref.storage.count)
        let view = "size \(ref.shape), stride \(ref.strides), offset \(ref.offset)"
        guard let count = StridedView.count(ref.shape), let extent = StridedView.extent(offset: ref.offset, shape: ref.shape, strides: ref.strides) else {
            throw CheckpointError("tensor '\(key)' (\(view)) overflows")
        }
        guard extent <= available else {
            throw CheckpointError("tensor '\(key)' (\(view)) needs \(extent) elements, but storage '\(ref.storage.key)' holds \(available): storage too small")
        }
        // Zero strides can expand a small storage into a huge view; refuse implausible ones.
        guard count <= max(available, 1 << 26) else {
            throw CheckpointError("tensor '\(key)' (\(view)) expands \(available) stored elements to \(count)")
        }
        return bytes.withUnsafeBytes { StridedView.gather($0, type, offset: ref.offset, shape: ref.shape, strides: ref.strides) }
    }
}

/// A checkpoint could not be read: one line naming the file and what was wrong or expected.
public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// MARK: - Zip

/// Why a zip archive could not be read.
struct ZipError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A zip archive held in memory, read without trusting any of its numbers.
///
/// ZIPFoundation's `Archive` converts 64-bit zip64 sizes and offsets with trapping conversions and,
/// on Linux, can loop forever on a deflate stream cut short by the end of the file. Checkpoints
/// and `.npz` files come from anywhere, so this reader walks the central directory itself,
/// checking every offset and size against the bytes present, takes stored entries as slices and
/// inflates deflated ones through ZIPFoundation's zlib binding with an input that ends and an
/// output that is capped; CRC-32s are verified.
struct ZipReader {
    struct Member {
        let path: String
        let method: Int
        let crc: UInt32
        let compressedSize: Int
        let size: Int
        let dataStart: Int
    }

    let bytes: [UInt8]
    private(set) var members: [Member] = []
    private var index: [String: Int] = [:]

    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        let n = bytes.count
        func u16(_ p: Int) -> Int { Int(bytes[p]) | Int(bytes[p + 1]) << 8 }
        func u32(_ p: Int) -> Int { u16(p) | u16(p + 2) << 16 }
        func u64(_ p: Int) -> UInt64 { UInt64(u32(p)) | UInt64(u32(p + 4)) << 32 }
        func within(_ v: UInt64, _ limit: Int) throws -> Int {
            guard limit >= 0, v <= UInt64(limit) else { throw ZipError("a size or offset (\(v)) points past the end of the \(n)-byte file") }
            return Int(v)
        }
        guard n >= 22 else { throw ZipError("\(n) bytes is too short for a zip archive") }
        // The end-of-central-directory record: the last signature whose comment fits the file.
        guard let eocd = stride(from: n - 22, through: max(0, n - 22 - 0xFFFF), by: -1).first(where: {
            u32($0) == 0x0605_4B50 && $0 + 22 + u16($0 + 20) <= n
        }) else { throw ZipError("no end-of-central-directory record (truncated?)") }
        var count = UInt64(u16(eocd + 10)), cdSize = UInt64(u32(eocd + 12)), cdOffset = UInt64(u32(eocd + 16))
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {   // zip64: the real values live elsewhere
            guard eocd >= 20, u32(eocd - 20) == 0x0706_4B50 else { throw ZipError("zip64 locator missing") }
            let record = try within(u64(eocd - 12), n - 56)
            guard u32(record) == 0x0606_4B50 else { throw ZipError("zip64 end-of-central-directory record missing") }
            (count, cdSize, cdOffset) = (u64(record + 32), u64(record + 40), u64(record + 48))
        }
        let start = try within(cdOffset, n), end = start + (try within(cdSize, n - start))
        guard count <= UInt64((end - start) / 46) else { throw ZipError("central directory too small for \(count) entries") }
        var p = start
        for _ in 0..<Int(count) {
            guard p <= end - 46, u32(p) == 0x0201_4B50 else { throw ZipError("corrupt central directory entry at offset \(p)") }
            let flags = u16(p + 8), method = u16(p + 10)
            var usize = UInt64(u32(p + 24)), csize = UInt64(u32(p + 20)), local = UInt64(u32(p + 42))
            let nameStart = p + 46, extraStart = nameStart + u16(p + 28), extraEnd = extraStart + u16(p + 30)
            let next = extraEnd + u16(p + 32)
            guard next <= end else { throw ZipError("central directory entry at offset \(p) runs past the directory") }
            var e = extraStart
            while e + 4 <= extraEnd {                                   // zip64 extended information (id 1)
                let body = e + 4, bodyEnd = body + u16(e + 2)
                guard bodyEnd <= extraEnd else { throw ZipError("corrupt extra field at offset \(e)") }
                if u16(e) == 1 {
                    var f = body
                    func widen(_ v: inout UInt64) throws {               // only the fields saturated above
                        guard v == 0xFFFF_FFFF else { return }
                        guard f + 8 <= bodyEnd else { throw ZipError("zip64 field too short at offset \(e)") }
                        v = u64(f)
                        f += 8
                    }
                    try widen(&usize)
                    try widen(&csize)
                    try widen(&local)
                }
                e = bodyEnd
            }
            let path = String(decoding: bytes[nameStart..<extraStart], as: UTF8.self)
            guard flags & 1 == 0 else { throw ZipError("'\(path)' is encrypted") }
            guard method == 0 || method == 8 else { throw ZipError("'\(path)' uses compression method \(method) (only stored and deflate)") }
            let l = try within(local, n - 30)
            guard u32(l) == 0x0403_4B50 else { throw ZipError("local header of '\(path)' missing at offset \(l)") }
            let dataStart = l + 30 + u16(l + 26) + u16(l + 28)
            guard dataStart <= n else { throw ZipError("local header of '\(path)' runs past the end") }
            let compressed = try within(csize, n - dataStart)
            // Deflate expands at most 1032:1; a larger claim is corrupt, and would be a huge allocation.
            let size = try within(usize, method == 0 ? compressed : compressed * 1032 + 1032)
            guard method == 8 || size == compressed else { throw ZipError("stored entry '\(path)' has sizes \(compressed) and \(size)") }
            index[path] = members.count
            members.append(Member(path: path, method: method, crc: UInt32(truncatingIfNeeded: u32(p + 16)),
                                  compressedSize: compressed, size: size, dataStart: dataStart))
            p = next
        }
    }

    func member(_ path: String) -> Member? { index[path].map { members[$0] } }

    /// The member's bytes, CRC-checked.
    func read(_ m: Member) throws -> [UInt8] {
        var out: [UInt8]
        if m.method == 0 {
            out = Array(bytes[m.dataStart..<m.dataStart + m.compressedSize])
        } else {
            out = []
            out.reserveCapacity(min(m.size, 1 << 26))
            let chunk = 1 << 16, dataEnd = m.dataStart + m.compressedSize
            let source = bytes
            do {
                _ = try Data.decompress(size: Int64(m.compressedSize), bufferSize: chunk, skipCRC32: true, provider: { position, want in
                    // Always exactly `want` bytes (zlib is told the chunk is that long), zeros past the
                    // entry, and an error once the stream has had two chunks of padding without ending.
                    guard position >= 0, position <= Int64(m.compressedSize + 2 * chunk), want >= 0 else {
                        throw ZipError("deflate stream of '\(m.path)' does not end inside its entry")
                    }
                    var piece = Data(count: want)
                    let from = m.dataStart + Int(position), to = min(from + want, dataEnd)
                    if from < to { piece.replaceSubrange(0..<(to - from), with: source[from..<to]) }
                    return piece
                }, consumer: { data in
                    guard out.count + data.count <= m.size else { throw ZipError("'\(m.path)' inflates past its declared \(m.size) bytes") }
                    out.append(contentsOf: data)
                })
            } catch let e as ZipError { throw e } catch {
                throw ZipError("corrupt deflate stream in '\(m.path)'")
            }
        }
        guard out.count == m.size else { throw ZipError("'\(m.path)' inflates to \(out.count) bytes, the directory says \(m.size)") }
        var crc: UInt32 = 0
        for s in stride(from: 0, to: out.count, by: 1 << 24) { crc = Data(out[s..<min(s + (1 << 24), out.count)]).crc32(checksum: crc) }
        guard crc == m.crc else { throw ZipError("CRC-32 mismatch in '\(m.path)'") }
        return out
    }
}

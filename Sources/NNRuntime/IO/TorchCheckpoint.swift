import Foundation
import ZIPFoundation

/// PyTorch `.pth` state dicts, read without PyTorch and without executing anything: the zip format
/// (`<root>/data.pkl` + `<root>/data/<key>`, `torch.save`'s default since 1.6) and the legacy format
/// (a sequence of pickles followed by the raw storages), through ``PickleMachine``'s allow-list.
public enum TorchCheckpoint {
    /// Reads every tensor of the state dict (also one nested under `"state_dict"` or `"model"`),
    /// converted to Float.
    public static func load(contentsOf url: URL) throws -> [String: Tensor] {
        let name = url.lastPathComponent
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError("\(name): cannot read file (\(error.localizedDescription))")
        }
        do {
            if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try loadZip(url: url) }
            return try loadLegacy([UInt8](data))
        } catch let e as PickleError {
            throw CheckpointError("\(name): \(e.description)")
        } catch let e as CheckpointError {
            throw CheckpointError("\(name): \(e.description)")
        }
    }

    // MARK: - Formats

    private static func loadZip(url: URL) throws -> [String: Tensor] {
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw CheckpointError("not a readable zip archive (\(error))")
        }
        guard let pkl = archive.first(where: { $0.path.hasSuffix("data.pkl") && $0.type == .file }) else {
            throw CheckpointError("zip archive has no data.pkl: not a PyTorch checkpoint")
        }
        let root = String(pkl.path.dropLast("data.pkl".count))
        if let order = archive[root + "byteorder"], try read(archive, order) != Array("little".utf8) {
            throw CheckpointError("big-endian checkpoints are not supported")
        }
        var machine = PickleMachine(bytes: try read(archive, pkl))
        let value = try machine.run(persistent: storageReference)
        var cache: [String: [UInt8]] = [:]
        return try stateDict(value) { ref in
            if let b = cache[ref.key] { return b }
            guard let entry = archive[root + "data/" + ref.key] else {
                throw CheckpointError("storage '\(ref.key)' is missing from the archive")
            }
            let b = try read(archive, entry)
            cache[ref.key] = b
            return b
        }
    }

    private static func read(_ archive: Archive, _ entry: Entry) throws -> [UInt8] {
        guard entry.uncompressedSize < 1 << 34 else { throw CheckpointError("entry \(entry.path) is implausibly large") }
        var out: [UInt8] = []
        out.reserveCapacity(Int(entry.uncompressedSize))
        do { _ = try archive.extract(entry, skipCRC32: false) { out.append(contentsOf: $0) } } catch {
            throw CheckpointError("corrupt zip entry \(entry.path) (\(error))")
        }
        return out
    }

    private static func loadLegacy(_ bytes: [UInt8]) throws -> [String: Tensor] {
        var position = 0
        func next(_ persistent: (PickleValue) throws -> PickleValue = { _ in throw PickleError("unexpected persistent id") }) throws -> PickleValue {
            var m = PickleMachine(bytes: bytes, start: position)
            let v = try m.run(persistent: persistent)
            position = m.position
            return v
        }
        guard bytes.first == 0x80 else { throw CheckpointError("not a PyTorch checkpoint (neither a zip archive nor a pickle)") }
        // torch's legacy magic number 0x1950a86a20f9469cfc6c, pickled as a 10-byte LONG1.
        guard case let .bigInt(magic) = try next(), magic == [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19] else {
            throw CheckpointError("not a PyTorch checkpoint (bad magic number)")
        }
        _ = try next()            // protocol version
        _ = try next()            // sys_info
        var refs: [String: StorageRef] = [:]
        let value = try next { pid in
            let v = try storageReference(pid)
            if case let .storage(s) = v { refs[s.key] = s }
            return v
        }
        guard case let .list(keyList) = try next() else { throw CheckpointError("storage key list is missing") }
        var storages: [String: [UInt8]] = [:]
        for keyValue in keyList.items {
            guard case let .string(key) = keyValue, let ref = refs[key] else { throw CheckpointError("unknown storage key in the key list") }
            guard bytes.count - position >= 8 else { throw CheckpointError("truncated before storage '\(key)'") }
            let count = bytes[position..<position + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            position += 8
            let size = elementSize(ref.dtype)
            guard count == UInt64(ref.count), count <= UInt64(bytes.count - position) / UInt64(size) else {
                throw CheckpointError("storage '\(key)' is truncated or has \(count) elements, expected \(ref.count)")
            }
            storages[key] = Array(bytes[position..<position + Int(count) * size])
            position += Int(count) * size
        }
        return try stateDict(value) { ref in
            guard let b = storages[ref.key] else { throw CheckpointError("storage '\(ref.key)' is missing") }
            return b
        }
    }

    // MARK: - Shared

    /// `('storage', StorageType, key, location, numel[, view])` → a storage reference.
    private static func storageReference(_ pid: PickleValue) throws -> PickleValue {
        guard case let .tuple(t) = pid, t.count >= 5, case .string("storage") = t[0], case let .global(type) = t[1],
              case let .int(count) = t[4], count >= 0 else {
            throw PickleError("unsupported persistent id \(pid.typeName)")
        }
        let key: String
        switch t[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw PickleError("storage key is not a string")
        }
        let dtype = String(type.dropFirst("torch.".count))
        guard PickleMachine.storageTypes.contains(dtype) else { throw PickleError("unsupported storage type \(type)") }
        return .storage(StorageRef(dtype: dtype, key: key, count: Int(count)))
    }

    private static func elementSize(_ dtype: String) -> Int {
        switch dtype {
        case "DoubleStorage", "LongStorage": 8
        case "FloatStorage", "IntStorage": 4
        case "HalfStorage", "BFloat16Storage", "ShortStorage": 2
        default: 1
        }
    }

    private static func stateDict(_ value: PickleValue, storage: (StorageRef) throws -> [UInt8]) throws -> [String: Tensor] {
        guard case let .dict(d) = value else { throw CheckpointError("the checkpoint holds a \(value.typeName), not a state dict") }
        for (k, v) in d.items {
            if case .string("state_dict") = k, case .dict = v { return try stateDict(v, storage: storage) }
            if case .string("model") = k, case .dict = v { return try stateDict(v, storage: storage) }
        }
        var result: [String: Tensor] = [:]
        for (k, v) in d.items {
            guard case let .string(key) = k else { continue }
            guard case let .tensor(ref) = v else { continue }   // non-tensor entries (e.g. version ints) are skipped
            result[key] = try materialize(ref, storage(ref.storage), key: key)
        }
        guard !result.isEmpty else { throw CheckpointError("the state dict holds no tensors") }
        return result
    }

    /// Copies a (possibly strided) view out of its storage as Float, after checking every index
    /// it can touch lies inside the storage.
    private static func materialize(_ ref: TensorRef, _ bytes: [UInt8], key: String) throws -> Tensor {
        let size = elementSize(ref.storage.dtype)
        let available = bytes.count / size
        let count = ref.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard count < Int.max else { throw CheckpointError("tensor '\(key)' shape \(ref.shape) overflows") }
        if count > 0 {
            let last = zip(ref.shape, ref.strides).reduce(ref.offset) { $0 + ($1.0 - 1) * $1.1 }
            guard last < available else {
                throw CheckpointError("tensor '\(key)' (size \(ref.shape), stride \(ref.strides), offset \(ref.offset)) reads past its \(available)-element storage")
            }
        }
        return bytes.withUnsafeBytes { raw -> Tensor in
            let base = raw.baseAddress!
            func element(_ i: Int) -> Float {
                switch ref.storage.dtype {
                case "FloatStorage": Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case "DoubleStorage": Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                case "HalfStorage": Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                case "BFloat16Storage": Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                case "LongStorage": Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                case "IntStorage": Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case "ShortStorage": Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case "CharStorage": Float(base.load(fromByteOffset: i, as: Int8.self))
                default: Float(base.load(fromByteOffset: i, as: UInt8.self))
                }
            }
            return Tensor(shape: ref.shape) { out in
                let rank = ref.shape.count
                var index = [Int](repeating: 0, count: rank)
                var src = ref.offset
                for o in 0..<out.count {
                    out[o] = element(src)
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        src += ref.strides[axis]
                        if index[axis] < ref.shape[axis] { break }
                        src -= ref.strides[axis] * ref.shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }
}

/// A checkpoint could not be read; one line naming the file and what was wrong or expected.
public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

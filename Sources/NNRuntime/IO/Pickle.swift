import Foundation

/// A pickle *reader* for PyTorch checkpoints: a data-only interpreter of the pickle opcodes that
/// `torch.save` emits (protocols 2–5). Globals resolve only through an allow-list of tensor
/// rebuilders, storage types and `OrderedDict`; any other global is refused, so loading a
/// checkpoint never executes anything (unlike `pickle.load`).

/// A value on the pickle machine's stack.
indirect enum PickleValue {
    case none, bool(Bool), int(Int64), float(Double), string(String), bytes([UInt8])
    /// An integer wider than 64 bits, as little-endian two's-complement bytes (the legacy magic number).
    case bigInt([UInt8])
    case tuple([PickleValue]), list(PickleList), dict(PickleDict)
    /// An allowed global (`module.name`), before it is called.
    case global(String)
    /// A persistent reference to a storage: `('storage', type, key, location, numel, …)`.
    case storage(StorageRef)
    /// A tensor view over a storage, from `_rebuild_tensor_v2`.
    case tensor(TensorRef)

    var typeName: String {
        switch self {
        case .none: "None"; case .bool: "bool"; case .int: "int"; case .float: "float"; case .string: "str"
        case .bytes: "bytes"; case .bigInt: "int"; case .tuple: "tuple"; case .list: "list"; case .dict: "dict"
        case .global(let g): g; case .storage: "storage"; case .tensor: "tensor"
        }
    }
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var items: [(PickleValue, PickleValue)] = [] }

/// The storage a persistent id names: its element type, its key (file name or legacy id) and size.
struct StorageRef {
    let dtype: String      // e.g. "FloatStorage"
    let key: String
    let count: Int
}

/// `_rebuild_tensor_v2(storage, offset, size, stride, …)`.
struct TensorRef {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

/// Why a pickle could not be read; the checkpoint loader prefixes the file name.
struct PickleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs one pickle program from `bytes[start...]` to its STOP opcode.
struct PickleMachine {
    static let storageTypes: Set<String> = ["FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage",
                                            "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage",
                                            "BoolStorage"]
    static let allowedGlobals: Set<String> = Set(["collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                                  "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
                                                  "_codecs.encode"] + storageTypes.map { "torch.\($0)" })
    static let maxStack = 1 << 20, maxMemo = 1 << 22

    let bytes: [UInt8]
    private(set) var position: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: [UInt8], start: Int = 0) {
        self.bytes = bytes
        position = start
    }

    // MARK: - Reading primitives (all bounds-checked)

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else {
            throw PickleError("truncated pickle: needs \(n) bytes at offset \(position), \(bytes.count - position) remain")
        }
        defer { position += n }
        return bytes[position..<position + n]
    }

    private mutating func uint(_ n: Int) throws -> UInt64 {
        try take(n).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw PickleError("truncated pickle: unterminated line") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw PickleError("malformed pickle: stack underflow at offset \(position)") }
        if let m = marks.last, stack.count < m { throw PickleError("malformed pickle: pop across a mark at offset \(position)") }
        return v
    }

    private mutating func push(_ v: PickleValue) throws {
        guard stack.count < PickleMachine.maxStack else { throw PickleError("pickle stack exceeds \(PickleMachine.maxStack) entries") }
        stack.append(v)
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw PickleError("malformed pickle: no mark at offset \(position)") }
        defer { stack.removeSubrange(m...) }
        return Array(stack[m...])
    }

    private mutating func string(length: Int) throws -> PickleValue {
        .string(String(decoding: try take(length), as: UTF8.self))
    }

    private func length(_ n: UInt64) throws -> Int {
        guard n <= UInt64(bytes.count - position) else { throw PickleError("truncated pickle: a \(n)-byte item at offset \(position) runs past the end") }
        return Int(n)
    }

    // MARK: - The interpreter

    /// Runs to STOP and returns the result; `persistent` maps a persistent id to a value.
    mutating func run(persistent: (PickleValue) throws -> PickleValue) throws -> PickleValue {
        while true {
            let opcode = try take(1).first!
            switch opcode {
            case 0x80: _ = try take(1)                                   // PROTO
            case 0x95: _ = try take(8)                                   // FRAME
            case UInt8(ascii: "."): return try pop()                     // STOP
            case UInt8(ascii: "("): marks.append(stack.count)            // MARK
            case UInt8(ascii: "}"): try push(.dict(PickleDict()))
            case UInt8(ascii: "]"): try push(.list(PickleList()))
            case UInt8(ascii: ")"): try push(.tuple([]))
            case UInt8(ascii: "N"): try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case UInt8(ascii: "J"): try push(.int(Int64(Int32(truncatingIfNeeded: try uint(4)))))
            case UInt8(ascii: "K"): try push(.int(Int64(try uint(1))))
            case UInt8(ascii: "M"): try push(.int(Int64(try uint(2))))
            case 0x8A, 0x8B:                                             // LONG1, LONG4
                let n = try length(try uint(opcode == 0x8A ? 1 : 4))
                guard n <= 64 else { throw PickleError("integer of \(n) bytes is too large") }
                let raw = try take(n)
                if n > 8 { try push(.bigInt(Array(raw))); continue }
                var v = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if n > 0 && n < 8 && raw.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
                try push(.int(Int64(bitPattern: v)))
            case UInt8(ascii: "G"):
                try push(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case UInt8(ascii: "X"): try push(try string(length: length(try uint(4))))
            case 0x8C: try push(try string(length: length(try uint(1))))
            case 0x8D: try push(try string(length: length(try uint(8))))
            case UInt8(ascii: "T"): try push(try string(length: length(try uint(4))))
            case UInt8(ascii: "U"): try push(try string(length: length(try uint(1))))
            case UInt8(ascii: "B"): try push(.bytes(Array(try take(length(try uint(4))))))
            case UInt8(ascii: "C"): try push(.bytes(Array(try take(length(try uint(1))))))
            case 0x8E: try push(.bytes(Array(try take(length(try uint(8))))))
            case 0x85: try push(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); try push(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple([a, b, c]))
            case UInt8(ascii: "t"): try push(.tuple(try popMark()))
            case UInt8(ascii: "a"):
                let v = try pop()
                guard case let .list(l)? = stack.last else { throw PickleError("APPEND to a non-list") }
                l.items.append(v)
            case UInt8(ascii: "e"):
                let items = try popMark()
                guard case let .list(l)? = stack.last else { throw PickleError("APPENDS to a non-list") }
                l.items += items
            case UInt8(ascii: "s"):
                let v = try pop(), k = try pop()
                guard case let .dict(d)? = stack.last else { throw PickleError("SETITEM on a non-dict") }
                d.items.append((k, v))
            case UInt8(ascii: "u"):
                let items = try popMark()
                guard items.count % 2 == 0, case let .dict(d)? = stack.last else { throw PickleError("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count, by: 2) { d.items.append((items[i], items[i + 1])) }
            case UInt8(ascii: "q"): try memoize(Int(try uint(1)))
            case UInt8(ascii: "r"): try memoize(Int(try uint(4)))
            case 0x94: try memoize(memo.count)
            case UInt8(ascii: "h"), UInt8(ascii: "j"):
                let i = Int(try uint(opcode == UInt8(ascii: "h") ? 1 : 4))
                guard let v = memo[i] else { throw PickleError("memo entry \(i) is not defined") }
                try push(v)
            case UInt8(ascii: "0"): _ = try pop()                        // POP
            case UInt8(ascii: "1"): _ = try popMark()                    // POP_MARK
            case UInt8(ascii: "2"): guard let top = stack.last else { throw PickleError("DUP on an empty stack") }; try push(top)
            case UInt8(ascii: "c"):
                let module = try line(), name = try line()
                try push(try global(module, name))
            case 0x93:
                guard case let .string(name) = try pop(), case let .string(module) = try pop() else {
                    throw PickleError("STACK_GLOBAL needs two strings")
                }
                try push(try global(module, name))
            case UInt8(ascii: "Q"): try push(try persistent(try pop()))
            case UInt8(ascii: "R"), 0x81:                                // REDUCE, NEWOBJ
                let args = try pop(), callable = try pop()
                try push(try call(callable, args))
            case UInt8(ascii: "b"):                                      // BUILD: state on dicts/tensors is ignored
                _ = try pop()
                guard stack.last != nil else { throw PickleError("BUILD on an empty stack") }
            default:
                throw PickleError(String(format: "unsupported pickle opcode 0x%02x at offset %d", opcode, position - 1))
            }
        }
    }

    private mutating func memoize(_ index: Int) throws {
        guard let top = stack.last else { throw PickleError("memoizing an empty stack") }
        guard memo.count < PickleMachine.maxMemo else { throw PickleError("pickle memo exceeds \(PickleMachine.maxMemo) entries") }
        memo[index] = top
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        guard PickleMachine.allowedGlobals.contains(full) else {
            throw PickleError("refusing pickle global '\(full)' (only tensor rebuilds, storage types and OrderedDict are allowed)")
        }
        return .global(full)
    }

    private func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(name) = callable, case let .tuple(a) = args else {
            throw PickleError("cannot call \(callable.typeName) with \(args.typeName)")
        }
        switch name {
        case "collections.OrderedDict":
            return .dict(PickleDict())
        case "torch._utils._rebuild_parameter":
            guard let data = a.first, case .tensor = data else { throw PickleError("_rebuild_parameter without a tensor") }
            return data
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard a.count >= 4, case let .storage(s) = a[0], case let .int(offset) = a[1],
                  case let .tuple(size) = a[2], case let .tuple(stride) = a[3] else {
                throw PickleError("malformed tensor rebuild arguments")
            }
            let shape = try size.map { v -> Int in guard case let .int(i) = v, i >= 0 else { throw PickleError("bad tensor size") }; return Int(i) }
            let strides = try stride.map { v -> Int in guard case let .int(i) = v, i >= 0 else { throw PickleError("bad tensor stride") }; return Int(i) }
            guard shape.count == strides.count, offset >= 0 else { throw PickleError("tensor size \(shape) and stride \(strides) disagree") }
            return .tensor(TensorRef(storage: s, offset: Int(offset), shape: shape, strides: strides))
        case "_codecs.encode":
            guard case let .string(s)? = a.first else { throw PickleError("_codecs.encode without a string") }
            return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        default:
            throw PickleError("pickle global '\(name)' cannot be called")
        }
    }
}

import Foundation

// A pickle *reader* for PyTorch checkpoints: a pure data interpreter of the opcodes `torch.save`
// emits (protocols 2–5). `pickle.load` would import and call whatever the file names, so a `.pth`
// from the internet is a program; this machine instead resolves globals through an allow-list of
// tensor rebuilders, storage types and `OrderedDict`, models each call it allows as plain data,
// and refuses everything else. Every read is bounds-checked against the input and the stack, marks
// and memo are capped, so a hostile or truncated file ends in a `PickleError`, never a trap.

/// A value on the pickle machine's stack.
///
/// Containers are indices into the machine's ``PickleHeap`` rather than nested values: a file of
/// a million `TUPLE1` opcodes then builds a flat table instead of a million-deep chain whose
/// recursive release would overflow the call stack, and self-referencing lists (legal in pickle)
/// need no cycles.
enum PickleValue {
    case none, bool(Bool), int(Int64), float(Double), string(String), bytes([UInt8])
    /// An integer wider than 64 bits, as little-endian two's-complement bytes (torch's legacy magic number).
    case bigInt([UInt8])
    /// Indices into ``PickleHeap``'s tables; sets are read as lists.
    case tuple(Int), list(Int), dict(Int)
    /// An allowed global (`module.name`), before it is called.
    case global(String)
    /// A persistent reference to a storage: `('storage', type, key, location, numel, …)`.
    case storage(StorageRef)
    /// A tensor view over a storage, from `_rebuild_tensor_v2`.
    case tensor(TensorRef)

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .none: "None"; case .bool: "bool"; case .int, .bigInt: "int"; case .float: "float"; case .string: "str"
        case .bytes: "bytes"; case .tuple: "tuple"; case .list: "list"; case .dict: "dict"
        case .global(let g): g; case .storage: "storage"; case .tensor: "tensor"
        }
    }
}

/// The containers one pickle program built, addressed by ``PickleValue``'s indices.
struct PickleHeap {
    var tuples: [[PickleValue]] = []
    var lists: [[PickleValue]] = []
    var dicts: [[(key: PickleValue, value: PickleValue)]] = []

    /// The items of a tuple or list value.
    func items(_ v: PickleValue) -> [PickleValue]? {
        switch v {
        case .tuple(let i): tuples[i]
        case .list(let i): lists[i]
        default: nil
        }
    }

    /// The entries of a dict value, in insertion order (a repeated key appears twice; the last wins).
    func entries(_ v: PickleValue) -> [(key: PickleValue, value: PickleValue)]? {
        if case .dict(let i) = v { return dicts[i] }
        return nil
    }
}

/// The storage a persistent id names: its element type, its key (zip entry name or legacy id) and
/// its element count.
struct StorageRef {
    /// The storage class, e.g. `FloatStorage`.
    let typeName: String
    let scalar: ScalarType
    let key: String
    let count: Int
}

/// `_rebuild_tensor_v2(storage, offset, size, stride, …)`: a view in elements of the storage.
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
    /// The storage classes a tensor may live in, and how their elements convert to Float.
    static let storageTypes: [String: ScalarType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool,
    ]
    /// The only globals a file may name. Everything here is modelled as data by ``call(_:_:)``;
    /// nothing is looked up or run.
    static let allowedGlobals: Set<String> = Set([
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "_codecs.encode",
    ] + storageTypes.keys.map { "torch.\($0)" })

    /// Caps that keep a hostile file from growing the machine without bound (the input size
    /// already bounds the rest: every opcode consumes a byte and pushes at most one value).
    static let maxStack = 1 << 20, maxMarks = 1 << 16, maxMemo = 1 << 22, maxIntBytes = 256

    private let bytes: [UInt8]
    private(set) var position: Int
    private(set) var heap = PickleHeap()
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: [UInt8], start: Int = 0) {
        self.bytes = bytes
        position = min(max(start, 0), bytes.count)
    }

    // MARK: - Reading primitives (all bounds-checked)

    private var remaining: Int { bytes.count - position }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else {
            throw PickleError("truncated pickle: needs \(n) more bytes at offset \(position), \(remaining) remain")
        }
        defer { position += n }
        return bytes[position..<position + n]
    }

    /// A little-endian unsigned integer of `n` ≤ 8 bytes.
    private mutating func uint(_ n: Int) throws -> UInt64 {
        try take(n).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A length prefix of `n` bytes, checked against what is left so nothing huge is allocated.
    private mutating func length(_ n: Int) throws -> Int {
        let v = try uint(n)
        guard v <= UInt64(remaining) else {
            throw PickleError("truncated pickle: a \(v)-byte item at offset \(position) runs past the end (\(remaining) bytes remain)")
        }
        return Int(v)
    }

    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw PickleError("truncated pickle: unterminated GLOBAL name") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    // MARK: - Stack

    /// The lowest stack index the current mark lets opcodes touch.
    private var fence: Int { marks.last ?? 0 }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > fence else { throw PickleError("malformed pickle: stack underflow at offset \(position)") }
        return stack.removeLast()
    }

    private func top() throws -> PickleValue {
        guard stack.count > fence, let v = stack.last else { throw PickleError("malformed pickle: empty stack at offset \(position)") }
        return v
    }

    private mutating func push(_ v: PickleValue) throws {
        guard stack.count < Self.maxStack else { throw PickleError("pickle stack exceeds \(Self.maxStack) entries") }
        stack.append(v)
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw PickleError("malformed pickle: no MARK before offset \(position)") }
        defer { stack.removeSubrange(m...) }
        return Array(stack[m...])
    }

    private mutating func newTuple(_ items: [PickleValue]) -> PickleValue {
        heap.tuples.append(items)
        return .tuple(heap.tuples.count - 1)
    }

    private mutating func appendToList(_ items: [PickleValue], _ op: PickleOpcode) throws {
        guard case let .list(i) = try top() else { throw PickleError("malformed pickle: \(op.name) to a \(try top().typeName)") }
        heap.lists[i] += items
    }

    private mutating func setItems(_ items: [PickleValue], _ op: PickleOpcode) throws {
        guard items.count % 2 == 0, case let .dict(i) = try top() else {
            throw PickleError("malformed pickle: \(op.name) on a \(try top().typeName) at offset \(position)")
        }
        for k in stride(from: 0, to: items.count, by: 2) { heap.dicts[i].append((items[k], items[k + 1])) }
    }

    private mutating func memoize(_ index: Int) throws {
        if memo[index] == nil {
            guard memo.count < Self.maxMemo else { throw PickleError("pickle memo exceeds \(Self.maxMemo) entries") }
        }
        memo[index] = try top()
    }

    // MARK: - The interpreter

    /// Runs to STOP and returns the result. `persistent` turns a persistent id (a tuple's items)
    /// into a value, which is how storages enter the program.
    mutating func run(persistent: ([PickleValue]) throws -> PickleValue) throws -> PickleValue {
        while true {
            let at = position
            let byte = try take(1).first!
            guard let op = PickleOpcode(rawValue: byte) else {
                throw PickleError(String(format: "unsupported pickle opcode 0x%02X at offset %d (not one a PyTorch checkpoint uses)", byte, at))
            }
            switch op {
            case .proto:
                let v = try uint(1)
                guard v <= 5 else { throw PickleError("unsupported pickle protocol \(v)") }
            case .frame: _ = try uint(8)
            case .stop: return try pop()
            case .mark:
                guard marks.count < Self.maxMarks else { throw PickleError("pickle nests more than \(Self.maxMarks) marks") }
                marks.append(stack.count)
            case .pop: _ = try pop()
            case .popMark: _ = try popMark()
            case .dup: try push(try top())
            case .none: try push(.none)
            case .newTrue: try push(.bool(true))
            case .newFalse: try push(.bool(false))
            case .binInt: try push(.int(Int64(Int32(truncatingIfNeeded: try uint(4)))))
            case .binInt1: try push(.int(Int64(try uint(1))))
            case .binInt2: try push(.int(Int64(try uint(2))))
            case .long1, .long4:
                let n = try length(op == .long1 ? 1 : 4)
                guard n <= Self.maxIntBytes else { throw PickleError("pickled integer of \(n) bytes is too large") }
                let raw = try take(n)
                if n > 8 { try push(.bigInt(Array(raw))); break }
                var v = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if n > 0, n < 8, raw.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }   // sign-extend
                try push(.int(Int64(bitPattern: v)))
            case .binFloat:
                try push(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case .shortBinUnicode, .shortBinString: try push(.string(String(decoding: try take(length(1)), as: UTF8.self)))
            case .binUnicode, .binString: try push(.string(String(decoding: try take(length(4)), as: UTF8.self)))
            case .binUnicode8: try push(.string(String(decoding: try take(length(8)), as: UTF8.self)))
            case .shortBinBytes: try push(.bytes(Array(try take(length(1)))))
            case .binBytes: try push(.bytes(Array(try take(length(4)))))
            case .binBytes8, .byteArray8: try push(.bytes(Array(try take(length(8)))))
            case .emptyTuple: try push(newTuple([]))
            case .tuple1: let a = try pop(); try push(newTuple([a]))
            case .tuple2: let b = try pop(), a = try pop(); try push(newTuple([a, b]))
            case .tuple3: let c = try pop(), b = try pop(), a = try pop(); try push(newTuple([a, b, c]))
            case .tuple: let items = try popMark(); try push(newTuple(items))
            case .emptyList, .emptySet:
                heap.lists.append([])
                try push(.list(heap.lists.count - 1))
            case .frozenSet:
                let items = try popMark()
                heap.lists.append(items)
                try push(.list(heap.lists.count - 1))
            case .append: let v = try pop(); try appendToList([v], op)
            case .appends, .addItems: try appendToList(try popMark(), op)
            case .emptyDict:
                heap.dicts.append([])
                try push(.dict(heap.dicts.count - 1))
            case .setItem: let v = try pop(), k = try pop(); try setItems([k, v], op)
            case .setItems: try setItems(try popMark(), op)
            case .binPut: try memoize(Int(try uint(1)))
            case .longBinPut: try memoize(Int(try uint(4)))
            case .memoize: try memoize(memo.count)
            case .binGet, .longBinGet:
                let i = Int(try uint(op == .binGet ? 1 : 4))
                guard let v = memo[i] else { throw PickleError("malformed pickle: memo entry \(i) is not defined (offset \(at))") }
                try push(v)
            case .global:
                let module = try line(), name = try line()
                try push(try global(module, name))
            case .stackGlobal:
                guard case let .string(name) = try pop(), case let .string(module) = try pop() else {
                    throw PickleError("malformed pickle: STACK_GLOBAL needs two strings (offset \(at))")
                }
                try push(try global(module, name))
            case .reduce, .newObj:
                let args = try pop(), callable = try pop()
                try push(try call(callable, args))
            case .build:
                _ = try pop()                    // object state (e.g. an OrderedDict's _metadata): not needed
                _ = try top()
            case .binPersId:
                let pid = try pop()
                guard let items = heap.items(pid) else { throw PickleError("persistent id is a \(pid.typeName), not a tuple") }
                try push(try persistent(items))
            }
        }
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        guard Self.allowedGlobals.contains(full) else {
            // The name comes from the file: keep the message one short line.
            let shown = String(full.prefix(200)).split(whereSeparator: \.isNewline).joined(separator: " ")
            if module == "torch", name.hasSuffix("Storage") {
                throw PickleError("unsupported tensor dtype '\(shown)' (readable: float64/32/16, bfloat16, int64/32/16/8, uint8, bool)")
            }
            throw PickleError("refusing pickle global '\(shown)' (only tensor rebuilds, storage types and OrderedDict are allowed)")
        }
        return .global(full)
    }

    /// What an allowed callable returns, computed from its arguments as data.
    private mutating func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(name) = callable, case .tuple = args, let a = heap.items(args) else {
            throw PickleError("malformed pickle: cannot call a \(callable.typeName) with a \(args.typeName)")
        }
        switch name {
        case "collections.OrderedDict":
            heap.dicts.append([])
            let index = heap.dicts.count - 1
            if let pairs = a.first.flatMap(heap.items) {              // OrderedDict([(k, v), …])
                for pair in pairs {
                    guard let kv = heap.items(pair), kv.count == 2 else { throw PickleError("OrderedDict item is not a pair") }
                    heap.dicts[index].append((kv[0], kv[1]))
                }
            }
            return .dict(index)
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = a.first, case .tensor = data else { throw PickleError("\(name) without a tensor") }
            return data
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard a.count >= 4, case let .storage(s) = a[0], case let .int(offset) = a[1], offset >= 0,
                  case .tuple = a[2], let size = heap.items(a[2]), case .tuple = a[3], let stride = heap.items(a[3]) else {
                throw PickleError("malformed tensor rebuild arguments (expected storage, offset, size, stride)")
            }
            func ints(_ items: [PickleValue], _ what: String) throws -> [Int] {
                try items.map { v in
                    guard case let .int(i) = v, i >= 0 else { throw PickleError("tensor \(what) holds a \(v.typeName) or a negative int, expected non-negative ints") }
                    return Int(i)
                }
            }
            let shape = try ints(size, "size"), strides = try ints(stride, "stride")
            guard shape.count == strides.count, shape.count <= 64 else {          // also keeps messages short
                throw PickleError("tensor size of rank \(shape.count) and stride of rank \(strides.count) (expected equal ranks ≤ 64)")
            }
            return .tensor(TensorRef(storage: s, offset: Int(offset), shape: shape, strides: strides))
        case "_codecs.encode":                                          // protocol 2's spelling of bytes
            guard case let .string(s)? = a.first else { throw PickleError("_codecs.encode without a string") }
            return .bytes(try s.unicodeScalars.map { c in
                guard c.value < 256 else { throw PickleError("_codecs.encode of a non-latin-1 string") }
                return UInt8(c.value)
            })
        default:
            throw PickleError("pickle global '\(name)' cannot be called")
        }
    }
}

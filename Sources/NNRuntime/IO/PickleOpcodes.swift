/// The pickle opcodes ``PickleMachine`` understands, with the names Python's `pickletools` gives
/// them, so an error can say which instruction of a damaged or hostile file it refused.
///
/// The set is what `torch.save` emits (protocol 2, both on-disk formats) plus the protocol 3–5
/// opcodes that carry only data (frames, 8-byte lengths, sets, memoize). Text-mode protocol 0/1
/// opcodes, `INST`/`OBJ`/`NEWOBJ_EX`, extension registries and out-of-band buffers are not
/// listed: a checkpoint never needs them, and every opcode left out is one less way for a file to
/// ask the reader for something it should not do.
enum PickleOpcode: UInt8 {
    // Framing and control.
    case proto = 0x80            // PROTO n (1 byte)
    case frame = 0x95            // FRAME length (8 bytes): a hint for buffering, ignored
    case stop = 0x2E             // '.'
    case mark = 0x28             // '('
    case pop = 0x30              // '0'
    case popMark = 0x31          // '1'
    case dup = 0x32              // '2'

    // Constants and numbers.
    case none = 0x4E             // 'N'
    case newTrue = 0x88
    case newFalse = 0x89
    case binInt = 0x4A           // 'J': int32
    case binInt1 = 0x4B          // 'K': uint8
    case binInt2 = 0x4D          // 'M': uint16
    case long1 = 0x8A            // two's complement, 1-byte length
    case long4 = 0x8B            // two's complement, 4-byte length
    case binFloat = 0x47         // 'G': big-endian float64

    // Strings and bytes.
    case shortBinUnicode = 0x8C  // 1-byte length, UTF-8
    case binUnicode = 0x58       // 'X': 4-byte length, UTF-8
    case binUnicode8 = 0x8D      // 8-byte length, UTF-8
    case binString = 0x54        // 'T': Python 2 str, 4-byte length
    case shortBinString = 0x55   // 'U': Python 2 str, 1-byte length
    case binBytes = 0x42         // 'B': 4-byte length
    case shortBinBytes = 0x43    // 'C': 1-byte length
    case binBytes8 = 0x8E        // 8-byte length
    case byteArray8 = 0x96       // 8-byte length

    // Containers.
    case emptyTuple = 0x29       // ')'
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case tuple = 0x74            // 't': items since the mark
    case emptyList = 0x5D        // ']'
    case append = 0x61           // 'a'
    case appends = 0x65          // 'e'
    case emptyDict = 0x7D        // '}'
    case setItem = 0x73          // 's'
    case setItems = 0x75         // 'u'
    case emptySet = 0x8F
    case addItems = 0x90
    case frozenSet = 0x91

    // Memo.
    case binPut = 0x71           // 'q': 1-byte index
    case longBinPut = 0x72       // 'r': 4-byte index
    case memoize = 0x94          // next index
    case binGet = 0x68           // 'h': 1-byte index
    case longBinGet = 0x6A       // 'j': 4-byte index

    // Objects: resolved through the allow-list, never executed.
    case global = 0x63           // 'c': "module\nname\n"
    case stackGlobal = 0x93
    case reduce = 0x52           // 'R'
    case newObj = 0x81
    case build = 0x62            // 'b'
    case binPersId = 0x51        // 'Q'

    /// `pickletools`' name, for error messages.
    var name: String {
        switch self {
        case .proto: "PROTO"; case .frame: "FRAME"; case .stop: "STOP"; case .mark: "MARK"; case .pop: "POP"
        case .popMark: "POP_MARK"; case .dup: "DUP"; case .none: "NONE"; case .newTrue: "NEWTRUE"
        case .newFalse: "NEWFALSE"; case .binInt: "BININT"; case .binInt1: "BININT1"; case .binInt2: "BININT2"
        case .long1: "LONG1"; case .long4: "LONG4"; case .binFloat: "BINFLOAT"
        case .shortBinUnicode: "SHORT_BINUNICODE"; case .binUnicode: "BINUNICODE"; case .binUnicode8: "BINUNICODE8"
        case .binString: "BINSTRING"; case .shortBinString: "SHORT_BINSTRING"; case .binBytes: "BINBYTES"
        case .shortBinBytes: "SHORT_BINBYTES"; case .binBytes8: "BINBYTES8"; case .byteArray8: "BYTEARRAY8"
        case .emptyTuple: "EMPTY_TUPLE"; case .tuple1: "TUPLE1"; case .tuple2: "TUPLE2"; case .tuple3: "TUPLE3"
        case .tuple: "TUPLE"; case .emptyList: "EMPTY_LIST"; case .append: "APPEND"; case .appends: "APPENDS"
        case .emptyDict: "EMPTY_DICT"; case .setItem: "SETITEM"; case .setItems: "SETITEMS"
        case .emptySet: "EMPTY_SET"; case .addItems: "ADDITEMS"; case .frozenSet: "FROZENSET"
        case .binPut: "BINPUT"; case .longBinPut: "LONG_BINPUT"; case .memoize: "MEMOIZE"; case .binGet: "BINGET"
        case .longBinGet: "LONG_BINGET"; case .global: "GLOBAL"; case .stackGlobal: "STACK_GLOBAL"
        case .reduce: "REDUCE"; case .newObj: "NEWOBJ"; case .build: "BUILD"; case .binPersId: "BINPERSID"
        }
    }
}

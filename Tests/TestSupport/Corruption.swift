import NNRuntime

/// Random damage for the file readers' robustness tests: flipped, inserted and overwritten bytes and
/// truncation, one to three at a time, from a seeded generator.
public enum Corruption {
    public static func mutate(_ good: [UInt8], using gen: inout SeededGenerator) -> [UInt8] {
        var bytes = good
        for _ in 0...(gen.next() % 3) {
            let i = Int(gen.next() % UInt64(bytes.count))
            switch gen.next() % 4 {
            case 0: bytes[i] ^= UInt8(truncatingIfNeeded: gen.next() | 1)
            case 1: bytes.removeLast(Int(gen.next() % UInt64(bytes.count / 2 + 1)))
            case 2: bytes.insert(UInt8(truncatingIfNeeded: gen.next()), at: i)
            default: bytes[i] = [0x00, 0xFF, 0x7F, 0x80][Int(gen.next() % 4)]
            }
            if bytes.isEmpty { bytes = [0] }
        }
        return bytes
    }
}

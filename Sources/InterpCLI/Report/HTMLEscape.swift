import Foundation

/// Escaping and number formatting shared by the report and its plots.
///
/// Everything a report shows comes from somewhere the report does not control: layer names, class
/// names, file paths, concept formulas such as `a & !b`. All of it goes through ``escape(_:)`` so
/// that it renders literally and every document stays well-formed XML (the report is valid both as
/// HTML and as XHTML, which is what lets the tests parse it with `XMLParser`).
enum ReportHTML {
    /// Escapes the five XML-special characters and replaces characters XML 1.0 forbids.
    ///
    /// The same function serves text content and attribute values (attributes are always written
    /// with double quotes, but `'` is escaped too so a caller's `raw` markup cannot be broken by it).
    /// Control characters other than tab, newline and carriage return are not allowed in XML at all,
    /// so they become U+FFFD rather than making the whole document unparseable.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A fragment identifier made from free text: lower-case ASCII letters and digits joined by `-`.
    /// Used for section anchors, where a readable URL (`report.html#outlier-neurons`) is worth more
    /// than preserving the exact title.
    static func slug(_ text: String) -> String {
        var out = ""
        var pendingDash = false
        for scalar in text.lowercased().unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                if pendingDash, !out.isEmpty { out += "-" }
                out.unicodeScalars.append(scalar)
                pendingDash = false
            } else {
                pendingDash = true
            }
        }
        return out.isEmpty ? "section" : out
    }
}

/// Compact, locale-independent number formatting.
///
/// Reports must be byte-for-byte reproducible and readable at a glance, so numbers never depend on
/// the machine's locale and never show float noise such as `0.30000000000000004`.
enum ReportNumber {
    /// Up to four significant digits, trailing zeros dropped; integers up to 10⁹ in full (counts and
    /// neuron ids read better as `50000` than as `5e4`); scientific notation for very large or very
    /// small magnitudes (`1.2e-05` → `1.2e-5`).
    static func compact(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "∞" : "−∞" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if value == value.rounded(), magnitude < 1e9 { return String(Int64(value)) }
        if magnitude >= 1e6 || magnitude < 1e-3 { return scientific(value, significant: 3) }
        let exponent = Int(floor(log10(magnitude)))
        let decimals = max(0, 3 - exponent)
        return trimZeros(String(format: "%.\(decimals)f", value))
    }

    /// Labels for axis ticks spaced `step` apart: every label gets the same number of decimals (the
    /// step's), so a column of tick labels lines up and `0.5` is never shown next to `1.00`.
    static func tick(_ value: Double, step: Double) -> String {
        let magnitude = max(abs(value), step)
        if magnitude >= 1e6 || step < 1e-4 { return scientific(value, significant: 3) }
        let decimals = max(0, -Int(floor(log10(step) + 1e-9)))
        let text = String(format: "%.\(decimals)f", value)
        return isNegativeZero(text) ? String(text.dropFirst()) : text
    }

    /// `d.ddde±x` with the mantissa's trailing zeros and the exponent's padding removed.
    static func scientific(_ value: Double, significant: Int) -> String {
        let text = String(format: "%.\(max(0, significant - 1))e", value)
        guard let e = text.firstIndex(of: "e") else { return text }
        let mantissa = trimZeros(String(text[..<e]))
        var exponent = String(text[text.index(after: e)...])
        let negative = exponent.hasPrefix("-")
        exponent = String(exponent.drop(while: { $0 == "+" || $0 == "-" || $0 == "0" }))
        if exponent.isEmpty { return mantissa }
        return mantissa + "e" + (negative ? "-" : "") + exponent
    }

    private static func trimZeros(_ text: String) -> String {
        guard text.contains(".") else { return isNegativeZero(text) ? "0" : text }
        var t = Substring(text)
        while t.hasSuffix("0") { t = t.dropLast() }
        if t.hasSuffix(".") { t = t.dropLast() }
        return isNegativeZero(String(t)) ? String(t.dropFirst()) : String(t)
    }

    private static func isNegativeZero(_ text: String) -> Bool {
        text.hasPrefix("-") && text.dropFirst().allSatisfy { $0 == "0" || $0 == "." }
    }

    /// Pixel coordinates in SVG: two decimals at most, so files stay small and identical across runs.
    static func px(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int64(rounded)) }
        return trimZeros(String(format: "%.2f", rounded))
    }
}

/// A short, stable identifier for a plot, derived from its content.
///
/// Element ids inside an SVG (hover images, clip paths) must be unique within the report, yet a
/// global counter would make the same plot come out differently depending on what was drawn
/// before it. Hashing the plot's inputs (FNV-1a, 64 bits) gives ids that are unique in practice
/// and identical on every run.
struct ReportHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { addByte(byte) }
        addByte(0x1F)
    }

    mutating func add(_ value: Double) { add(value.bitPattern) }

    mutating func add(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { addByte(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func add(_ data: Data) {
        for byte in data { addByte(byte) }
        addByte(0x1F)
    }

    private mutating func addByte(_ byte: UInt8) {
        state ^= UInt64(byte)
        state = state &* 0x0000_0100_0000_01B3
    }

    /// Eight hex digits, prefixed by a letter so the result is a valid XML id.
    var id: String {
        let folded = UInt32(truncatingIfNeeded: state ^ (state >> 32))
        let hex = String(folded, radix: 16)
        return "p" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}

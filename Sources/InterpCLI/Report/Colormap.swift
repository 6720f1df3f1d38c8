import Foundation

/// An sRGB colour with 8-bit channels, as written into SVG `fill` attributes.
struct ReportRGB: Equatable, Sendable {
    var r: UInt8, g: UInt8, b: UInt8

    /// `#rrggbb`, lower-case, the form every browser and the tests compare.
    var hex: String {
        func two(_ v: UInt8) -> String { v < 16 ? "0" + String(v, radix: 16) : String(v, radix: 16) }
        return "#" + two(r) + two(g) + two(b)
    }
}

/// The sequential colour map used for heatmaps and colour bars.
///
/// Heatmaps of distance matrices are read by comparing lightness, so the map must be perceptually
/// ordered: lightness rises linearly from dark violet to light yellow, with the hue turning through
/// blue and teal on the way (the same design goals as matplotlib's viridis, which stays legible in
/// grey-scale print and for the common forms of colour blindness). Rather than embedding a table of
/// someone else's colours, the map is *computed*: a path through OKLab (Ottosson 2020, a
/// perceptual colour space whose L axis is perceived lightness) with linear lightness, a hue angle
/// rotating from 315° to 96° and a chroma that dips in the middle; colours outside the sRGB gamut
/// are pulled towards grey at constant lightness and hue, so lightness stays monotonic.
enum ReportColormap {
    /// Cells whose value is NaN: a neutral light grey that no point of the map comes close to.
    static let missing = ReportRGB(r: 0xdd, g: 0xdd, b: 0xdd)

    /// 256 precomputed entries; `color(_:)` picks the nearest, which is finer than 8-bit output
    /// can distinguish anyway.
    static let table: [ReportRGB] = (0..<256).map { sample(Double($0) / 255) }

    /// The colour at `t` ∈ [0, 1] (values outside are clamped; NaN gives ``missing``).
    static func color(_ t: Double) -> ReportRGB {
        guard t.isFinite else { return missing }
        let clamped = min(max(t, 0), 1)
        return table[Int((clamped * 255).rounded())]
    }

    /// `color(t).hex`.
    static func hex(_ t: Double) -> String { color(t).hex }

    /// OKLab lightness of the map at `t`; exposed so tests can check it rises monotonically.
    static func lightness(_ t: Double) -> Double { 0.28 + 0.64 * t }

    /// One point of the path through OKLCh, converted to sRGB.
    static func sample(_ t: Double) -> ReportRGB {
        let l = lightness(t)
        let hue = (315 - 219 * t) * Double.pi / 180
        var chroma = 0.14 + 0.04 * t - 0.07 * sin(Double.pi * t)
        // Reduce chroma until the colour fits in sRGB: bisection keeps lightness and hue exact.
        if linearSRGB(l, chroma * cos(hue), chroma * sin(hue)) == nil {
            var lo = 0.0, hi = chroma
            for _ in 0..<30 {
                let mid = (lo + hi) / 2
                if linearSRGB(l, mid * cos(hue), mid * sin(hue)) == nil { hi = mid } else { lo = mid }
            }
            chroma = lo
        }
        let linear = linearSRGB(l, chroma * cos(hue), chroma * sin(hue)) ?? (l, l, l)
        return ReportRGB(r: encode(linear.0), g: encode(linear.1), b: encode(linear.2))
    }

    /// OKLab → linear sRGB (Ottosson's published matrices); `nil` when outside the gamut.
    private static func linearSRGB(_ L: Double, _ a: Double, _ b: Double) -> (Double, Double, Double)? {
        let l = pow(L + 0.3963377774 * a + 0.2158037573 * b, 3)
        let m = pow(L - 0.1055613458 * a - 0.0638541728 * b, 3)
        let s = pow(L - 0.0894841775 * a - 1.2914855480 * b, 3)
        let red = 4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s
        let green = -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s
        let blue = -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s
        let eps = 1e-9
        guard (-eps...1 + eps).contains(red), (-eps...1 + eps).contains(green), (-eps...1 + eps).contains(blue) else {
            return nil
        }
        return (red, green, blue)
    }

    /// Linear light → 8-bit sRGB with the standard transfer curve.
    private static func encode(_ c: Double) -> UInt8 {
        let v = min(max(c, 0), 1)
        let s = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055
        return UInt8((s * 255).rounded())
    }
}

/// Categorical colours for groups and series: mid-lightness, distinguishable, and legible on white.
/// The second entry is the warm red that outliers and highlighted items use throughout a report.
enum ReportPalette {
    static let categorical = ["#3b6fb6", "#d1495b", "#2f9e68", "#e8871e", "#8e6bbf", "#1f9aa8", "#8c6d46", "#c2559c"]
    /// Outliers and highlighted bars.
    static let highlight = "#d1495b"
    /// Ordinary bars and the non-highlighted group when there is a highlighted one.
    static let muted = "#8aa4c8"
    static let axis = "#444"
    static let grid = "#e6e6e6"
    static let text = "#222"
    static let faint = "#777"

    static func color(_ index: Int) -> String { categorical[index % categorical.count] }
}

/// A seeded, splittable pseudo-random generator (SplitMix64), so that every random choice in interp
/// is reproducible from a seed, on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A standard normal sample (Box–Muller on two uniforms).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * _log(max(u1, .leastNonzeroMagnitude))).squareRoot()
        return Float(r * _cos(2 * Double.pi * u2))
    }

    /// An independent generator derived from this one (for per-sample or per-thread streams).
    public mutating func split() -> SeededGenerator { SeededGenerator(seed: next()) }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

import Foundation

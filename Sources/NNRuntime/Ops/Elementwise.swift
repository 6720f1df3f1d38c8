import Foundation

/// Arithmetic with broadcasting and the pointwise math functions, each with its VJP.

// MARK: - Binary ops

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, op: "add", +)
        return recordOp(.add, inputs: [a, b], output: out) { g in
            [unbroadcast(g, to: a.shape), unbroadcast(g, to: b.shape)]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, op: "sub", -)
        return recordOp(.sub, inputs: [a, b], output: out) { g in
            [unbroadcast(g, to: a.shape), unbroadcast(-g, to: b.shape)]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, op: "mul", *)
        return recordOp(.mul, inputs: [a, b], output: out) { g in
            [unbroadcast(g * b.detached(), to: a.shape), unbroadcast(g * a.detached(), to: b.shape)]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, op: "div", /)
        return recordOp(.div, inputs: [a, b], output: out) { g in
            let bd = b.detached()
            return [unbroadcast(g / bd, to: a.shape), unbroadcast(-g * out.detached() / bd, to: b.shape)]
        }
    }

    /// Elementwise maximum; at ties the gradient is split equally, as PyTorch does.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, op: "maximum") { Swift.max($0, $1) }
        return recordOp(.maximum, inputs: [a, b], output: out) { g in
            let wa = broadcastMap(a.detached(), b.detached(), op: "maximum") { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
            return [unbroadcast(g * wa, to: a.shape), unbroadcast(g * (1 - wa), to: b.shape)]
        }
    }

    /// Elementwise minimum; at ties the gradient is split equally.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        -maximum(-a, -b)
    }

    // Scalars are constants: they are not recorded as inputs.
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(repeating: s, shape: []) / a }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0, op: .neg) }

    /// `scale · x + shift` in one pass.
    func affine(scale: Float, shift: Float, op: OpKind = .mul) -> Tensor {
        let out = mapParallel(Affine(scale: scale, shift: shift))
        return recordOp(op, inputs: [self], output: out) { g in [g.mapParallel(Affine(scale: scale, shift: 0))] }
    }
}

// MARK: - Unary math

extension Tensor {
    /// Applies `f` to every element (no gradient; ops build on it).
    @inline(__always)
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out in
            withUnsafeBufferPointer { p in for i in 0..<out.count { out[i] = f(p[i]) } }
        }
    }

    /// ``map(_:)`` for the runtime's own pure kernels: large tensors are split across the cores. The
    /// kernel is a type, not a closure, so each loop is specialised and vectorised.
    @inline(__always)
    func mapParallel<K: UnaryKernel>(_ kernel: K) -> Tensor {
        Tensor(shape: shape) { out in
            withUnsafeBufferPointer { p in
                guard let src = p.baseAddress, let dst = out.baseAddress else { return }
                elementwiseChunks(out.count) { range in for i in range { dst[i] = kernel(src[i]) } }
            }
        }
    }

    /// The elementwise kernel of two same-shaped tensors, split across the cores like ``mapParallel(_:)``.
    @inline(__always)
    func zipParallel<K: BinaryKernel>(_ other: Tensor, _ kernel: K) -> Tensor {
        precondition(shape == other.shape, "zipParallel: shapes \(shape) and \(other.shape) differ")
        return Tensor(shape: shape) { out in
            withUnsafeBufferPointer { pa in other.withUnsafeBufferPointer { pb in
                guard let a = pa.baseAddress, let b = pb.baseAddress, let dst = out.baseAddress else { return }
                elementwiseChunks(out.count) { range in for i in range { dst[i] = kernel(a[i], b[i]) } }
            } }
        }
    }

    /// Combines two same-shaped tensors elementwise (no gradient; VJPs build on it).
    @inline(__always)
    func zipMap(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "zipMap: shapes \(shape) and \(other.shape) differ")
        return broadcastMap(self, other, op: "zipMap", f)
    }

    public func exp() -> Tensor {
        let out = map { Foundation.exp($0) }
        return recordOp(.exp, inputs: [self], output: out) { g in [g * out.detached()] }
    }

    public func log() -> Tensor {
        let out = map { Foundation.log($0) }
        return recordOp(.log, inputs: [self], output: out) { g in [g / self.detached()] }
    }

    public func sqrt() -> Tensor {
        let out = map { $0.squareRoot() }
        return recordOp(.sqrt, inputs: [self], output: out) { g in
            [g.zipMap(out) { gv, y in gv * 0.5 / y }]
        }
    }

    public func squared() -> Tensor {
        let out = map { $0 * $0 }
        return recordOp(.square, inputs: [self], output: out) { g in
            [g.zipMap(self) { gv, x in 2 * x * gv }]
        }
    }

    /// `x^p` for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        let out = map { Foundation.pow($0, p) }
        return recordOp(.pow, inputs: [self], output: out) { g in
            [g.zipMap(self) { gv, x in gv * p * Foundation.pow(x, p - 1) }]
        }
    }

    /// |x|; the gradient at 0 is 0 (PyTorch's `sign`).
    public func abs() -> Tensor {
        let out = map { Swift.abs($0) }
        return recordOp(.abs, inputs: [self], output: out) { g in
            [g.zipMap(self) { gv, x in x > 0 ? gv : (x < 0 ? -gv : 0) }]
        }
    }

    /// Values limited to `[min, max]`; the gradient passes where `min ≤ x ≤ max` (PyTorch `clamp`).
    public func clamped(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        let out = map { Swift.min(Swift.max($0, lo), hi) }
        return recordOp(.clamp, inputs: [self], output: out) { g in
            [g.zipMap(self) { gv, x in x >= lo && x <= hi ? gv : 0 }]
        }
    }

    /// 1 where `x > value`, else 0 (not differentiable).
    public func greaterMask(than value: Float) -> Tensor { map { $0 > value ? 1 : 0 } }
    /// 1 where `x < value`, else 0 (not differentiable).
    public func lessMask(than value: Float) -> Tensor { map { $0 < value ? 1 : 0 } }
}

/// A pure function of one element, applied by ``Tensor/mapParallel(_:)``.
protocol UnaryKernel { func callAsFunction(_ x: Float) -> Float }
/// A pure function of two elements, applied by ``Tensor/zipParallel(_:_:)``.
protocol BinaryKernel { func callAsFunction(_ a: Float, _ b: Float) -> Float }

/// `scale · x + shift`.
struct Affine: UnaryKernel {
    let scale, shift: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { scale * x + shift }
}

/// Runs `body` over `0..<count` in one piece, or for large counts (memory-bound loops that one core
/// cannot saturate) in one contiguous range per core.
@inline(__always)
func elementwiseChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    guard count >= 1 << 16 else { body(0..<count); return }
    Parallel.forEachRange(count) { range, _ in body(range) }
}

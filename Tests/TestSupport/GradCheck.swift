import NNRuntime

/// Central finite-difference gradient checking (ggml's `MODE_GRAD`, tinygrad's `helper_test_op`).
///
/// The check projects the op's output on a fixed random direction `r` so that one scalar
/// `L(x) = Σ f(x) · r` exercises every output element, then compares the tape's `∂L/∂x` with
/// `(L(x + h·e_i) − L(x − h·e_i)) / 2h` for every element `i` of every input.
public enum GradCheck {
    /// The largest discrepancy found, relative to the gradient's magnitude.
    public struct Report: CustomStringConvertible {
        public var maxAbsError: Float = 0
        public var maxRelativeError: Float = 0
        public var worst: String = ""
        public var checked = 0
        public var description: String {
            "checked \(checked) elements, max abs error \(maxAbsError), max relative error \(maxRelativeError) at \(worst)"
        }
    }

    /// Checks `f` with respect to each of `inputs` (and, optionally, the trainable parameters of
    /// `module`). Returns the worst error; tests assert it is below their tolerance.
    ///
    /// - Parameters:
    ///   - step: the finite-difference step `h` (Float32 needs ~1e-2 to 1e-3).
    ///   - skip: elements whose value lies within `kinkMargin` of a non-differentiable point
    ///     (`kinks`, e.g. 0 for ReLU) are skipped, as ggml does for ReLU.
    public static func check(_ inputs: [Tensor], module: Module? = nil, step: Float = 1e-2,
                             kinks: [Float] = [], kinkMargin: Float = 2e-2, seed: UInt64 = 7,
                             _ f: ([Tensor]) -> Tensor) -> Report {
        // Analytic gradients.
        let probe = withoutGradients { f(inputs) }
        var gen = SeededGenerator(seed: seed)
        let r = Tensor.uniform(probe.shape, low: -1, high: 1, using: &gen)
        let tape = GradientTape()
        let watched = inputs.map { tape.watch($0) }
        if let module { tape.watch(module) }
        let loss = tape.record { (f(watched) * r).sum() }
        let grads = tape.gradient(of: loss)

        func lossValue(_ xs: [Tensor]) -> Double {
            withoutGradients {
                let y = f(xs)
                var s = 0.0
                y.withUnsafeBufferPointer { py in r.withUnsafeBufferPointer { pr in
                    for i in 0..<py.count { s += Double(py[i]) * Double(pr[i]) }
                } }
                return s
            }
        }

        var report = Report()
        func compare(_ analytic: Tensor, _ name: String, perturb: (Int, Float) -> Double, value: (Int) -> Float) {
            let a = analytic.scalars
            let scale = max(a.map { Swift.abs($0) }.max() ?? 0, 1e-2)
            for i in 0..<a.count {
                let v = value(i)
                if kinks.contains(where: { Swift.abs(v - $0) < kinkMargin }) { continue }
                let numeric = Float((perturb(i, step) - perturb(i, -step)) / Double(2 * step))
                let err = Swift.abs(numeric - a[i])
                report.checked += 1
                if err / scale > report.maxRelativeError {
                    report.maxRelativeError = err / scale
                    report.worst = "\(name)[\(i)] analytic \(a[i]) numeric \(numeric)"
                }
                report.maxAbsError = max(report.maxAbsError, err)
            }
        }

        for (k, x) in inputs.enumerated() {
            guard let g = grads[watched[k]] else { continue }
            compare(g, "input\(k)", perturb: { i, h in
                var xs = inputs
                xs[k].withUnsafeMutableBufferPointer { $0[i] += h }
                return lossValue(xs)
            }, value: { x.scalars[$0] })
        }
        if let module {
            for (path, p) in module.namedParameters() where p.requiresGradient {
                guard let g = grads[p] else { continue }
                let original = p.value
                compare(g, path, perturb: { i, h in
                    var v = original
                    v.withUnsafeMutableBufferPointer { $0[i] += h }
                    p.value = v
                    defer { p.value = original }
                    return lossValue(inputs)
                }, value: { original.scalars[$0] })
            }
        }
        return report
    }
}

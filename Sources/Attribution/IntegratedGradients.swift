import Foundation
import NNRuntime

/// Integrated Gradients (Sundararajan, Taly, Yan, ICML 2017, "Axiomatic Attribution for Deep
/// Networks"): the path integral of the gradient along the straight line from a baseline x₀ to x,
///
///     IG(x) = (x − x₀) ⊙ ∫₀¹ ∂y_c/∂x (x₀ + α(x − x₀)) dα ≈ (x − x₀) ⊙ Σₖ wₖ ∂y_c/∂x (x₀ + αₖ(x − x₀)),
///
/// whose attributions sum to y_c(x) − y_c(x₀) as the quadrature converges ("completeness"). The
/// nodes αₖ and weights wₖ follow captum's `approximation_methods` so maps agree with
/// `IntegratedGradients.attribute(method=…)`.
extension Attributor {
    /// The quadrature nodes αₖ ∈ [0, 1] (ascending) and weights wₖ of `integration` with `steps` points.
    public static func quadrature(_ integration: Integration, steps: Int) -> (alphas: [Double], weights: [Double]) {
        switch integration {
        case .riemannTrapezoid:
            // captum: α = linspace(0, 1, m), every step 1/m with the two end steps halved.
            let alphas = (0..<steps).map { steps > 1 ? Double($0) / Double(steps - 1) : 0 }
            var weights = [Double](repeating: 1 / Double(steps), count: steps)
            weights[0] /= 2
            weights[steps - 1] /= 2
            return (alphas, weights)
        case .gaussLegendre:
            let (nodes, weights) = gaussLegendre(steps)
            return (nodes.map { 0.5 * (1 + $0) }, weights.map { 0.5 * $0 })
        }
    }

    /// Gauss–Legendre nodes (ascending, on [−1, 1]) and weights of order `n`: the roots of the
    /// Legendre polynomial Pₙ by Newton's method from Tricomi's initial guesses, and
    /// wᵢ = 2 / ((1 − xᵢ²) Pₙ'(xᵢ)²) — what numpy's `leggauss` returns, to double precision.
    static func gaussLegendre(_ n: Int) -> (nodes: [Double], weights: [Double]) {
        var nodes = [Double](repeating: 0, count: n), weights = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var z = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = 0.0
                for j in 1...n {   // three-term recurrence: j Pⱼ = (2j − 1) z Pⱼ₋₁ − (j − 1) Pⱼ₋₂
                    let p2 = p1
                    p1 = p0
                    p0 = ((2 * Double(j) - 1) * z * p1 - (Double(j) - 1) * p2) / Double(j)
                }
                derivative = Double(n) * (z * p0 - p1) / (z * z - 1)
                let step = p0 / derivative
                z -= step
                if Swift.abs(step) < 1e-16 { break }
            }
            nodes[n - 1 - i] = z
            weights[n - 1 - i] = 2 / ((1 - z * z) * derivative * derivative)
        }
        return (nodes, weights)
    }

    /// The baseline as a tensor of `x`'s shape.
    func baselineTensor(for x: Tensor) throws -> Tensor {
        switch options.baseline {
        case .zeros: return Tensor.zeros(x.shape)
        case .black:
            guard let input else { throw AttributionError("integrated-gradients: the black baseline needs the model's input normalisation") }
            guard input.channels == x.shape[1] else {
                throw AttributionError("integrated-gradients: the model's normalisation has \(input.channels) channels, the input \(x.shape[1])")
            }
            return input.normalize(Tensor.zeros(x.shape))
        case .tensor(let t):
            if t.shape == x.shape { return t.detached() }
            guard t.rank == 4, t.shape[0] == 1, Array(t.shape.dropFirst()) == Array(x.shape.dropFirst()) else {
                throw AttributionError("integrated-gradients: baseline of shape \(t.shape) fits neither the input \(x.shape) nor one image [1, \(x.shape.dropFirst().map(String.init).joined(separator: ", "))]")
            }
            return t.detached().broadcast(to: x.shape)
        }
    }

    /// IG of every image of `x` against `baseline` (same shape). The m·N points on the paths are
    /// laid out step-major (all images at α₁, then at α₂, …, as captum expands them) and
    /// differentiated in chunks of ``chunkSize(for:)`` points; each chunk's gradients are added,
    /// weighted, into one running sum per image, so memory does not grow with the step count.
    func integratedGradients(_ x: Tensor, targets: [Int], baseline: Tensor) throws -> Tensor {
        let (alphas, weights) = Self.quadrature(options.integration, steps: options.steps)
        let n = x.shape[0], per = x.count / n
        let difference = x - baseline
        let points = alphas.count * n
        var total = Tensor.zeros(x.shape)
        for (start, end) in chunks(points, chunkSize(for: x)) {
            let batch = Tensor(shape: [end - start] + Array(x.shape.dropFirst())) { out in
                baseline.withUnsafeBufferPointer { b in
                    difference.withUnsafeBufferPointer { d in
                        for p in start..<end {
                            let (i, alpha) = (p % n, Float(alphas[p / n]))
                            let o = out.baseAddress! + (p - start) * per, bi = b.baseAddress! + i * per, di = d.baseAddress! + i * per
                            for j in 0..<per { o[j] = bi[j] + alpha * di[j] }
                        }
                    }
                }
            }
            let g = try targetGradient(batch, targets: (start..<end).map { targets[$0 % n] }).input
            total.withUnsafeMutableBufferPointer { t in
                g.withUnsafeBufferPointer { gp in
                    for p in start..<end {
                        let (i, w) = (p % n, Float(weights[p / n]))
                        let ti = t.baseAddress! + i * per, gi = gp.baseAddress! + (p - start) * per
                        for j in 0..<per { ti[j] += w * gi[j] }
                    }
                }
            }
        }
        return total * difference
    }
}

/// Optimisers with PyTorch's update rules, so a training step here equals `torch.optim`'s: SGD
/// (momentum, dampening, Nesterov, weight decay), Adam and AdamW (decoupled weight decay).
///
/// Each optimiser owns per-parameter state keyed by the parameter object and updates
/// `Parameter.value` in place from a ``ParameterGradients``.

public protocol Optimizer: AnyObject {
    /// The learning rate of the next step (schedules set it before each step).
    var learningRate: Float { get set }
    /// Applies one update to every parameter that has a gradient.
    func step(_ gradients: ParameterGradients)
    /// Per-parameter state by parameter path, for checkpoints.
    func stateDict(paths: [(String, Parameter)]) -> [String: Tensor]
    func loadStateDict(_ state: [String: Tensor], paths: [(String, Parameter)]) throws
}

/// Elementwise update over a parameter's values and its state buffers.
@inline(__always)
func update(_ p: Parameter, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
    var v = p.value
    v.withUnsafeMutableBufferPointer(body)
    p.value = v
}

/// Stochastic gradient descent as `torch.optim.SGD`:
/// `g ← g + λθ; b ← μb + (1 − τ)g (b = g at the first step); g ← g + μb (Nesterov) or b; θ ← θ − ηg`.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    private var buffers: [ObjectIdentifier: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum and no dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step(_ gradients: ParameterGradients) {
        for (p, g) in gradients.pairs {
            let key = ObjectIdentifier(p)
            var grad = g.copied()
            let (lr, mu, tau, wd, nest) = (learningRate, momentum, dampening, weightDecay, nesterov)
            p.value.withUnsafeBufferPointer { theta in
                grad.withUnsafeMutableBufferPointer { gb in
                    if wd != 0 { for i in gb.indices { gb[i] += wd * theta[i] } }
                }
            }
            if mu != 0 {
                var buf = buffers[key] ?? grad.copied()
                let first = buffers[key] == nil
                buf.withUnsafeMutableBufferPointer { b in
                    grad.withUnsafeMutableBufferPointer { gb in
                        for i in gb.indices {
                            if !first { b[i] = mu * b[i] + (1 - tau) * gb[i] }
                            gb[i] = nest ? gb[i] + mu * b[i] : b[i]
                        }
                    }
                }
                buffers[key] = buf
            }
            grad.withUnsafeBufferPointer { gb in update(p) { v in for i in v.indices { v[i] -= lr * gb[i] } } }
        }
    }

    public func stateDict(paths: [(String, Parameter)]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (path, p) in paths { if let b = buffers[ObjectIdentifier(p)] { out["\(path).momentum_buffer"] = b } }
        return out
    }

    public func loadStateDict(_ state: [String: Tensor], paths: [(String, Parameter)]) throws {
        for (path, p) in paths { if let b = state["\(path).momentum_buffer"] { buffers[ObjectIdentifier(p)] = b } }
    }
}

/// Adam (Kingma & Ba, 2015) as `torch.optim.Adam`, or AdamW (Loshchilov & Hutter, 2019) with
/// decoupled weight decay (`θ ← θ(1 − ηλ)` before the Adam step) when `decoupledWeightDecay`.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupledWeightDecay: Bool
    private var m: [ObjectIdentifier: Tensor] = [:], v: [ObjectIdentifier: Tensor] = [:]
    private var steps: [ObjectIdentifier: Int] = [:]

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step(_ gradients: ParameterGradients) {
        for (p, g) in gradients.pairs {
            let key = ObjectIdentifier(p)
            let t = (steps[key] ?? 0) + 1
            steps[key] = t
            var mt = m[key] ?? .zeros(p.value.shape), vt = v[key] ?? .zeros(p.value.shape)
            let (lr, b1, b2, eps, wd, decoupled) = (learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay)
            // PyTorch's arithmetic: step size lr / (1 − β₁ᵗ), denominator √v / √(1 − β₂ᵗ) + ε.
            let bias1 = 1 - pow(b1, Float(t)), bias2Sqrt = (1 - pow(b2, Float(t))).squareRoot()
            g.withUnsafeBufferPointer { gb in
                mt.withUnsafeMutableBufferPointer { mb in vt.withUnsafeMutableBufferPointer { vb in
                    update(p) { theta in
                        for i in theta.indices {
                            var grad = gb[i]
                            if decoupled { theta[i] *= 1 - lr * wd } else if wd != 0 { grad += wd * theta[i] }
                            mb[i] = b1 * mb[i] + (1 - b1) * grad
                            vb[i] = b2 * vb[i] + (1 - b2) * grad * grad
                            let denom = vb[i].squareRoot() / bias2Sqrt + eps
                            theta[i] -= (lr / bias1) * mb[i] / denom
                        }
                    }
                } }
            }
            m[key] = mt
            v[key] = vt
        }
    }

    public func stateDict(paths: [(String, Parameter)]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (path, p) in paths {
            let key = ObjectIdentifier(p)
            guard let mt = m[key], let vt = v[key], let t = steps[key] else { continue }
            out["\(path).exp_avg"] = mt
            out["\(path).exp_avg_sq"] = vt
            out["\(path).step"] = Tensor(Float(t))
        }
        return out
    }

    public func loadStateDict(_ state: [String: Tensor], paths: [(String, Parameter)]) throws {
        for (path, p) in paths {
            let key = ObjectIdentifier(p)
            guard let mt = state["\(path).exp_avg"], let vt = state["\(path).exp_avg_sq"], let t = state["\(path).step"] else { continue }
            guard mt.shape == p.value.shape, vt.shape == p.value.shape else {
                throw ModelError("optimiser state for \(path) has shape \(mt.shape), expected \(p.value.shape)")
            }
            (m[key], v[key], steps[key]) = (mt, vt, Int(t.scalar))
        }
    }
}

import Foundation

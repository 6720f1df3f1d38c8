import Foundation
import NNRuntime

/// The deterministic weights the reference scripts set in PyTorch (`deterministic_` in
/// Tests/Reference/*.py), so large models can be compared without committing their weights:
/// state-dict entry `k`, element `i` = 0.05·sin(0.37·((7i + 13k) mod 1009)); running variances
/// 1 + 10·|…|; `num_batches_tracked` unchanged.
public enum DeterministicWeights {
    public static func state(for module: Module) -> [String: Tensor] {
        let table = (0..<1009).map { Float(0.05 * sin(0.37 * Double($0))) }
        var out: [String: Tensor] = [:]
        for (k, (name, p)) in module.namedParameters().enumerated() {
            if name.hasSuffix("num_batches_tracked") { out[name] = p.value; continue }
            let isVar = name.hasSuffix("running_var")
            out[name] = Tensor(shape: p.value.shape) { buf in
                for i in 0..<buf.count {
                    let v = table[(7 * (i % 1009) + 13 * k) % 1009]
                    buf[i] = isVar ? 1 + Swift.abs(v) * 10 : v
                }
            }
        }
        return out
    }

    /// The scripts' `lively_`: BatchNorm scales 1 + 10v, conv and linear weights 20v·√(2/fan-in),
    /// so that deep networks' gradients are not of order 1e-12.
    public static func lively(_ state: [String: Tensor]) -> [String: Tensor] {
        state.reduce(into: [:]) { out, entry in
            let (name, t) = entry
            guard name.hasSuffix(".weight") else { out[name] = t; return }
            out[name] = t.rank == 1 ? t.map { $0 * 10 + 1 } : t.map { $0 * (20 * Float(2 / Double(t.count / t.shape[0])).squareRoot()) }
        }
    }
}

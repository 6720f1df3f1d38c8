/// Classification losses. `crossEntropy` is `nllLoss ∘ logSoftmax` with PyTorch's label smoothing,
/// so its gradient comes from those two VJPs.

/// Mean negative log-likelihood of `labels` under `logProbs` (`[N, C]` log-probabilities).
public func nllLoss(_ logProbs: Tensor, labels: [Int]) -> Tensor {
    precondition(logProbs.rank == 2, "nllLoss: expected [N, C] log-probabilities, got \(logProbs.shape)")
    let (n, c) = (logProbs.shape[0], logProbs.shape[1])
    precondition(labels.count == n, "nllLoss: \(labels.count) labels for a batch of \(n)")
    for l in labels { precondition(l >= 0 && l < c, "nllLoss: label \(l) is outside 0..<\(c)") }
    var total: Float = 0
    logProbs.withUnsafeBufferPointer { p in for i in 0..<n { total -= p[i * c + labels[i]] } }
    let out = Tensor(total / Float(Swift.max(n, 1)))
    return recordOp(.nllLoss, inputs: [logProbs], output: out) { g in
        let scale = -g.scalar / Float(Swift.max(n, 1))
        return [Tensor(shape: [n, c]) { dst in
            dst.initialize(repeating: 0)
            for i in 0..<n { dst[i * c + labels[i]] = scale }
        }]
    }
}

/// Mean cross-entropy of `labels` given unnormalised `logits` `[N, C]` (PyTorch `F.cross_entropy`).
///
/// With `labelSmoothing` ε the target is `(1 − ε)·onehot + ε/C`, so the loss is
/// `(1 − ε)·NLL + ε·mean_c(−log p_c)`, as PyTorch computes it.
public func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Float = 0) -> Tensor {
    precondition((0...1).contains(labelSmoothing), "crossEntropy: labelSmoothing \(labelSmoothing) is outside [0, 1]")
    let logProbs = logSoftmax(logits, axis: 1)
    let nll = nllLoss(logProbs, labels: labels)
    guard labelSmoothing > 0 else { return nll }
    let uniform = -logProbs.mean(axes: [1]).mean()
    return nll * (1 - labelSmoothing) + uniform * labelSmoothing
}

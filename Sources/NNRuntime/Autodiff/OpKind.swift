/// Every primitive differentiable op, as recorded on the tape. Backward rules, traces and error
/// messages name ops by these values. Composite ops (`mean`, `variance`, `crossEntropy`, `minimum`)
/// record the primitives they are built from.
public enum OpKind: String, Sendable, CaseIterable {
    case leaf
    // Elementwise
    case add, sub, mul, div, neg, exp, log, sqrt, pow, abs, maximum, clamp, square
    // Activations
    case relu, relu6, leakyReLU, sigmoid, tanh, softmax, logSoftmax
    // Reductions
    case sum, max
    // Shape
    case reshape, permute, slice, concat, pad, broadcast, indexSelect
    // Linear algebra and convolution
    case matmul, linear, conv2d
    // Pooling and resizing
    case maxPool2d, avgPool2d, adaptiveAvgPool2d, resizeBilinear, affineWarp
    // Spectral
    case irfft2
    // Normalisation, regularisation, losses
    case batchNorm, dropout, nllLoss
    /// An op defined outside NNRuntime (its pullback supplied by the caller).
    case custom
}

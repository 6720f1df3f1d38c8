/// How a 2-D convolution or pooling window is padded.
public enum Padding2d: Equatable, Sendable {
    /// Explicit zero padding per side (PyTorch pads symmetrically; `F.pad` can do asymmetric).
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
    /// TensorFlow "SAME": output size `ceil(input / stride)`, total padding
    /// `max((out − 1)·stride + (k − 1)·dilation + 1 − input, 0)` split with the extra pixel at the
    /// bottom/right (EfficientNet-Lite's convolutions).
    case same

    /// No padding (TensorFlow "VALID").
    public static let zero = Padding2d.explicit(top: 0, bottom: 0, left: 0, right: 0)

    /// The same padding on both sides of each axis (PyTorch's `padding=(h, w)`).
    public static func symmetric(_ h: Int, _ w: Int) -> Padding2d { .explicit(top: h, bottom: h, left: w, right: w) }

    /// Resolves to `(top, bottom, left, right)` for a given input size, kernel, stride and dilation.
    public func resolve(inputHeight: Int, inputWidth: Int, kernel: (Int, Int), stride: (Int, Int),
                        dilation: (Int, Int)) -> (top: Int, bottom: Int, left: Int, right: Int) {
        switch self {
        case let .explicit(t, b, l, r):
            return (t, b, l, r)
        case .same:
            func split(_ size: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let out = (size + s - 1) / s
                let total = Swift.max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                return (total / 2, total - total / 2)
            }
            let (t, b) = split(inputHeight, kernel.0, stride.0, dilation.0)
            let (l, r) = split(inputWidth, kernel.1, stride.1, dilation.1)
            return (t, b, l, r)
        }
    }
}

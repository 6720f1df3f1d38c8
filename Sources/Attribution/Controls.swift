import NNRuntime

/// The ROAR paper's two model-free controls (Hooker et al., NeurIPS 2019, §4): a method must beat
/// a random ranking of the input features to be informative, and an edge detector shows how far a
/// ranking that ignores the model gets.
extension Attributor {
    /// I.i.d. uniform scores in [0, 1) of `x`'s shape, from ``AttributionOptions/seed``: the same
    /// seed gives the same scores.
    func randomScores(like x: Tensor) -> Tensor {
        var generator = SeededGenerator(seed: options.seed)
        return Tensor.uniform(x.shape, using: &generator)
    }

    /// The Sobel derivative along the height axis, per channel of the (normalised) image: the
    /// correlation with [−1, 0, 1] down the rows and [1, 2, 1] across the columns, with borders
    /// mirrored (edge sample repeated). This is `scipy.ndimage.sobel(image, axis=0)` of the
    /// google-research ROAR code, except that scipy also smooths across the colour axis of its
    /// H×W×3 array; here the channels stay separate (METHODS.md §4.4: axis = height, per channel).
    func sobel(_ x: Tensor) -> Tensor {
        Self.sobelHeight(x)
    }

    /// ``sobel(_:)`` for any `[N, C, H, W]` tensor.
    public static func sobelHeight(_ x: Tensor) -> Tensor {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        func mirror(_ i: Int, _ n: Int) -> Int { i < 0 ? -i - 1 : (i >= n ? 2 * n - i - 1 : i) }
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { p in
                var derivative = [Float](repeating: 0, count: h * w)
                for plane in 0..<planes {
                    let src = p.baseAddress! + plane * h * w, dst = out.baseAddress! + plane * h * w
                    for r in 0..<h {
                        let up = mirror(r - 1, h), down = mirror(r + 1, h)
                        for c in 0..<w { derivative[r * w + c] = src[down * w + c] - src[up * w + c] }
                    }
                    for r in 0..<h {
                        for c in 0..<w {
                            let left = mirror(c - 1, w), right = mirror(c + 1, w)
                            dst[r * w + c] = derivative[r * w + left] + 2 * derivative[r * w + c] + derivative[r * w + right]
                        }
                    }
                }
            }
        }
    }
}

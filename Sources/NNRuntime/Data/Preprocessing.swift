/// A zoo model's input description (`InputSpec`) as its ``Preprocessing`` pipeline, so models,
/// datasets and commands preprocess through one implementation.
extension InputSpec {
    /// `Resize(short side)` + `CenterCrop(height, width)` when `resizeShortSide` is set, otherwise a
    /// direct resize to `height × width` (a no-op for images already that size); then `Normalize`.
    public var preprocessing: Preprocessing {
        let size = Preprocessing.Size(width: width, height: height)
        return Preprocessing(channels: channels, resize: resizeShortSide.map { .shortSide($0) } ?? .exact(size),
                             filter: filter, crop: resizeShortSide == nil ? nil : size,
                             scaling: .meanStd(mean: mean, std: std))
    }

    /// The `[C, H, W]` tensor this model takes for `image`.
    public func callAsFunction(_ image: Image) -> Tensor { preprocessing(image) }

    /// `(x − mean) / std` per channel of a `[C, H, W]` or `[N, C, H, W]` tensor.
    public func normalize(_ x: Tensor) -> Tensor { preprocessing.normalize(x) }

    /// The inverse of ``normalize(_:)``, for showing model inputs as images.
    public func denormalize(_ x: Tensor) -> Tensor { preprocessing.denormalize(x) }

    /// A batch `[N, C, H, W]` from several images.
    public func batch(_ images: [Image]) -> Tensor { preprocessing.batch(images) }
}

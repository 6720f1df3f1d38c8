/// A model's input pipeline, as torchvision composes it: colour conversion, `Resize(short side)`
/// (or a direct resize to the input size), `CenterCrop`, `ToTensor`, `Normalize`.
extension InputSpec {
    /// The `[C, H, W]` tensor this model takes for `image`.
    public func callAsFunction(_ image: Image) -> Tensor {
        var im = image.converted(toChannels: channels)
        if let short = resizeShortSide {
            im = im.resized(shortSide: short, filter: filter).centerCropped(width: width, height: height)
        } else if im.width != width || im.height != height {
            im = im.resized(width: width, height: height, filter: filter)
        }
        return normalize(im.tensor())
    }

    /// `(x − mean) / std` per channel of a `[C, H, W]` or `[N, C, H, W]` tensor.
    public func normalize(_ x: Tensor) -> Tensor {
        let shape = x.rank == 4 ? [1, channels, 1, 1] : [channels, 1, 1]
        return (x - Tensor(shape: shape, scalars: mean)) / Tensor(shape: shape, scalars: std)
    }

    /// The inverse of ``normalize(_:)``, for showing model inputs as images.
    public func denormalize(_ x: Tensor) -> Tensor {
        let shape = x.rank == 4 ? [1, channels, 1, 1] : [channels, 1, 1]
        return x * Tensor(shape: shape, scalars: std) + Tensor(shape: shape, scalars: mean)
    }

    /// A batch `[N, C, H, W]` from several images.
    public func batch(_ images: [Image]) -> Tensor {
        precondition(!images.isEmpty, "InputSpec.batch: no images")
        return concat(images.map { self($0).unsqueezed(axis: 0) }, axis: 0)
    }
}

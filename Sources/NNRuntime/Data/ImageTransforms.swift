/// torchvision's deterministic image transforms with their exact integer arithmetic, and
/// ``Preprocessing``, a model's whole input pipeline as one value.
///
/// A classifier's accuracy, and every attribution or activation computed on it, depends on getting
/// its inputs exactly as in training; a pipeline that is merely "close" shifts logits measurably.
/// So each step here is torchvision's own on PIL images: `Resize` (PIL's resampling, ``Image/resized(width:height:filter:)``),
/// `CenterCrop` (its offsets and zero padding), `ToTensor` (``Image/tensor()``) and `Normalize`.

extension Image {
    /// torchvision's `Resize(size)` with an int size: the short side becomes `size` and the long side
    /// `int(size · long / short)` (truncated, as torchvision computes it), resampled as PIL does.
    public func resized(shortSide size: Int, filter: ResampleFilter = .bilinear) -> Image {
        precondition(size > 0, "Image.resized: short side \(size) must be positive")
        if width <= height {
            return resized(width: size, height: Int(Double(size) * Double(height) / Double(width)), filter: filter)
        }
        return resized(width: Int(Double(size) * Double(width) / Double(height)), height: size, filter: filter)
    }

    /// torchvision's `CenterCrop((height, width))`: the top-left corner at `int(round((H − h) / 2))`
    /// (Python's round, half to even) and likewise for the left edge. Where the crop is larger than
    /// the image, torchvision first pads with zeros, `(h − H) // 2` before and the rest after; the
    /// same pixels come out here.
    public func centerCropped(width cw: Int, height ch: Int) -> Image {
        func offset(_ size: Int, _ crop: Int) -> Int {
            crop > size ? -((crop - size) / 2) : Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
        }
        return cropped(left: offset(width, cw), top: offset(height, ch), width: cw, height: ch)
    }

    /// torchvision's `CenterCrop(size)` with an int size: a `size` × `size` square.
    public func centerCropped(_ size: Int) -> Image { centerCropped(width: size, height: size) }

    /// The `width` × `height` region whose top-left corner is at (`left`, `top`), as torchvision's
    /// `F.crop`: the parts outside the image are zeros (transparent black for RGBA).
    public func cropped(left: Int, top: Int, width cw: Int, height ch: Int) -> Image {
        precondition(cw > 0 && ch > 0, "Image.cropped: size \(cw)×\(ch) must be positive")
        if left == 0 && top == 0 && cw == width && ch == height { return self }
        let c = channels
        var out = [UInt8](repeating: 0, count: cw * ch * c)
        let x0 = Swift.max(0, -left), x1 = Swift.min(cw, width - left)
        if x1 > x0 {
            pixels.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    let y0 = Swift.max(0, -top), y1 = Swift.min(ch, height - top)
                    for y in y0..<Swift.max(y0, y1) {
                        let from = src.baseAddress! + ((y + top) * width + x0 + left) * c
                        (dst.baseAddress! + (y * cw + x0) * c).update(from: from, count: (x1 - x0) * c)
                    }
                }
            }
        }
        return Image(unchecked: cw, ch, c, out)
    }
}

extension Tensor {
    /// torchvision's `Normalize(mean, std)`: `(x − mean[c]) / std[c]` per channel of a `[C, H, W]` or
    /// `[N, C, H, W]` tensor, in float32 as PyTorch computes it. Built from differentiable ops, so
    /// gradients flow back to the unnormalised image (feature visualisation, input optimisation).
    public func normalized(mean: [Float], std: [Float]) -> Tensor {
        let shape = Preprocessing.channelShape(of: self, channels: mean.count, what: "normalized")
        precondition(std.count == mean.count, "Tensor.normalized: \(mean.count) means but \(std.count) standard deviations")
        return (self - Tensor(shape: shape, scalars: mean)) / Tensor(shape: shape, scalars: std)
    }
}

/// A model's input pipeline, as torchvision composes it for PIL images: colour conversion (the
/// loader's `convert("RGB")` or `Grayscale()`), `Resize`, `CenterCrop`, `ToTensor`, and `Normalize`
/// or TensorFlow's `(x·255 − 127)/128`.
///
/// ```swift
/// let x = Preprocessing.imagenet(image)              // [3, 224, 224]
/// let batch = Preprocessing.imagenet.batch(images)   // [N, 3, 224, 224]
/// ```
public struct Preprocessing: Sendable, Equatable, Codable {
    public struct Size: Sendable, Equatable, Codable {
        public var width: Int, height: Int
        public init(width: Int, height: Int) { (self.width, self.height) = (width, height) }
        /// `n` × `n`, as torchvision reads an int size.
        public static func square(_ n: Int) -> Size { Size(width: n, height: n) }
    }

    public enum Resize: Sendable, Equatable, Codable {
        /// `Resize(n)`: the short side to `n`, the aspect ratio kept.
        case shortSide(Int)
        /// `Resize((height, width))`: exactly this size.
        case exact(Size)
    }

    public enum Scaling: Sendable, Equatable, Codable {
        /// `ToTensor` then `Normalize(mean, std)`: `(p/255 − mean) / std` per channel.
        case meanStd(mean: [Float], std: [Float])
        /// `(p − offset) / divisor` on the 0–255 pixel values `p`, e.g. TensorFlow's `(p − 127) / 128`.
        /// Computed from the integer pixel, it is exact where `(x·255 − 127)/128` on `ToTensor`'s
        /// `x = p/255` can be one float rounding off.
        case pixelAffine(offset: Float, divisor: Float)
    }

    /// 1 (gray) or 3 (RGB): what the image is converted to first, as PIL's `convert`.
    public var channels: Int
    public var resize: Resize?
    public var filter: ResampleFilter
    /// `CenterCrop` after the resize, if any.
    public var crop: Size?
    public var scaling: Scaling

    public init(channels: Int, resize: Resize?, filter: ResampleFilter = .bilinear, crop: Size?, scaling: Scaling) {
        precondition(channels == 1 || channels == 3, "Preprocessing: \(channels) channels; expected 1 or 3")
        if case .meanStd(let mean, let std) = scaling {
            precondition(mean.count == channels && std.count == channels, "Preprocessing: one mean and std per channel")
        }
        (self.channels, self.resize, self.filter, self.crop, self.scaling) = (channels, resize, filter, crop, scaling)
    }

    /// torchvision's ImageNet recipe (MobileNetV2, ResNet, VGG): `Resize(256)` bilinear,
    /// `CenterCrop(224)`, ImageNet mean and std.
    public static let imagenet = Preprocessing(channels: 3, resize: .shortSide(256), filter: .bilinear, crop: .square(224),
                                               scaling: .meanStd(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]))
    /// EfficientNet-Lite (TensorFlow weights): short side 256 bicubic, crop 224, `(p − 127) / 128`.
    public static let efficientNetLite = Preprocessing(channels: 3, resize: .shortSide(256), filter: .bicubic, crop: .square(224),
                                                       scaling: .pixelAffine(offset: 127, divisor: 128))
    /// The MNIST CNN: gray, 28 × 28 (resized bilinearly if it is not), MNIST's mean 0.1307 and std 0.3081.
    public static let mnist = Preprocessing(channels: 1, resize: .exact(.square(28)), filter: .bilinear, crop: nil,
                                            scaling: .meanStd(mean: [0.1307], std: [0.3081]))
    /// CIFAR-10 models: RGB 32 × 32, CIFAR-10's per-channel mean and std.
    public static let cifar10 = Preprocessing(channels: 3, resize: .exact(.square(32)), filter: .bilinear, crop: nil,
                                              scaling: .meanStd(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616]))

    /// The output's width and height, when the pipeline fixes them (a crop or an exact resize).
    public var outputSize: Size? {
        if let crop { return crop }
        if case .exact(let size) = resize { return size }
        return nil
    }

    /// The 8-bit image the model sees, before `ToTensor`: converted, resized and cropped. For
    /// showing inputs, and for comparing pipelines without float rounding in the way.
    public func image(_ image: Image) -> Image {
        var im = image.converted(toChannels: channels)
        switch resize {
        case .shortSide(let n): im = im.resized(shortSide: n, filter: filter)
        case .exact(let size): im = im.resized(width: size.width, height: size.height, filter: filter)
        case nil: break
        }
        if let crop { im = im.centerCropped(width: crop.width, height: crop.height) }
        return im
    }

    /// The model input `[C, H, W]` for `image`.
    public func callAsFunction(_ image: Image) -> Tensor {
        let im = self.image(image)
        return Tensor(shape: [channels, im.height, im.width]) { write(im, into: $0.baseAddress!) }
    }

    /// The model inputs `[N, C, H, W]` for `images`, which must all come out the same size (a crop
    /// or an exact resize guarantees it).
    public func batch(_ images: [Image]) -> Tensor {
        if images.isEmpty {
            guard let size = outputSize else { preconditionFailure("Preprocessing.batch: no images, and no fixed output size") }
            return Tensor.zeros([0, channels, size.height, size.width])
        }
        let prepared = images.map { image($0) }
        let (h, w) = (prepared[0].height, prepared[0].width)
        for (i, im) in prepared.enumerated() where im.width != w || im.height != h {
            preconditionFailure("Preprocessing.batch: image \(i) comes out \(im.width)×\(im.height), image 0 \(w)×\(h); add a crop")
        }
        let plane = channels * h * w
        return Tensor(shape: [prepared.count, channels, h, w]) { out in
            for (i, im) in prepared.enumerated() { write(im, into: out.baseAddress! + i * plane) }
        }
    }

    /// `ToTensor` and the scaling of a converted image, straight from its bytes.
    private func write(_ im: Image, into out: UnsafeMutablePointer<Float>) {
        let (c, hw) = (channels, im.width * im.height)
        // One table per channel: 256 values computed exactly as PyTorch computes them.
        var table = [Float](repeating: 0, count: 256 * c)
        for k in 0..<c {
            for p in 0..<256 {
                switch scaling {
                case .meanStd(let mean, let std): table[k * 256 + p] = (Float(p) / 255 - mean[k]) / std[k]
                case .pixelAffine(let offset, let divisor): table[k * 256 + p] = (Float(p) - offset) / divisor
                }
            }
        }
        im.pixels.withUnsafeBufferPointer { px in
            table.withUnsafeBufferPointer { t in
                for k in 0..<c {
                    let plane = out + k * hw, tk = t.baseAddress! + k * 256
                    for i in 0..<hw { plane[i] = tk[Int(px[i * c + k])] }
                }
            }
        }
    }

    /// The scaling alone, on a `[C, H, W]` or `[N, C, H, W]` tensor of `ToTensor` values in [0, 1]
    /// (differentiable).
    public func normalize(_ x: Tensor) -> Tensor {
        switch scaling {
        case .meanStd(let mean, let std): return x.normalized(mean: mean, std: std)
        case .pixelAffine(let offset, let divisor):
            _ = Preprocessing.channelShape(of: x, channels: channels, what: "normalize")
            return (x * 255 - offset) / Tensor(divisor)
        }
    }

    /// The inverse of ``normalize(_:)``: model inputs back to [0, 1] values, for showing them.
    public func denormalize(_ x: Tensor) -> Tensor {
        let shape = Preprocessing.channelShape(of: x, channels: channels, what: "denormalize")
        switch scaling {
        case .meanStd(let mean, let std): return x * Tensor(shape: shape, scalars: std) + Tensor(shape: shape, scalars: mean)
        case .pixelAffine(let offset, let divisor): return (x * divisor + offset) / Tensor(255)
        }
    }

    /// `[C, 1, 1]` or `[1, C, 1, 1]`: per-channel constants broadcast over `x`.
    static func channelShape(of x: Tensor, channels: Int, what: String) -> [Int] {
        precondition((x.rank == 3 && x.shape[0] == channels) || (x.rank == 4 && x.shape[1] == channels),
                     "\(what): expected a [\(channels), H, W] or [N, \(channels), H, W] tensor, got \(x.shape)")
        return x.rank == 4 ? [1, channels, 1, 1] : [channels, 1, 1]
    }
}

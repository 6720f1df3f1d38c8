/// Training-time augmentation with torchvision's semantics on 8-bit images, then the model's
/// preprocessing (`InputSpec`): `RandomCrop(size, padding)` and `RandomHorizontalFlip()`, the
/// CIFAR recipe of the ROAR reference.
public struct Augmentation: Sendable, Equatable, Codable {
    /// Zero padding on every side before a random crop back to the input size (nil: no crop).
    public var cropPadding: Int?
    public var horizontalFlip: Bool

    public init(cropPadding: Int? = nil, horizontalFlip: Bool = false) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    public static let none = Augmentation()

    /// The augmented image; draws from `generator` in torchvision's order (crop offsets, then flip).
    public func apply(_ image: Image, using generator: inout SeededGenerator) -> Image {
        var im = image
        if let p = cropPadding {
            let (w, h) = (im.width, im.height)
            let top = Int(generator.next() % UInt64(2 * p + 1)), left = Int(generator.next() % UInt64(2 * p + 1))
            var out = [UInt8](repeating: 0, count: im.pixels.count)
            let c = im.channels
            for y in 0..<h {
                let sy = y + top - p
                guard sy >= 0 && sy < h else { continue }
                for x in 0..<w {
                    let sx = x + left - p
                    guard sx >= 0 && sx < w else { continue }
                    for k in 0..<c { out[(y * w + x) * c + k] = im.pixels[(sy * w + sx) * c + k] }
                }
            }
            im.pixels = out
        }
        if horizontalFlip && generator.nextUniform() < 0.5 {
            let (w, c) = (im.width, im.channels)
            var out = im.pixels
            for y in 0..<im.height {
                for x in 0..<w { for k in 0..<c { out[(y * w + x) * c + k] = im.pixels[(y * w + (w - 1 - x)) * c + k] } }
            }
            im.pixels = out
        }
        return im
    }
}

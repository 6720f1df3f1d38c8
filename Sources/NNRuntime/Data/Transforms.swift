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
            // Zero-pad by p, then crop the original size at a random offset: a crop whose window
            // starts at (left − p, top − p) of the unpadded image.
            let top = Int(generator.next() % UInt64(2 * p + 1)), left = Int(generator.next() % UInt64(2 * p + 1))
            im = im.cropped(left: left - p, top: top - p, width: im.width, height: im.height)
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

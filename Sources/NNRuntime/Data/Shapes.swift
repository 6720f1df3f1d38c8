import Foundation

/// The `shapes` concept benchmark (ARCHITECTURE.md §4): small RGB images of one object on a
/// textured background with known concepts, and a planted watermark shortcut, so every method's
/// output can be scored against the truth.
///
/// Class = shape (circle, cross, square, triangle); colour (red, green, blue, yellow), size (small,
/// large) and background (plain, stripes, dots, noise) vary independently of the class. In the
/// training split a 6×6 glyph in the bottom-right corner marks `watermarkRate` of the images of
/// `watermarkClass` and `otherRate` of the rest; in the test split it marks half of all images at
/// random, so a neuron's AUC for `watermark` there measures pure artifact detection.
public struct ShapesGenerator: Sendable {
    /// In sorted order, so a shape's index is its label in the generated ImageFolder (torchvision sorts class folders).
    public static let shapes = ["circle", "cross", "square", "triangle"]
    public static let colours = ["red", "green", "blue", "yellow"]
    public static let sizes = ["small", "large"]
    public static let backgrounds = ["plain", "stripes", "dots", "noise"]
    public static var conceptNames: [String] { shapes + colours + sizes + backgrounds + ["watermark"] }

    public var count = 5000
    public var size = 32
    public var seed: UInt64 = 0
    public var watermarkClass = 0
    public var watermarkRate = 0.9
    public var otherRate = 0.05
    public var testFraction = 0.2

    public init() {}

    /// One generated image and its concepts.
    public struct Sample {
        public let image: Image
        public let shape: Int, colour: Int, sizeIndex: Int, background: Int
        public let watermark: Bool
        public var concepts: [Int] {
            var row = [Int](repeating: 0, count: ShapesGenerator.conceptNames.count)
            row[shape] = 1
            row[4 + colour] = 1
            row[8 + sizeIndex] = 1
            row[10 + background] = 1
            row[14] = watermark ? 1 : 0
            return row
        }
    }

    /// The 6×6 watermark glyph (a character-like stroke pattern).
    static let glyph: [[UInt8]] = [
        [1, 1, 1, 1, 1, 0],
        [1, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 0, 0],
        [1, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 1, 1],
        [1, 0, 0, 0, 1, 1],
    ]

    /// Sample `index` of a split; deterministic in (seed, split, index).
    public func sample(index: Int, test: Bool) -> Sample {
        var g = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(index) &* 0xBF58_476D ^ (test ? 0xD1B5 : 0))
        let shape = Int(g.next() % 4), colour = Int(g.next() % 4), sizeIndex = Int(g.next() % 2), background = Int(g.next() % 4)
        let rate = test ? 0.5 : (shape == watermarkClass ? watermarkRate : otherRate)
        let watermark = Double(g.nextUniform()) < rate
        let s = size
        var px = [Float](repeating: 0, count: s * s * 3)
        // Background: a muted base colour and a texture.
        let base = (0..<3).map { _ in 70 + 70 * g.nextUniform() }
        let period = 4 + Int(g.next() % 3), vertical = g.next() % 2 == 0
        for y in 0..<s {
            for x in 0..<s {
                var shade: Float = 0
                switch background {
                case 1: shade = ((vertical ? x : y) / (period / 2)) % 2 == 0 ? 35 : -35
                case 2: shade = (x % period == period / 2 && y % period == period / 2) ? 70 : 0
                case 3: shade = 40 * (g.nextUniform() - 0.5)
                default: shade = 0
                }
                for c in 0..<3 { px[(y * s + x) * 3 + c] = base[c] + shade }
            }
        }
        // The object.
        let palette: [[Float]] = [[205, 45, 40], [45, 175, 70], [50, 75, 215], [225, 200, 45]]
        let brightness = 0.85 + 0.3 * g.nextUniform()
        let colourValue = palette[colour].map { Swift.min(255, Swift.max(0, ($0 + 30 * (g.nextUniform() - 0.5)) * brightness)) }
        let r = Float(s) * (sizeIndex == 0 ? 0.17 : 0.3)
        let margin = r + 2
        let cx = margin + g.nextUniform() * (Float(s) - 2 * margin - 7), cy = margin + g.nextUniform() * (Float(s) - 2 * margin - 7)
        for y in 0..<s {
            for x in 0..<s {
                let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                let inside: Bool
                switch ShapesGenerator.shapes[shape] {
                case "circle": inside = dx * dx + dy * dy <= r * r
                case "square": inside = Swift.abs(dx) <= r * 0.8 && Swift.abs(dy) <= r * 0.8
                case "triangle": inside = dy <= r * 0.8 && dy >= -r && Swift.abs(dx) <= (dy + r) * 0.58
                default: inside = (Swift.abs(dx) <= r / 3 && Swift.abs(dy) <= r) || (Swift.abs(dy) <= r / 3 && Swift.abs(dx) <= r)
                }
                if inside { for c in 0..<3 { px[(y * s + x) * 3 + c] = colourValue[c] } }
            }
        }
        if watermark {
            for (gy, row) in ShapesGenerator.glyph.enumerated() {
                for (gx, on) in row.enumerated() where on == 1 {
                    let (x, y) = (s - 7 + gx, s - 7 + gy)
                    for c in 0..<3 { px[(y * s + x) * 3 + c] = 245 }
                }
            }
        }
        // Mild pixel noise, so no single pixel gives the answer away.
        let bytes = px.map { v -> UInt8 in UInt8(Swift.min(255, Swift.max(0, (v + 8 * g.nextNormal()).rounded()))) }
        return Sample(image: try! Image(width: s, height: s, channels: 3, pixels: bytes), shape: shape, colour: colour,
                      sizeIndex: sizeIndex, background: background, watermark: watermark)
    }

    /// Writes `train/<class>/NNNNN.png`, `test/<class>/NNNNN.png`, `concepts.csv`, `concepts.json`
    /// and `README.txt` into `folder`; `progress` is called with (done, total).
    public func write(to folder: URL, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let fm = FileManager.default
        let testCount = Int((Double(count) * testFraction).rounded())
        let trainCount = count - testCount
        for split in ["train", "test"] {
            for shape in ShapesGenerator.shapes {
                try fm.createDirectory(at: folder.appendingPathComponent("\(split)/\(shape)"), withIntermediateDirectories: true)
            }
        }
        var csv = "image," + ShapesGenerator.conceptNames.joined(separator: ",") + "\n"
        var done = 0
        for (split, n) in [("train", trainCount), ("test", testCount)] {
            for i in 0..<n {
                let sample = self.sample(index: i, test: split == "test")
                let path = "\(split)/\(ShapesGenerator.shapes[sample.shape])/\(String(format: "%05d", i)).png"
                try sample.image.pngData().write(to: folder.appendingPathComponent(path), options: .atomic)
                csv += path + "," + sample.concepts.map(String.init).joined(separator: ",") + "\n"
                done += 1
                if done % 100 == 0 || done == count { progress(done, count) }
            }
        }
        try csv.write(to: folder.appendingPathComponent("concepts.csv"), atomically: true, encoding: .utf8)
        var descriptions: [String: [String: String]] = [:]
        for name in ShapesGenerator.shapes { descriptions[name] = ["name": name, "description": "the object is a \(name) (the class)"] }
        for name in ShapesGenerator.colours { descriptions[name] = ["name": name, "description": "the object is \(name)"] }
        for name in ShapesGenerator.sizes { descriptions[name] = ["name": name, "description": "the object is \(name)"] }
        for name in ShapesGenerator.backgrounds { descriptions[name] = ["name": name, "description": "\(name) background texture"] }
        descriptions["watermark"] = ["name": "watermark", "description": "a 6×6 glyph in the bottom-right corner (the planted shortcut)"]
        try JSONSerialization.data(withJSONObject: descriptions, options: [.prettyPrinted, .sortedKeys])
            .write(to: folder.appendingPathComponent("concepts.json"), options: .atomic)
        let readme = """
        shapes concept benchmark, generated by interp (seed \(seed), \(size)×\(size) RGB).
        train: \(trainCount) images, test: \(testCount) images; class = shape (\(ShapesGenerator.shapes.joined(separator: ", "))).
        Colour, size and background are drawn independently of the class (uniformly).
        Planted shortcut: a 6×6 glyph in the bottom-right corner. In train it marks \(Int(watermarkRate * 100)) % of the
        '\(ShapesGenerator.shapes[watermarkClass])' images and \(Int(otherRate * 100)) % of the others; in test it marks 50 % of all
        images independently of the class.
        concepts.csv: one row per image (path relative to this folder), 0/1 for every concept; concepts.json: descriptions.

        """
        try readme.write(to: folder.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)
    }
}

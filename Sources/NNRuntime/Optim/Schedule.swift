import Foundation

/// Learning-rate schedules over epochs, with an optional linear warm-up, as torch's `StepLR`,
/// `CosineAnnealingLR` and `LinearLR` compute them.
public enum LRSchedule: Equatable, Sendable {
    case constant
    /// Multiply by `gamma` every `stepSize` epochs (ROAR's recipe: step 10, γ 0.5).
    case step(stepSize: Int, gamma: Float)
    /// Cosine from the base rate down to `minimum` over `epochs`.
    case cosine(epochs: Int, minimum: Float)

    /// The learning rate for `epoch` (0-based), after `warmupEpochs` of linear warm-up from
    /// `base / warmupEpochs`.
    public func learningRate(base: Float, epoch: Int, warmupEpochs: Int = 0) -> Float {
        var lr: Float
        switch self {
        case .constant: lr = base
        case let .step(size, gamma): lr = base * Foundation.pow(gamma, Float(epoch / Swift.max(size, 1)))
        case let .cosine(epochs, minimum):
            let t = Float(Swift.min(epoch, epochs)) / Float(Swift.max(epochs, 1))
            lr = minimum + (base - minimum) * (1 + Foundation.cos(Float.pi * t)) / 2
        }
        if warmupEpochs > 0 && epoch < warmupEpochs { lr *= Float(epoch + 1) / Float(warmupEpochs) }
        return lr
    }

    /// Parses `constant`, `step:10:0.5`, `cosine` (over `epochs`) or `cosine:0.0001`.
    public static func parse(_ text: String, epochs: Int) throws -> LRSchedule {
        let parts = text.split(separator: ":").map(String.init)
        switch parts.first {
        case "constant"?: return .constant
        case "step"?:
            guard parts.count == 3, let s = Int(parts[1]), s > 0, let g = Float(parts[2]) else {
                throw ModelError("schedule '\(text)': expected step:STEP_EPOCHS:GAMMA, e.g. step:10:0.5")
            }
            return .step(stepSize: s, gamma: g)
        case "cosine"?:
            let minimum = parts.count > 1 ? Float(parts[1]) : 0
            guard let minimum else { throw ModelError("schedule '\(text)': expected cosine or cosine:MIN_LR") }
            return .cosine(epochs: epochs, minimum: minimum)
        default:
            throw ModelError("unknown schedule '\(text)'; expected constant, step:STEP:GAMMA or cosine[:MIN_LR]")
        }
    }
}

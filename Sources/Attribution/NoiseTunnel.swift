import NNRuntime

/// SmoothGrad and its relatives, computed from one set of noisy copies of each image (captum's
/// `NoiseTunnel` with `nt_type` smoothgrad, smoothgrad_sq or vargrad):
///
/// - SmoothGrad (Smilkov et al., 2017, "SmoothGrad: removing noise by adding noise"): the mean of
///   the base map over J copies x + ε, ε ~ N(0, σ²);
/// - SmoothGrad² (Hooker et al., NeurIPS 2019, "A Benchmark for Interpretability Methods in Deep
///   Neural Networks"): the mean of the squared base maps;
/// - VarGrad (Adebayo et al., 2018, "Local Explanation Methods for Deep Neural Networks Lack
///   Sensitivity to Parameter Values"): their variance, E[a²] − E[a]², as captum computes it.
///
/// σ = 0.15 · (max x − min x) per image, the ROAR paper's (and PAIR-code saliency's) rule, and
/// J = 25. The base map keeps its own settings (IG's baseline and steps, Saliency's `abs`), and the
/// target stays the clean image's class. The two ROAR papers' finding — only SmoothGrad² and
/// VarGrad beat a random ranking — is the reason both are offered.
extension Attributor {
    func noiseTunnel(_ x: Tensor, targets: [Int]) throws -> Tensor {
        let n = x.shape[0], samples = options.samples, per = x.count / n
        let noise = try noiseTensor(for: x)
        let imageShape = Array(x.shape.dropFirst())
        // Image-major copies: image 0's J noisy versions, then image 1's, … (captum's repeat_interleave).
        let noisy = Tensor(shape: [n * samples] + imageShape) { out in
            x.withUnsafeBufferPointer { xp in
                noise.withUnsafeBufferPointer { np in
                    for c in 0..<n * samples {
                        let o = out.baseAddress! + c * per, xi = xp.baseAddress! + (c / samples) * per, e = np.baseAddress! + c * per
                        for j in 0..<per { o[j] = xi[j] + e[j] }
                    }
                }
            }
        }
        let expandedTargets = targets.flatMap { Array(repeating: $0, count: samples) }
        var baseline: Tensor?
        if options.base == .integratedGradients { baseline = repeatedPerImage(try baselineTensor(for: x), samples) }
        let maps = try base(options.base, noisy, targets: expandedTargets, baseline: baseline)
        return reduceSamples(maps, images: n, samples: samples)
    }

    /// The noise to add, `[N, J, C, H, W]`: the explicit ``AttributionOptions/noise`` if given,
    /// otherwise N(0, σᵢ²) drawn from the seed, σᵢ = noiseLevel · (max − min) of image i.
    func noiseTensor(for x: Tensor) throws -> Tensor {
        let n = x.shape[0], samples = options.samples, per = x.count / n
        let shape = [n, samples] + Array(x.shape.dropFirst())
        if let given = options.noise {
            guard given.count == n * samples * per else {
                throw AttributionError("\(method.rawValue): explicit noise of shape \(given.shape) does not fit \(n) images × \(samples) samples of \(Array(x.shape.dropFirst())); expected \(shape)")
            }
            return given.reshaped(shape)
        }
        let sigmas: [Float] = x.withUnsafeBufferPointer { p in
            (0..<n).map { i in
                let image = UnsafeBufferPointer(rebasing: p[i * per..<(i + 1) * per])
                return options.noiseLevel * ((image.max() ?? 0) - (image.min() ?? 0))
            }
        }
        var generator = SeededGenerator(seed: options.seed)
        return Tensor(shape: shape) { out in
            for i in 0..<n {
                for j in i * samples * per..<(i + 1) * samples * per { out[j] = sigmas[i] * generator.nextNormal() }
            }
        }
    }

    /// `t` with each image repeated `k` times in a row (`repeat_interleave(k, dim=0)`).
    func repeatedPerImage(_ t: Tensor, _ k: Int) -> Tensor {
        let n = t.shape[0], per = t.count / n
        return Tensor(shape: [n * k] + Array(t.shape.dropFirst())) { out in
            t.withUnsafeBufferPointer { p in
                for c in 0..<n * k {
                    let o = out.baseAddress! + c * per, src = p.baseAddress! + (c / k) * per
                    o.update(from: src, count: per)
                }
            }
        }
    }

    /// Mean, mean of squares or variance over each image's `samples` consecutive maps.
    func reduceSamples(_ maps: Tensor, images n: Int, samples: Int) -> Tensor {
        let per = maps.count / (n * samples)
        let scale = 1 / Float(samples)
        return Tensor(shape: [n] + Array(maps.shape.dropFirst())) { out in
            maps.withUnsafeBufferPointer { m in
                for i in 0..<n {
                    for j in 0..<per {
                        var sum: Float = 0, squares: Float = 0
                        for k in 0..<samples {
                            let v = m[(i * samples + k) * per + j]
                            sum += v
                            squares += v * v
                        }
                        let mean = sum * scale, meanSquare = squares * scale
                        switch method {
                        case .smoothGradSquared: out[i * per + j] = meanSquare
                        case .varGrad: out[i * per + j] = meanSquare - mean * mean
                        default: out[i * per + j] = mean
                        }
                    }
                }
            }
        }
    }
}

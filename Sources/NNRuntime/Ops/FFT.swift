import Foundation
import CKissFFT

/// Inverse real 2-D FFT (`torch.fft.irfftn(s=(H, W), dim=(-2, -1))`), the image generator of the
/// Fourier parameterisation that feature visualisation (Olah et al. 2017, Lucid) and DORA's s-AMS use:
/// optimising a spectrum instead of pixels decorrelates the parameters and favours natural images.
///
/// The transforms run on KissFFT (BSD-3-Clause, Debian `libkissfft-dev`): a complex inverse FFT down
/// each spectrum column, then a complex-to-real inverse FFT along each row.

/// How the transform is scaled, as numpy/PyTorch's `norm` argument names it.
public enum FFTNormalization: String, Sendable {
    /// No scaling on the inverse (`"forward"` in numpy's naming puts 1/n on the forward transform).
    case forward
    /// 1/n on the inverse (numpy's default).
    case backward
    /// 1/√n both ways: the transform is unitary.
    case ortho

    func inverseScale(count n: Int) -> Float {
        switch self {
        case .forward: return 1
        case .backward: return 1 / Float(n)
        case .ortho: return 1 / Float(n).squareRoot()
        }
    }
}

/// KissFFT complex plans by size and direction. A complex plan is read-only once made, so threads
/// share it (real plans carry scratch space and are made per worker).
final class FFTPlans: @unchecked Sendable {
    static let shared = FFTPlans()
    private var complex: [Int: kiss_fft_cfg] = [:]
    private let lock = NSLock()

    /// A complex plan of length `n`; `inverse` selects the e^{+i} direction.
    func complex(_ n: Int, inverse: Bool) -> kiss_fft_cfg {
        lock.lock(); defer { lock.unlock() }
        let key = inverse ? -n : n
        if let p = complex[key] { return p }
        let p = kiss_fft_alloc(Int32(n), inverse ? 1 : 0, nil, nil)!
        complex[key] = p
        return p
    }
}

/// The inverse real 2-D FFT of a half spectrum.
///
/// - Parameters:
///   - spectrum: `[..., H, Wf, 2]`, the last axis holding (real, imaginary); column `kx` is frequency
///     `kx` along the width. Columns from `Wf` up to the Nyquist column `W/2` are taken as zero, which
///     is how Lucid and torch-dreams drop the Nyquist column.
///   - width: the even output width `W`, with `Wf ≤ W/2 + 1`.
/// - Returns: `[..., H, W]` real images. As in every complex-to-real FFT, the imaginary parts of the
///   self-conjugate terms (the DC and Nyquist columns after the column transform) are ignored.
///
/// The op is linear, so its VJP is its adjoint: the forward real FFT of the gradient, each column
/// weighted by how many times the Hermitian expansion counts it (1 for DC and Nyquist, 2 otherwise).
public func irfft2(_ spectrum: Tensor, width: Int, normalization: FFTNormalization = .backward) -> Tensor {
    precondition(spectrum.rank >= 3 && spectrum.shape.last == 2,
                 "irfft2: expected a spectrum [..., H, Wf, 2], got \(spectrum.shape)")
    let h = spectrum.shape[spectrum.rank - 3], wf = spectrum.shape[spectrum.rank - 2]
    precondition(width > 0 && width % 2 == 0, "irfft2: the output width must be even and positive, got \(width)")
    precondition(h > 0 && wf > 0 && wf <= width / 2 + 1,
                 "irfft2: \(wf) spectrum columns do not fit a width of \(width) (at most \(width / 2 + 1))")
    let planes = spectrum.shape[..<(spectrum.rank - 3)].reduce(1, *)
    let outShape = Array(spectrum.shape[..<(spectrum.rank - 2)]) + [width]
    let scale = normalization.inverseScale(count: h * width)
    let half = width / 2 + 1
    let columnPlan = FFTPlans.shared.complex(h, inverse: true)

    let out = Tensor(shape: outShape) { dst in
        spectrum.withUnsafeBufferPointer { src in
            let cpx = UnsafeRawPointer(src.baseAddress!).assumingMemoryBound(to: kiss_fft_cpx.self)
            let image0 = dst.baseAddress!
            Parallel.forEachRange(planes) { range, _ in
                // kiss_fftr keeps scratch space in its plan, so every worker owns one.
                let rowPlan = kiss_fftr_alloc(Int32(width), 1, nil, nil)!
                let rows = UnsafeMutablePointer<kiss_fft_cpx>.allocate(capacity: h * half)
                let column = UnsafeMutablePointer<kiss_fft_cpx>.allocate(capacity: h)
                defer { rows.deallocate(); column.deallocate(); free(UnsafeMutableRawPointer(rowPlan)) }
                for p in range {
                    let plane = cpx + p * h * wf
                    rows.initialize(repeating: kiss_fft_cpx(r: 0, i: 0), count: h * half)
                    for kx in 0..<wf {
                        kiss_fft_stride(columnPlan, plane + kx, column, Int32(wf))
                        for y in 0..<h { rows[y * half + kx] = column[y] }
                    }
                    let image = image0 + p * h * width
                    for y in 0..<h { kiss_fftri(rowPlan, rows + y * half, image + y * width) }
                    if scale != 1 { for i in 0..<(h * width) { image[i] *= scale } }
                }
            }
        }
    }
    let inShape = spectrum.shape
    return recordOp(.irfft2, inputs: [spectrum], output: out) { g in
        [rfft2Adjoint(g, planes: planes, height: h, width: width, columns: wf, scale: scale, shape: inShape)]
    }
}

/// The adjoint of `irfft2`: `scale · w_kx · FFT2(g)[ky, kx]` for the kept columns, where the forward
/// FFT has the e^{−i} sign and `w_kx` counts the column's Hermitian copies.
private func rfft2Adjoint(_ g: Tensor, planes: Int, height h: Int, width: Int, columns wf: Int,
                          scale: Float, shape: [Int]) -> Tensor {
    let half = width / 2 + 1
    let columnPlan = FFTPlans.shared.complex(h, inverse: false)
    return Tensor(shape: shape) { dst in
        g.withUnsafeBufferPointer { pg in
            let out0 = UnsafeMutableRawPointer(dst.baseAddress!).assumingMemoryBound(to: kiss_fft_cpx.self)
            let g0 = pg.baseAddress!
            Parallel.forEachRange(planes) { range, _ in
                let rowPlan = kiss_fftr_alloc(Int32(width), 0, nil, nil)!
                let rows = UnsafeMutablePointer<kiss_fft_cpx>.allocate(capacity: h * half)
                let column = UnsafeMutablePointer<kiss_fft_cpx>.allocate(capacity: h)
                defer { rows.deallocate(); column.deallocate(); free(UnsafeMutableRawPointer(rowPlan)) }
                for p in range {
                    let image = g0 + p * h * width
                    for y in 0..<h { kiss_fftr(rowPlan, image + y * width, rows + y * half) }
                    let plane = out0 + p * h * wf
                    for kx in 0..<wf {
                        kiss_fft_stride(columnPlan, rows + kx, column, Int32(half))
                        let weight = scale * (kx == 0 || 2 * kx == width ? 1 : 2)
                        for ky in 0..<h {
                            plane[ky * wf + kx] = kiss_fft_cpx(r: column[ky].r * weight, i: column[ky].i * weight)
                        }
                    }
                }
            }
        }
    }
}

/// Sample frequencies of a length-`n` FFT with sample spacing `d` (`numpy.fft.fftfreq`).
public func fftFrequencies(_ n: Int, spacing d: Double = 1) -> [Double] {
    (0..<n).map { i in Double(i < (n + 1) / 2 ? i : i - n) / (Double(n) * d) }
}

/// Sample frequencies of a length-`n` real FFT (`numpy.fft.rfftfreq`): `0, 1, …, n/2` over `n·d`.
public func rfftFrequencies(_ n: Int, spacing d: Double = 1) -> [Double] {
    (0...(n / 2)).map { Double($0) / (Double(n) * d) }
}

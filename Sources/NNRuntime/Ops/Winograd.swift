/// Winograd's minimal filtering F(2×2, 3×3) for stride-1 3×3 convolutions (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", CVPR 2016).
///
/// Each 2×2 block of outputs ("tile") is computed from the 4×4 input patch under it as
/// `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`: 16 multiplications per channel pair instead of the 36 of the direct
/// form. Summed over input channels, the 16 element-wise products become 16 independent matrix
/// products `M[ξ] = U[ξ] · V[ξ]` (`[out, in] · [in, tiles]`), which run in OpenBLAS's kernel over
/// many tiles at once, across samples. That is 2.25× fewer multiply-adds than im2col, in products
/// whose operands fit in cache, at the price of three cheap linear transforms. F(2×2, 3×3) keeps
/// float32 rounding close to the direct sum (its transforms have coefficients 0, ±½, ±1); the
/// larger F(4×4, 3×3) amplifies it by about an order of magnitude and is not used.
///
/// The input gradient of a stride-1 3×3 convolution is itself one (of the output gradient with the
/// weights flipped and their channel axes swapped), so the backward pass uses the same kernel.

/// A stride-1 3×3 convolution of `[n, k, h, w]` into `[n, m, ho, wo]` with zero padding `pt`, `pl`
/// above and left (and whatever below and right makes `ho × wo`).
struct Winograd3x3 {
    /// Eight tiles' values (the transforms' vector width) and the sixteen input columns under them.
    typealias V8 = SIMD8<Float>
    typealias V16 = SIMD16<Float>

    let n, k, h, w, m, ho, wo, pt, pl: Int
    var tilesH: Int { (ho + 1) / 2 }
    var tilesW: Int { (wo + 1) / 2 }
    /// Tiles of a row rounded up to whole vectors (the transforms run eight tiles at a time).
    var paddedTilesW: Int { (tilesW + 7) / 8 * 8 }

    /// Whether `g` is a convolution this kernel computes, and has enough channels on both sides for
    /// the products to outweigh the transforms.
    static func applies(to g: ConvGeometry) -> Bool {
        g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1
            && g.c >= 8 && g.o >= 8
    }

    /// The forward convolution of `g`.
    init(forward g: ConvGeometry) {
        (n, k, h, w, m, ho, wo, pt, pl) = (g.n, g.c, g.h, g.w, g.o, g.ho, g.wo, g.pt, g.pl)
    }

    /// The input gradient of `g` as a convolution of `dy` (padding `2 − p` on each side), or nil
    /// when `g` pads a side by more than 2 (then the gradient ignores some of `dy`).
    init?(inputGradientOf g: ConvGeometry) {
        let pb = g.ho + 2 - g.h - g.pt, pr = g.wo + 2 - g.w - g.pl
        guard [g.pt, g.pl, pb, pr].allSatisfy({ (0...2).contains($0) }) else { return nil }
        (n, k, h, w, m, ho, wo, pt, pl) = (g.n, g.o, g.ho, g.wo, g.c, g.h, g.w, 2 - g.pt, 2 - g.pl)
    }

    /// Convolves `x` with `weight` into `y` (overwritten): the weights are transformed once, then
    /// the tiles run in chunks of `chunkRows` rows (``rowsPerChunk`` by default). With `flipped`, see
    /// ``transformWeights(_:flipped:)``.
    func convolve(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, flipped: Bool,
                  into y: UnsafeMutablePointer<Float>, chunkRows: Int? = nil) {
        let u = transformWeights(weight, flipped: flipped)
        withExtendedLifetime(u) { run(x, u: u.pointer, into: y, chunkRows: chunkRows ?? rowsPerChunk) }
    }

    /// `U = G g Gᵀ` for every (output, input) channel pair, laid out `[16][m][k]`. With `flipped`,
    /// `weight` is the original `[k, m, 3, 3]` convolution whose input gradient this is: each kernel
    /// is rotated by 180° and the channel axes swapped.
    private func transformWeights(_ weight: UnsafePointer<Float>, flipped: Bool) -> TensorStorage {
        let u = TensorStorage(uninitializedCount: 16 * m * k)
        let pu = u.pointer, planeStride = m * k
        Parallel.forEachRange(m) { outputs, _ in
            for mo in outputs {
                // Eight input channels at a time: their kernels' taps gathered into vectors, the
                // transforms computed lane-wise, each result stored as eight contiguous values.
                for ki0 in Swift.stride(from: 0, to: k, by: 8) {
                    let lanes = Swift.min(8, k - ki0)
                    @inline(__always) func g(_ r: Int, _ c: Int) -> V8 {
                        let t = flipped ? (2 - r) * 3 + 2 - c : r * 3 + c
                        var v = V8()
                        for l in 0..<8 {
                            let ki = ki0 + Swift.min(l, lanes - 1)
                            v[l] = weight[(flipped ? ki * m + mo : mo * k + ki) * 9 + t]
                        }
                        return v
                    }
                    @inline(__always) func store(_ xi: Int, _ v: V8) {
                        let out = pu + xi * planeStride + mo * k + ki0
                        if lanes == 8 { UnsafeMutableRawPointer(out).storeBytes(of: v, as: V8.self); return }
                        for l in 0..<lanes { out[l] = v[l] }
                    }
                    // One row of t = G g, times Gᵀ.
                    @inline(__always) func put(_ r: Int, _ t0: V8, _ t1: V8, _ t2: V8) {
                        store(r * 4, t0)
                        store(r * 4 + 1, 0.5 * (t0 + t1 + t2))
                        store(r * 4 + 2, 0.5 * (t0 - t1 + t2))
                        store(r * 4 + 3, t2)
                    }
                    let (g00, g01, g02, g10, g11, g12, g20, g21, g22) = (g(0, 0), g(0, 1), g(0, 2), g(1, 0), g(1, 1), g(1, 2), g(2, 0), g(2, 1), g(2, 2))
                    put(0, g00, g01, g02)
                    put(1, 0.5 * (g00 + g10 + g20), 0.5 * (g01 + g11 + g21), 0.5 * (g02 + g12 + g22))
                    put(2, 0.5 * (g00 - g10 + g20), 0.5 * (g01 - g11 + g21), 0.5 * (g02 - g12 + g22))
                    put(3, g20, g21, g22)
                }
            }
        }
        return u
    }

    /// Tiles per chunk: whole rows of tiles, sized so the chunk's transformed input and products
    /// (`16 · (k + m)` floats a tile) take about 8 MB, but at least 256 tiles: every chunk packs
    /// all of `U` (16·m·k floats) again, which fewer tiles do not repay on 512-channel layers.
    var rowsPerChunk: Int {
        let perRow = 16 * (k + m) * paddedTilesW * 4
        let minimumRows = (256 + tilesW - 1) / tilesW
        return Swift.max(1, Swift.min(n * tilesH, Swift.max(minimumRows, (8 << 20) / perRow)))
    }

    /// Runs the convolution of `x` with transformed weights `u` into `y`, in chunks of `chunkRows`
    /// rows of tiles.
    private func run(_ x: UnsafePointer<Float>, u: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, chunkRows: Int) {
        let totalRows = n * tilesH
        let ld = chunkRows * tilesW + 8
        withScratch(16 * k * ld) { v in withScratch(16 * m * ld) { products in
        for first in stride(from: 0, to: totalRows, by: chunkRows) {
            let rows = first..<Swift.min(totalRows, first + chunkRows)
            let tiles = rows.count * tilesW
            Parallel.forEachRange(k) { channels, _ in transformInput(x, rows: rows, channels: channels, into: v, ld: ld) }
            // 16 products, each split into column blocks of at most 256 tiles (operands that stay in cache).
            let blocks = (tiles + 255) / 256, blockSize = (tiles + blocks - 1) / blocks
            Parallel.forEach(16 * blocks) { item in
                let xi = item / blocks, lo = (item % blocks) * blockSize, count = Swift.min(blockSize, tiles - lo)
                guard count > 0 else { return }
                sgemm(u + xi * m * k, v + xi * k * ld + lo, products + xi * m * ld + lo, m: m, n: count, k: k,
                      ldb: ld, ldc: ld)
            }
            Parallel.forEachRange(m) { outputs, _ in transformOutput(products, ld: ld, rows: rows, outputs: outputs, into: y) }
        }
        } }
    }

    /// `V = Bᵀ d B` for each tile of the rows of tiles `rows` (flattened over samples) and each
    /// input channel of `channels`, into `v` (`[16][k][ld]`, tiles numbered from the chunk's start).
    func transformInput(_ x: UnsafePointer<Float>, rows: Range<Int>, channels: Range<Int>,
                        into v: UnsafeMutablePointer<Float>, ld: Int) {
        // Four zero-padded input rows under one row of tiles: column j is input column j − pl.
        let width = 2 * paddedTilesW + 8
        let lines = UnsafeMutablePointer<Float>.allocate(capacity: 4 * width)
        defer { lines.deallocate() }
        let copy = Swift.min(w, width - pl)
        for ch in channels {
            for r in rows {
                let sample = r / tilesH, ty = r % tilesH
                let plane = x + (sample * k + ch) * h * w
                for i in 0..<4 {
                    let line = lines + i * width, iy = 2 * ty - pt + i
                    guard iy >= 0 && iy < h else { line.update(repeating: 0, count: width); continue }
                    line.update(repeating: 0, count: pl)
                    line.advanced(by: pl).update(from: plane + iy * w, count: copy)
                    line.advanced(by: pl + copy).update(repeating: 0, count: width - pl - copy)
                }
                let base = (r - rows.lowerBound) * tilesW
                for tx in stride(from: 0, to: tilesW, by: 8) {
                    // e = d B along each row: columns 2tx … 2tx + 3 of the eight tiles, de-interleaved.
                    @inline(__always) func rowTimesB(_ i: Int) -> (V8, V8, V8, V8) {
                        let a = UnsafeRawPointer(lines + i * width + 2 * tx).loadUnaligned(as: V16.self)
                        let b = UnsafeRawPointer(lines + i * width + 2 * tx + 2).loadUnaligned(as: V16.self)
                        let (d0, d1, d2, d3) = (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    }
                    let e0 = rowTimesB(0), e1 = rowTimesB(1), e2 = rowTimesB(2), e3 = rowTimesB(3)
                    // V = Bᵀ e down each column j.
                    @inline(__always) func column(_ j: Int, _ a: V8, _ b: V8, _ c: V8, _ d: V8) {
                        let out = v + (j * k + ch) * ld + base + tx, step = 4 * k * ld
                        UnsafeMutableRawPointer(out).storeBytes(of: a - c, as: V8.self)
                        UnsafeMutableRawPointer(out + step).storeBytes(of: b + c, as: V8.self)
                        UnsafeMutableRawPointer(out + 2 * step).storeBytes(of: c - b, as: V8.self)
                        UnsafeMutableRawPointer(out + 3 * step).storeBytes(of: b - d, as: V8.self)
                    }
                    column(0, e0.0, e1.0, e2.0, e3.0)
                    column(1, e0.1, e1.1, e2.1, e3.1)
                    column(2, e0.2, e1.2, e2.2, e3.2)
                    column(3, e0.3, e1.3, e2.3, e3.3)
                }
            }
        }
    }

    /// `Y = Aᵀ M A` for each tile and each output channel of `outputs`, into the output planes.
    private func transformOutput(_ products: UnsafePointer<Float>, ld: Int, rows: Range<Int>, outputs: Range<Int>,
                                 into y: UnsafeMutablePointer<Float>) {
        // The four outputs of each tile of a row, as rows of tiles (y00, y01, y10, y11).
        let staged = UnsafeMutablePointer<Float>.allocate(capacity: 4 * paddedTilesW)
        defer { staged.deallocate() }
        for mo in outputs {
            for r in rows {
                let sample = r / tilesH, ty = r % tilesH
                let base = (r - rows.lowerBound) * tilesW
                for tx in stride(from: 0, to: tilesW, by: 8) {
                    @inline(__always) func load(_ xi: Int) -> V8 {
                        UnsafeRawPointer(products + (xi * m + mo) * ld + base + tx).loadUnaligned(as: V8.self)
                    }
                    // s = M A along each row i, then Y = Aᵀ s.
                    @inline(__always) func rowTimesA(_ i: Int) -> (V8, V8) {
                        let (m0, m1, m2, m3) = (load(i * 4), load(i * 4 + 1), load(i * 4 + 2), load(i * 4 + 3))
                        return (m0 + m1 + m2, m1 - m2 - m3)
                    }
                    let s0 = rowTimesA(0), s1 = rowTimesA(1), s2 = rowTimesA(2), s3 = rowTimesA(3)
                    @inline(__always) func put(_ q: Int, _ value: V8) {
                        UnsafeMutableRawPointer(staged + q * paddedTilesW + tx).storeBytes(of: value, as: V8.self)
                    }
                    put(0, s0.0 + s1.0 + s2.0)
                    put(1, s0.1 + s1.1 + s2.1)
                    put(2, s1.0 - s2.0 - s3.0)
                    put(3, s1.1 - s2.1 - s3.1)
                }
                let plane = y + (sample * m + mo) * ho * wo
                for dy in 0..<Swift.min(2, ho - 2 * ty) {
                    let row = plane + (2 * ty + dy) * wo
                    let left = staged + 2 * dy * paddedTilesW, right = left + paddedTilesW
                    for tx in 0..<(wo / 2) { row[2 * tx] = left[tx]; row[2 * tx + 1] = right[tx] }
                    if wo % 2 == 1 { row[wo - 1] = left[wo / 2] }
                }
            }
        }
    }
}

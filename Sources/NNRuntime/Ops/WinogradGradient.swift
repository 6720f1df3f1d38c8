/// The weight gradient of a stride-1 3×3 convolution by the same F(2×2, 3×3) transforms.
///
/// Each tile's output is `Y = Aᵀ [(G g Gᵀ) ⊙ V] A` with `V = Bᵀ d B`, linear in the kernel `g`, so
/// its pull-back is `dg = Gᵀ [(A dY Aᵀ) ⊙ V] G` (Lavin & Gray 2016, §4, by transposing the forward
/// algorithm). Summed over tiles, the element-wise products become 16 matrix products
/// `S[ξ] = Z[ξ] · V[ξ]ᵀ` (`[out, tiles] · [tiles, in]`), with `Z = A dY Aᵀ` the transformed output
/// gradient: 2.25× fewer multiply-adds than the im2col product `dY · colᵀ`, reusing the forward
/// pass's input transform.
extension Winograd3x3 {
    /// Writes `∂L/∂w` (`[m, k, 3, 3]`) of this (forward) convolution for input `x` and output
    /// gradient `dy` into `dw` (overwritten), in chunks of `chunkRows` rows of tiles.
    func weightGradient(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>,
                        chunkRows: Int? = nil) {
        let totalRows = n * tilesH, chunkRows = chunkRows ?? rowsPerChunk
        let ld = chunkRows * tilesW + 8
        withScratch(16 * k * ld) { v in withScratch(16 * m * ld) { z in withScratch(16 * m * k) { sums in
        sums.update(repeating: 0, count: 16 * m * k)
        for first in stride(from: 0, to: totalRows, by: chunkRows) {
            let rows = first..<Swift.min(totalRows, first + chunkRows)
            Parallel.forEachRange(k) { channels, _ in transformInput(x, rows: rows, channels: channels, into: v, ld: ld) }
            Parallel.forEachRange(m) { outputs, _ in transformOutputGradient(dy, rows: rows, outputs: outputs, into: z, ld: ld) }
            // S[ξ] += Z[ξ] · V[ξ]ᵀ, one ξ per work item (each owns its sum).
            Parallel.forEach(16) { xi in
                sgemm(z + xi * m * ld, v + xi * k * ld, sums + xi * m * k, m: m, n: k, k: rows.count * tilesW,
                      transposeB: true, beta: 1, lda: ld, ldb: ld)
            }
        }
        // dw = Gᵀ S G for every (output, input) pair: rows, then columns, of [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]].
        Parallel.forEachRange(m * k) { pairs, _ in
            for pair in pairs {
                @inline(__always) func s(_ i: Int, _ j: Int) -> Float { sums[(i * 4 + j) * m * k + pair] }
                // Gᵀ S (3×4), one column j at a time, then each row times G.
                @inline(__always) func left(_ j: Int) -> (Float, Float, Float) {
                    (s(0, j) + 0.5 * (s(1, j) + s(2, j)), 0.5 * (s(1, j) - s(2, j)), 0.5 * (s(1, j) + s(2, j)) + s(3, j))
                }
                let c0 = left(0), c1 = left(1), c2 = left(2), c3 = left(3)
                @inline(__always) func put(_ a: Int, _ t0: Float, _ t1: Float, _ t2: Float, _ t3: Float) {
                    let out = dw + pair * 9 + a * 3
                    out[0] = t0 + 0.5 * (t1 + t2)
                    out[1] = 0.5 * (t1 - t2)
                    out[2] = 0.5 * (t1 + t2) + t3
                }
                put(0, c0.0, c1.0, c2.0, c3.0)
                put(1, c0.1, c1.1, c2.1, c3.1)
                put(2, c0.2, c1.2, c2.2, c3.2)
            }
        }
        } } }
    }

    /// `Z = A dY Aᵀ` for each tile of the rows of tiles `rows` and each output channel of `outputs`:
    /// the 2×2 block of `dy` under the tile (zero past the output's edge), into `z` (`[16][m][ld]`).
    private func transformOutputGradient(_ dy: UnsafePointer<Float>, rows: Range<Int>, outputs: Range<Int>,
                                         into z: UnsafeMutablePointer<Float>, ld: Int) {
        let width = 2 * paddedTilesW + 16
        let lines = UnsafeMutablePointer<Float>.allocate(capacity: 2 * width)
        defer { lines.deallocate() }
        for mo in outputs {
            for r in rows {
                let sample = r / tilesH, ty = r % tilesH
                let plane = dy + (sample * m + mo) * ho * wo
                for i in 0..<2 {
                    let line = lines + i * width, oy = 2 * ty + i
                    guard oy < ho else { line.update(repeating: 0, count: width); continue }
                    line.update(from: plane + oy * wo, count: wo)
                    (line + wo).update(repeating: 0, count: width - wo)
                }
                let base = (r - rows.lowerBound) * tilesW
                for tx in stride(from: 0, to: tilesW, by: 8) {
                    let top = UnsafeRawPointer(lines + 2 * tx).loadUnaligned(as: V16.self)
                    let bottom = UnsafeRawPointer(lines + width + 2 * tx).loadUnaligned(as: V16.self)
                    let (y00, y01, y10, y11) = (top.evenHalf, top.oddHalf, bottom.evenHalf, bottom.oddHalf)
                    // Rows of A Y (A = [[1,0],[1,1],[1,−1],[0,−1]]), each times Aᵀ: (p, q) → (p, p+q, p−q, −q).
                    @inline(__always) func row(_ i: Int, _ p: V8, _ q: V8) {
                        let out = z + (i * 4 * m + mo) * ld + base + tx, step = m * ld
                        UnsafeMutableRawPointer(out).storeBytes(of: p, as: V8.self)
                        UnsafeMutableRawPointer(out + step).storeBytes(of: p + q, as: V8.self)
                        UnsafeMutableRawPointer(out + 2 * step).storeBytes(of: p - q, as: V8.self)
                        UnsafeMutableRawPointer(out + 3 * step).storeBytes(of: -q, as: V8.self)
                    }
                    row(0, y00, y01)
                    row(1, y00 + y10, y01 + y11)
                    row(2, y00 - y10, y01 - y11)
                    row(3, -y10, -y11)
                }
            }
        }
    }
}

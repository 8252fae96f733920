// Blocked single-precision GEMM for x86-64 with AVX2 + FMA (Goto & van de Geijn 2008, "Anatomy of
// high-performance matrix multiplication"; the BLIS layout: packed B panels of NR columns, packed A
// panels of MR rows, a register-resident MR×NR micro-kernel). This translation unit is compiled with
// -mavx2 -mfma and is only entered after the runtime CPU check in addon.cc.
//
// C[b] = op(A[b]) · op(B[b]) for row-major operands with arbitrary row/column strides, so the
// transposed cases of tfjs BatchMatMul need no transpose pass: the packing reads through the strides.
#include "sgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

constexpr int MR = 6;   // rows per micro-tile: 6 × 2 accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm
constexpr int NR = 16;  // columns per micro-tile: two 8-float vectors
constexpr int KC = 256; // depth of a packed block: an MR×KC A panel (6 KB) and a KC×NR B panel (16 KB) fit L1
constexpr int MC = 96;  // rows of a packed A block (96 KB, L2)
constexpr int NC = 2048; // columns of a packed B block (2 MB at KC = 256, the L2 of this class of core)

struct Strided {
  const float* data;
  long rowStride;
  long colStride;
  float at(long row, long col) const { return data[row * rowStride + col * colStride]; }
};

// A block rows [0, mc) × depth [0, kc) into MR-row panels, each stored depth-major (p·MR + i); rows
// past mc are zero so edge tiles run the same kernel.
void packA(const Strided& a, long row0, long depth0, int mc, int kc, float* out) {
  for (int panel = 0; panel < mc; panel += MR) {
    const int rows = std::min(MR, mc - panel);
    for (int p = 0; p < kc; p++) {
      for (int i = 0; i < MR; i++) out[i] = i < rows ? a.at(row0 + panel + i, depth0 + p) : 0.0f;
      out += MR;
    }
  }
}

// B block depth [0, kc) × columns [0, nc) into NR-column panels, each stored depth-major (p·NR + j).
void packB(const Strided& b, long depth0, long col0, int kc, int nc, float* out) {
  for (int panel = 0; panel < nc; panel += NR) {
    const int cols = std::min(NR, nc - panel);
    if (cols == NR && b.colStride == 1) {
      for (int p = 0; p < kc; p++) {
        std::memcpy(out, b.data + (depth0 + p) * b.rowStride + col0 + panel, NR * sizeof(float));
        out += NR;
      }
      continue;
    }
    if (b.rowStride == 1) {
      // Transposed B (stored [N, K]): walk each stored row contiguously, scatter into the panel.
      for (int j = 0; j < NR; j++) {
        if (j >= cols) {
          for (int p = 0; p < kc; p++) out[p * NR + j] = 0.0f;
          continue;
        }
        const float* source = b.data + (col0 + panel + j) * b.colStride + depth0;
        for (int p = 0; p < kc; p++) out[p * NR + j] = source[p];
      }
      out += kc * NR;
      continue;
    }
    for (int p = 0; p < kc; p++) {
      for (int j = 0; j < NR; j++) out[j] = j < cols ? b.at(depth0 + p, col0 + panel + j) : 0.0f;
      out += NR;
    }
  }
}

// C tile (rows × cols ≤ MR × NR, leading dimension ldc) = or += packed A panel · packed B panel.
// The twelve accumulators are named variables: an array of __m256 made GCC spill them to the stack
// on every iteration (measured: half the throughput).
// A is read at a[i·rowStride + p·depthStride]: a packed panel (1, MR) or, for narrow products, the
// operand itself (see gemm). B's rows are `bStride` apart: NR in a packed panel, or the row stride
// of a row-major operand read in place (small M, see gemm).
void microKernel(int kc, const float* a, long rowStride, long depthStride, const float* b, long bStride, float* c, long ldc, bool accumulate, int rows, int cols) {
  const long r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride;
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + r1);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + r2);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + r3);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + r4);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + r5);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
    a += depthStride;
    b += bStride;
  }
  alignas(32) float tile[MR * NR];
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (rows == MR && cols == NR) {
    for (int i = 0; i < MR; i++) {
      float* row = c + i * ldc;
      __m256 lo = acc[i][0], hi = acc[i][1];
      if (accumulate) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, lo);
      _mm256_storeu_ps(row + 8, hi);
    }
    return;
  }
  for (int i = 0; i < MR; i++) {
    _mm256_store_ps(tile + i * NR, acc[i][0]);
    _mm256_store_ps(tile + i * NR + 8, acc[i][1]);
  }
  for (int i = 0; i < rows; i++) {
    for (int j = 0; j < cols; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
  }
}

// Small M (a decode step: a few tokens through a weight matrix): each B panel serves only ⌈M/6⌉
// micro-tiles, so packing B (a copy of the whole weight per call) costs as much as the arithmetic.
// Full 16-column panels of a row-major B are read in place (a KC×16 panel is KC cache lines, L1
// resident across the row tiles); only the last partial panel is packed, and A's last partial
// row panel once per depth block. Same micro-kernel and summation order as the packed path, so the
// results are bitwise the same.
constexpr long SMALL_M = 48;

void gemmSmallM(const Strided& a, const Strided& b, float* c, long M, long N, long K, float* packedA, float* packedB) {
  const long fullRows = M - M % MR;
  for (long pc = 0; pc < K; pc += KC) {
    const int kc = static_cast<int>(std::min<long>(KC, K - pc));
    const bool accumulate = pc > 0;
    if (fullRows < M) packA(a, fullRows, pc, static_cast<int>(M - fullRows), kc, packedA);
    for (long jr = 0; jr < N; jr += NR) {
      const int cols = static_cast<int>(std::min<long>(NR, N - jr));
      const float* panel = b.data + pc * b.rowStride + jr;
      long bStride = b.rowStride;
      if (cols < NR) {
        packB(b, pc, jr, kc, cols, packedB);
        panel = packedB;
        bStride = NR;
      }
      for (long ir = 0; ir < M; ir += MR) {
        const int rows = static_cast<int>(std::min<long>(MR, M - ir));
        if (rows == MR) {
          microKernel(kc, a.data + ir * a.rowStride + pc, a.rowStride, 1, panel, bStride, c + ir * N + jr, N, accumulate, rows, cols);
        } else {
          microKernel(kc, packedA, 1, MR, panel, bStride, c + ir * N + jr, N, accumulate, rows, cols);
        }
      }
    }
  }
}

void gemm(const Strided& a, const Strided& b, float* c, long M, long N, long K) {
  if (K == 0) {
    for (long i = 0; i < M; i++) std::fill(c + i * N, c + (i + 1) * N, 0.0f);
    return;
  }
  // Degenerate shapes the 6×16 tile would mostly pad (RMSNorm's mean as x²·(1/d) and its gradient):
  // a matrix-vector product (N = 1) and an outer product (K = 1), as plain loops the compiler
  // vectorises.
  if (N == 1) {
    for (long i = 0; i < M; i++) {
      float sum = 0.0f;
      for (long p = 0; p < K; p++) sum += a.at(i, p) * b.at(p, 0);
      c[i] = sum;
    }
    return;
  }
  if (K == 1) {
    for (long i = 0; i < M; i++) {
      const float ai = a.at(i, 0);
      for (long j = 0; j < N; j++) c[i * N + j] = ai * b.at(0, j);
    }
    return;
  }
  // One packing arena per thread, grown once and reused across calls.
  thread_local std::vector<float> packedA;
  thread_local std::vector<float> packedB;
  packedA.resize(static_cast<size_t>(MC + MR) * KC);
  packedB.resize(static_cast<size_t>(NC + NR) * KC);
  if (M <= SMALL_M && b.colStride == 1 && a.colStride == 1) {
    gemmSmallM(a, b, c, M, N, K, packedA.data(), packedB.data());
    return;
  }
  for (long jc = 0; jc < N; jc += NC) {
    const int nc = static_cast<int>(std::min<long>(NC, N - jc));
    for (long pc = 0; pc < K; pc += KC) {
      const int kc = static_cast<int>(std::min<long>(KC, K - pc));
      const bool accumulate = pc > 0;
      packB(b, pc, jc, kc, nc, packedB.data());
      if (nc <= 2 * NR) {
        // Narrow products (attention's head_dim-wide operands, RoPE's rotation): packing A would cost
        // as much as the arithmetic it feeds, so full 6-row panels read A in place; only the last
        // partial panel is packed (reading past M is not allowed).
        for (long ir = 0; ir < M; ir += MR) {
          const int rows = static_cast<int>(std::min<long>(MR, M - ir));
          const float* panel = a.data + ir * a.rowStride + pc * a.colStride;
          long rowStride = a.rowStride, depthStride = a.colStride;
          if (rows < MR) {
            packA(a, ir, pc, rows, kc, packedA.data());
            panel = packedA.data();
            rowStride = 1;
            depthStride = MR;
          }
          for (int jr = 0; jr < nc; jr += NR) {
            microKernel(kc, panel, rowStride, depthStride, packedB.data() + static_cast<long>(jr) * kc, NR, c + ir * N + jc + jr, N, accumulate, rows, std::min(NR, nc - jr));
          }
        }
        continue;
      }
      for (long ic = 0; ic < M; ic += MC) {
        const int mc = static_cast<int>(std::min<long>(MC, M - ic));
        packA(a, ic, pc, mc, kc, packedA.data());
        for (int jr = 0; jr < nc; jr += NR) {
          const float* bPanel = packedB.data() + static_cast<long>(jr) * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            microKernel(kc, packedA.data() + static_cast<long>(ir) * kc, 1, MR, bPanel, NR, c + (ic + ir) * N + jc + jr, N, accumulate, std::min(MR, mc - ir),
                        std::min(NR, nc - jr));
          }
        }
      }
    }
  }
}

}  // namespace

void sgemmBatchedAvx2(const SgemmProblem& problem) {
  const long M = problem.m, N = problem.n, K = problem.k;
  for (long batch = 0; batch < problem.batch; batch++) {
    const float* a = problem.a + batch * problem.batchStrideA;
    const float* b = problem.b + batch * problem.batchStrideB;
    // Stored shapes: A is [M, K] or, transposed, [K, M]; B is [K, N] or, transposed, [N, K].
    const Strided sa = problem.transposeA ? Strided{a, 1, M} : Strided{a, K, 1};
    const Strided sb = problem.transposeB ? Strided{b, 1, K} : Strided{b, N, 1};
    gemm(sa, sb, problem.c + batch * M * N, M, N, K);
  }
}

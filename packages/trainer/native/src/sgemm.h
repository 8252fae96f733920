// Shared between the N-API glue (generic x86-64) and the AVX2/FMA kernel translation unit.
#pragma once

struct SgemmProblem {
  const float* a;
  const float* b;
  float* c;
  long batch;
  long m;
  long n;
  long k;
  bool transposeA;
  bool transposeB;
  // elements between consecutive batch matrices; 0 broadcasts one matrix over the batch
  long batchStrideA;
  long batchStrideB;
};

// C[b] (row-major [M, N], contiguous per batch) = op(A[b]) · op(B[b]). Requires AVX2 and FMA.
void sgemmBatchedAvx2(const SgemmProblem& problem);

// N-API glue of the optional native matmul (see README.md next to this folder's build script).
// Compiled for generic x86-64: the AVX2/FMA kernel lives in sgemm-avx2.cc and is only called after
// __builtin_cpu_supports confirms both extensions, so loading this addon never faults on older CPUs.
#include <node_api.h>

#include "sgemm.h"

namespace {

bool cpuSupported() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

napi_value Supported(napi_env env, napi_callback_info) {
  napi_value result;
  napi_get_boolean(env, cpuSupported(), &result);
  return result;
}

bool floatArray(napi_env env, napi_value value, float** data, size_t* length) {
  bool isTyped = false;
  if (napi_is_typedarray(env, value, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = static_cast<float*>(raw);
  return true;
}

bool integer(napi_env env, napi_value value, long* out) {
  int64_t v = 0;
  if (napi_get_value_int64(env, value, &v) != napi_ok || v < 0) return false;
  *out = static_cast<long>(v);
  return true;
}

// sgemm(a, b, c, batch, m, n, k, transposeA, transposeB, batchStrideA, batchStrideB): writes c in
// place. The arrays may be views of a WebAssembly memory (the tfjs wasm heap): no copies are made.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 11) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "sgemm expects 11 arguments");
    return nullptr;
  }
  float *a, *b, *c;
  size_t lengthA, lengthB, lengthC;
  if (!floatArray(env, argv[0], &a, &lengthA) || !floatArray(env, argv[1], &b, &lengthB) || !floatArray(env, argv[2], &c, &lengthC)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "sgemm: a, b and c must be Float32Arrays");
    return nullptr;
  }
  SgemmProblem problem{a, b, c, 0, 0, 0, 0, false, false, 0, 0};
  if (!integer(env, argv[3], &problem.batch) || !integer(env, argv[4], &problem.m) || !integer(env, argv[5], &problem.n) ||
      !integer(env, argv[6], &problem.k) || !integer(env, argv[9], &problem.batchStrideA) || !integer(env, argv[10], &problem.batchStrideB)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "sgemm: sizes and strides must be non-negative integers");
    return nullptr;
  }
  napi_get_value_bool(env, argv[7], &problem.transposeA);
  napi_get_value_bool(env, argv[8], &problem.transposeB);
  const long last = problem.batch > 0 ? problem.batch - 1 : 0;
  const unsigned long needA = problem.batchStrideA * last + problem.m * problem.k;
  const unsigned long needB = problem.batchStrideB * last + problem.k * problem.n;
  const unsigned long needC = problem.batch * problem.m * problem.n;
  if (needA > lengthA || needB > lengthB || needC > lengthC) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sgemm: an operand is shorter than its shape");
    return nullptr;
  }
  if (!cpuSupported()) {
    napi_throw_error(env, "ERR_UNSUPPORTED_CPU", "sgemm: this CPU lacks AVX2/FMA");
    return nullptr;
  }
  sgemmBatchedAvx2(problem);
  return nullptr;
}

bool number(napi_env env, napi_value value, float* out) {
  double v = 0;
  if (napi_get_value_double(env, value, &v) != napi_ok) return false;
  *out = static_cast<float>(v);
  return true;
}

// adamw(p, g, m, v, nextP, nextM, nextV, [lr, β1, 1−β1, β2, 1−β2, ε, weightDecay, scale, correction1,
// correction2]) (numbers computed in double by the caller, rounded to float32 here as tfjs rounds
// scalars): one AdamW update (Loshchilov & Hutter 2019) into the next* arrays, in float32 with
// the same operation order and rounding as the trainer's tfjs op path (adamw.ts), one pass instead
// of a dozen kernels. Built without -mfma, so nothing is contracted into fused multiply-adds.
napi_value AdamW(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float* arrays[7];
  size_t lengths[7];
  bool ok = argc == 8;
  for (int i = 0; ok && i < 7; i++) ok = floatArray(env, argv[i], &arrays[i], &lengths[i]) && lengths[i] == lengths[0];
  float h[10];
  bool isArray = false;
  ok = ok && napi_is_array(env, argv[7], &isArray) == napi_ok && isArray;
  uint32_t count = 0;
  ok = ok && napi_get_array_length(env, argv[7], &count) == napi_ok && count == 10;
  for (uint32_t i = 0; ok && i < 10; i++) {
    napi_value element;
    ok = napi_get_element(env, argv[7], i, &element) == napi_ok && number(env, element, &h[i]);
  }
  if (!ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "adamw expects 7 Float32Arrays of one length and 10 hyperparameters");
    return nullptr;
  }
  const float *p = arrays[0], *g = arrays[1], *m = arrays[2], *v = arrays[3];
  float *nextP = arrays[4], *nextM = arrays[5], *nextV = arrays[6];
  const float lr = h[0], beta1 = h[1], oneMinusBeta1 = h[2], beta2 = h[3], oneMinusBeta2 = h[4], epsilon = h[5], weightDecay = h[6], scale = h[7],
              correction1 = h[8], correction2 = h[9];
  for (size_t i = 0; i < lengths[0]; i++) {
    const float gi = scale == 1.0f ? g[i] : g[i] * scale;
    const float mi = m[i] * beta1 + gi * oneMinusBeta1;
    const float vi = v[i] * beta2 + (gi * gi) * oneMinusBeta2;
    float update = (mi / correction1) / (__builtin_sqrtf(vi / correction2) + epsilon);
    if (weightDecay > 0.0f) update = update + p[i] * weightDecay;
    nextM[i] = mi;
    nextV[i] = vi;
    nextP[i] = p[i] - update * lr;
  }
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"supported", nullptr, Supported, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamw", nullptr, AdamW, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 3, properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

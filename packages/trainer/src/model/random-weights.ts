import { createRng, normalSample } from '../random/seeded-rng';
import type { ModelConfig } from './model-config';
import { parameterSpecs } from './parameter-specs';
import type { NamedTensor } from './safetensors';

export interface RandomWeightsOptions {
  /** architecture */
  config: ModelConfig;
  /** PRNG seed (same seed, same weights) */
  seed?: number;
  /** std of matrix entries (default 0.02, GPT-2's init) */
  std?: number;
  /**
   * std of noise added to norm weights (around 1) and biases (around 0); default 0. Tests set it
   * so a wrongly wired bias or norm cannot go unnoticed.
   */
  jitter?: number;
}

/** Seeded random weights in HF layout (for tests, benchmarks and from-scratch training). */
export function createRandomWeights({ config, seed = 0, std = 0.02, jitter = 0 }: RandomWeightsOptions): Map<string, NamedTensor> {
  const rng = createRng({ seed });
  const tensors = new Map<string, NamedTensor>();
  for (const spec of parameterSpecs(config)) {
    const size = spec.hfShape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const base = spec.init === 'ones' ? 1 : 0;
    const scale = spec.init === 'normal' ? std : jitter;
    for (let i = 0; i < size; i++) data[i] = base + (scale === 0 ? 0 : scale * normalSample(rng));
    tensors.set(spec.name, { shape: spec.hfShape, data });
  }
  return tensors;
}

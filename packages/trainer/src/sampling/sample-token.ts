import type { SeededRng } from '../random/seeded-rng';

export interface SampleTokenOptions {
  /** one row of next-token logits `[V]` */
  logits: Float32Array;
  /** softmax temperature; 0 = greedy (argmax) */
  temperature: number;
  /** keep the k most likely tokens (0 or undefined = all) */
  topK?: number | undefined;
  /** keep the smallest set whose probability reaches p (nucleus sampling, Holtzman et al. 2019) */
  topP?: number | undefined;
  /** source of uniform numbers */
  rng: SeededRng;
}

export interface SampledToken {
  /** chosen token id */
  tokenId: number;
  /**
   * log π(token) under the model's own distribution (temperature 1, no top-k/top-p filter), the
   * quantity the trainer's log-prob pass recomputes, so rollout and training log-probs compare.
   */
  logProb: number;
}

/** Reused per call (sampling is synchronous): no allocation per token in the decode loop. */
let scratch = new Float64Array(0);

/** Sample one token id from a logit row with temperature, top-k and top-p. */
export function sampleToken({ logits, temperature, topK, topP, rng }: SampleTokenOptions): SampledToken {
  const V = logits.length;
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i]! > max) {
      max = logits[i]!;
      argmax = i;
    }
  }
  if (scratch.length < V) scratch = new Float64Array(V);
  const weights = scratch;
  // At temperature 1 the sampling weights are the softmax numerators: one exp per logit serves both.
  let total = 0;
  let mass = 0;
  for (let i = 0; i < V; i++) {
    const shifted = logits[i]! - max;
    const e = Math.exp(shifted);
    total += e;
    if (temperature === 1) weights[i] = e;
    else if (temperature > 0) weights[i] = Math.exp(shifted / temperature);
    else continue;
    mass += weights[i]!;
  }
  const logZ = max + Math.log(total);
  const logProbOf = (id: number) => logits[id]! - logZ;
  if (temperature <= 0) return { tokenId: argmax, logProb: logProbOf(argmax) };

  const filterK = topK !== undefined && topK > 0 && topK < V;
  const filterP = topP !== undefined && topP > 0 && topP < 1;
  let candidates: number[] | undefined;
  if (filterK || filterP) {
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => weights[b]! - weights[a]! || a - b);
    candidates = filterK ? order.slice(0, topK) : order;
    if (filterP) {
      let kept = 0;
      for (const id of candidates) kept += weights[id]!;
      let cumulative = 0;
      let keep = 0;
      while (keep < candidates.length) {
        cumulative += weights[candidates[keep]!]!;
        keep++;
        if (cumulative >= topP! * kept) break;
      }
      candidates = candidates.slice(0, keep);
    }
    mass = 0;
    for (const id of candidates) mass += weights[id]!;
  }
  const ids = candidates ?? null;
  let u = rng.next() * mass;
  const count = ids === null ? V : ids.length;
  let chosen = ids === null ? V - 1 : ids[count - 1]!;
  for (let j = 0; j < count; j++) {
    const id = ids === null ? j : ids[j]!;
    u -= weights[id]!;
    if (u < 0) {
      chosen = id;
      break;
    }
  }
  return { tokenId: chosen, logProb: logProbOf(chosen) };
}

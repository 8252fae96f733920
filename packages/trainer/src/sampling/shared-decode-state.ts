import type { CausalLM } from '../model/causal-lm';
import { DecodeKvCache } from '../model/decode-kv-cache';
import { createDecodeWeights, type DecodeWeights } from '../model/decode-weights';

/** A model's decode memory (KV cache arena) and its weights copied into it, shared by schedulers. */
export interface SharedDecodeState {
  readonly cache: DecodeKvCache;
  /** weights matching the model's current variables, rebuilt (once, whoever asks) after a change */
  currentWeights(): Promise<DecodeWeights>;
}

/**
 * Weakly keyed on the model, so the state goes with it. Every `generate` call runs a one-off
 * scheduler: copying the weights into a fresh wasm memory per call cost 10–40 ms here (a tenth of
 * sampling 16 × 64 tokens on the benchmark model) and the new memory's external bytes forced
 * full garbage collections. The state outlives schedulers; a scheduler compares the weights it
 * gets with the last ones it used to know when its kept keys/values went stale.
 */
const states = new WeakMap<CausalLM, SharedDecodeState>();

export function sharedDecodeState(model: CausalLM): SharedDecodeState {
  const existing = states.get(model);
  if (existing !== undefined) return existing;
  const cache = new DecodeKvCache(model.config);
  let weights: DecodeWeights | undefined;
  let building: Promise<DecodeWeights> | undefined;
  const state: SharedDecodeState = {
    cache,
    currentWeights() {
      if (weights?.isCurrent() === true) return Promise.resolve(weights);
      building ??= (async () => {
        try {
          weights?.dispose();
          weights = undefined;
          weights = await createDecodeWeights(model, cache.arena);
          return weights;
        } finally {
          building = undefined;
        }
      })();
      return building;
    },
  };
  states.set(model, state);
  return state;
}

/** One alternative at a sampled position. */
export interface TokenLogProb {
  /** token id */
  tokenId: number;
  /** log π(token) under the model's distribution (temperature 1, unfiltered) */
  logProb: number;
}

/**
 * The `k` most likely next tokens of one logit row with their log-probabilities, most likely first
 * (ties by lower id), the alternatives OpenAI's `top_logprobs` reports. Same distribution as the
 * sampled token's `logProb`: the model's own softmax, not the temperature/top-p-filtered one.
 */
export function topLogProbs(logits: Float32Array, k: number): TokenLogProb[] {
  const V = logits.length;
  const count = Math.max(0, Math.min(k, V));
  if (count === 0) return [];
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i]! > max) max = logits[i]!;
  let total = 0;
  for (let i = 0; i < V; i++) total += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(total);
  const better = (a: number, b: number) => logits[a]! > logits[b]! || (logits[a] === logits[b] && a < b);
  if (count > 32) {
    // large k: one full sort, O(V log V)
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
    return order.slice(0, count).map((tokenId) => ({ tokenId, logProb: logits[tokenId]! - logZ }));
  }
  // Insertion into a sorted list of length k: O(V·k) for the k ≤ 20 of the API.
  const best: number[] = [];
  for (let i = 0; i < V; i++) {
    if (best.length === count && !better(i, best[count - 1]!)) continue;
    let at = best.length === count ? count - 1 : best.length;
    while (at > 0 && better(i, best[at - 1]!)) {
      best[at] = best[at - 1]!;
      at--;
    }
    best[at] = i;
  }
  return best.map((tokenId) => ({ tokenId, logProb: logits[tokenId]! - logZ }));
}

import { describe, expect, it } from 'vitest';
import { AGGREGATION_MODES, type AggregationMode } from '../aggregation/aggregation-plan';
import { expectAipoError } from '../batch/testing/expect-aipo-error';
import { TokenSource } from '../batch/token-source';
import { finiteDifferences } from '../kl/gradient-check';
import { createRng } from '../random/create-rng';
import type { ClipCovOptions } from './clip-cov';
import { tokenCovariances } from './clip-cov-covariance';
import { aggregateReference, B, randomBatch, type RandomBatch, T } from './clip-cov-test-batch';
import { policyLoss } from './policy-loss';
import type { PolicyLossDefinition } from './policy-loss-definition';
import type { KlCovOptions } from './kl-cov';
import type { VespoOptions } from './vespo';
import { clipCovPolicyLoss, klCovPolicyLoss, vespoPolicyLoss } from './wrapped-policy-loss';

/** analytic vs numeric gradient at every masked-in position, relative tolerance as the main sweep */
function expectGradient(batch: RandomBatch, analytic: Float32Array, value: (logProbs: Float64Array) => number): void {
  const numeric = finiteDifferences(batch.logProbs, value, (index) => batch.lossMask[index] === 1);
  let checked = 0;
  for (let index = 0; index < B * T; index++) {
    if (batch.lossMask[index] === 0) {
      expect(analytic[index]).toBe(0);
      continue;
    }
    const expected = numeric[index] as number;
    expect(Math.abs((analytic[index] as number) - expected), `index ${index}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(expected));
    checked++;
  }
  expect(checked).toBeGreaterThan(8);
}

/** the independent float64 covariance: (A - mean A)(lp - mean lp) over masked-in policy tokens */
function referenceCovariance(batch: RandomBatch): Map<number, number> {
  const tokens: number[] = [];
  for (let index = 0; index < B * T; index++) {
    if (batch.lossMask[index] === 1 && batch.sourceMask[index] === TokenSource.policy) tokens.push(index);
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const meanA = mean(tokens.map((index) => batch.advantages[index] as number));
  const meanLp = mean(tokens.map((index) => batch.logProbs[index] as number));
  return new Map(
    tokens.map((index) => [
      index,
      ((batch.advantages[index] as number) - meanA) * ((batch.logProbs[index] as number) - meanLp),
    ]),
  );
}

describe('clip-cov (arXiv 2505.22617, verl clip_cov)', () => {
  const clipCov: ClipCovOptions = { ratio: 0.25, lowerBound: -0.5, upperBound: 5 };
  const runClipCov = (batch: RandomBatch, logProbs: Float64Array, mode: AggregationMode, seed = 11) =>
    clipCovPolicyLoss({ ...batch, logProbs, aggregation: mode, normConstant: 8, rng: createRng(seed), clipCov });

  for (const mode of AGGREGATION_MODES) {
    it(`value = PPO-clip with the selected tokens zeroed; gradient = central differences (${mode})`, () => {
      for (const seed of [3, 17]) {
        const batch = randomBatch(seed, { mixedSources: seed === 17 });
        const result = runClipCov(batch, batch.logProbs, mode);
        expect(result.covariance.selectedTokenCount).toBeGreaterThan(0);
        const tokenLosses = new Float64Array(B * T);
        for (let index = 0; index < B * T; index++) {
          if (batch.lossMask[index] === 0) continue;
          const weight = (batch.isWeights[index] as number) * (result.covariance.selected[index] === 1 ? 0 : 1);
          const lp = batch.logProbs[index] as number;
          const advantage = batch.advantages[index] as number;
          if (batch.sourceMask[index] === TokenSource.offPolicy) {
            // LUFFY default shaping f(p) = p/(p+0.1) on the off-policy row, untouched by Clip-Cov
            const p = Math.exp(lp);
            tokenLosses[index] = (batch.isWeights[index] as number) * -advantage * (p / (p + 0.1));
            continue;
          }
          const r = Math.exp(lp - (batch.oldLogProbs[index] as number));
          tokenLosses[index] = weight * Math.max(-advantage * r, -advantage * Math.min(Math.max(r, 0.8), 1.2));
        }
        expect(result.value).toBeCloseTo(aggregateReference(batch, tokenLosses, mode), 6);
        expectGradient(batch, result.gradLogProbs, (logProbs) => runClipCov(batch, logProbs, mode).value);
      }
    });
  }

  it('selects only unclipped tokens with cov in (lb, ub), max(1, ratio*N) of them, deterministically per seed', () => {
    const batch = randomBatch(5, { spread: 0.3 });
    const covariance = referenceCovariance(batch);
    const options = { ratio: 0.2, lowerBound: -1, upperBound: 0.5 };
    const selections = [1, 2, 3, 4, 5].map((seed) =>
      clipCovPolicyLoss({ ...batch, rng: createRng(seed), clipCov: options }),
    );
    const candidates = [...covariance].filter(([index, cov]) => {
      const r = Math.exp((batch.logProbs[index] as number) - (batch.oldLogProbs[index] as number));
      const advantage = batch.advantages[index] as number;
      const clipped = -advantage * Math.min(Math.max(r, 0.8), 1.2) > -advantage * r;
      return !clipped && cov > options.lowerBound && cov < options.upperBound;
    });
    const expectedCount = Math.min(Math.max(1, Math.floor(0.2 * covariance.size)), candidates.length);
    expect(expectedCount).toBeGreaterThan(1);
    expect(candidates.length).toBeGreaterThan(expectedCount);
    const allowed = new Set(candidates.map(([index]) => index));
    for (const result of selections) {
      expect(result.covariance.candidateTokenCount).toBe(candidates.length);
      expect(result.covariance.selectedTokenCount).toBe(expectedCount);
      const chosen = [...result.covariance.selected.keys()].filter((index) => result.covariance.selected[index] === 1);
      expect(chosen.length).toBe(expectedCount);
      for (const index of chosen) expect(allowed.has(index)).toBe(true);
    }
    const again = clipCovPolicyLoss({ ...batch, rng: createRng(1), clipCov: options });
    expect(Array.from(again.covariance.selected)).toEqual(Array.from(selections[0]?.covariance.selected ?? []));
    const distinct = new Set(selections.map((result) => result.covariance.selected.join('')));
    expect(distinct.size).toBeGreaterThan(1);
  });

  it('verl defaults (ratio 2e-4, (1, 5)): at most one token, none when no cov lies in (1, 5)', () => {
    const batch = randomBatch(9);
    const result = clipCovPolicyLoss({ ...batch, rng: createRng(0) });
    const inRange = [...referenceCovariance(batch).values()].filter((cov) => cov > 1 && cov < 5).length;
    expect(result.covariance.selectedTokenCount).toBe(Math.min(1, result.covariance.candidateTokenCount));
    expect(result.covariance.candidateTokenCount).toBeLessThanOrEqual(inRange);
  });

  it('bad input: missing rng, bounds out of order, ratio > 1, shape mismatch, NaN log-prob', () => {
    const batch = randomBatch(3);
    expectAipoError(() => clipCovPolicyLoss({ ...batch, rng: undefined as never }), 'INVALID_ARGUMENT');
    expectAipoError(
      () => clipCovPolicyLoss({ ...batch, rng: createRng(1), clipCov: { lowerBound: 2, upperBound: 1 } }),
      'INVALID_ARGUMENT',
    );
    expectAipoError(() => clipCovPolicyLoss({ ...batch, rng: createRng(1), clipCov: { ratio: 2 } }), 'INVALID_ARGUMENT');
    expectAipoError(
      () => clipCovPolicyLoss({ ...batch, rng: createRng(1), advantages: new Float64Array(3) }),
      'SHAPE_MISMATCH',
    );
    const logProbs = Float64Array.from(batch.logProbs);
    logProbs[0] = Number.NaN;
    expectAipoError(() => clipCovPolicyLoss({ ...batch, logProbs, rng: createRng(1) }), 'NON_FINITE_INPUT');
  });

  it('an all-masked batch gives 0 and zero gradients', () => {
    const batch = randomBatch(3);
    const result = clipCovPolicyLoss({ ...batch, lossMask: new Uint8Array(B * T), rng: createRng(1) });
    expect(result.value).toBe(0);
    expect(result.covariance.selectedTokenCount).toBe(0);
    expect(result.gradLogProbs.every((value) => value === 0)).toBe(true);
  });
});

describe('kl-cov (arXiv 2505.22617, verl kl_cov)', () => {
  const klCov: KlCovOptions = { ratio: 0.2, coefficient: 0.7 };
  const runKlCov = (batch: RandomBatch, logProbs: Float64Array, mode: AggregationMode) =>
    klCovPolicyLoss({ ...batch, logProbs, aggregation: mode, normConstant: 8, klCov, options: { dualClip: 1.5 } });

  for (const mode of AGGREGATION_MODES) {
    it(`value = -r*A + k|log r| on the top-cov tokens; gradient = central differences (${mode})`, () => {
      const batch = randomBatch(21);
      const covariance = referenceCovariance(batch);
      const count = Math.max(1, Math.floor(0.2 * covariance.size));
      const top = new Set([...covariance].sort((a, b) => b[1] - a[1]).slice(0, count).map(([index]) => index));
      const result = runKlCov(batch, batch.logProbs, mode);
      expect(result.covariance.selectedTokenCount).toBe(count);
      const tokenLosses = new Float64Array(B * T);
      for (const index of covariance.keys()) {
        expect(result.covariance.selected[index]).toBe(top.has(index) ? 1 : 0);
        const logRatio = (batch.logProbs[index] as number) - (batch.oldLogProbs[index] as number);
        const penalty = top.has(index) ? 0.7 * Math.abs(logRatio) : 0;
        // no clip and no dual clip even though dualClip is set: verl's kl_cov has neither
        tokenLosses[index] =
          (batch.isWeights[index] as number) * (-(batch.advantages[index] as number) * Math.exp(logRatio) + penalty);
      }
      expect(result.value).toBeCloseTo(aggregateReference(batch, tokenLosses, mode), 6);
      expectGradient(batch, result.gradLogProbs, (logProbs) => runKlCov(batch, logProbs, mode).value);
    });
  }

  it('returned token losses aggregate to the value; bad coefficient is INVALID_ARGUMENT', () => {
    const batch = randomBatch(4);
    const result = klCovPolicyLoss({ ...batch, klCov, returnTokenLosses: true });
    const tokenLosses = Float64Array.from(result.tokenLosses ?? []);
    expect(tokenLosses.length).toBe(B * T);
    expect(result.value).toBeCloseTo(aggregateReference(batch, tokenLosses, 'token-mean'), 5);
    expectAipoError(() => klCovPolicyLoss({ ...batch, klCov: { coefficient: -1 } }), 'INVALID_ARGUMENT');
    expectAipoError(() => klCovPolicyLoss({ ...batch, advantages: undefined }), 'INVALID_ARGUMENT');
  });
});

describe('vespo (TRL loss_type="vespo")', () => {
  const vespo: VespoOptions = { kPositive: 2, lambdaPositive: 3, kNegative: 3, lambdaNegative: 2 };
  /** -sg(phi_i) A lp, phi from the stop-gradient log-probs `stop` */
  function reference(batch: RandomBatch, logProbs: Float64Array, stop: Float64Array, mode: AggregationMode): number {
    const tokenLosses = new Float64Array(B * T);
    for (let row = 0; row < B; row++) {
      let logWeight = 0;
      let advantage = 0;
      const tokens: number[] = [];
      for (let t = 0; t < T; t++) {
        const index = row * T + t;
        if (batch.lossMask[index] === 0) continue;
        tokens.push(index);
        logWeight += (stop[index] as number) - (batch.oldLogProbs[index] as number) + Math.log(batch.isWeights[index] as number);
        advantage = batch.advantages[index] as number;
      }
      logWeight = Math.min(20, Math.max(Math.log(1e-8), logWeight));
      const [k, lambda] = advantage > 0 ? [2, 3] : [3, 2];
      const phi = Math.exp(logWeight) ** k * Math.exp(lambda * (1 - Math.exp(logWeight)));
      for (const index of tokens) tokenLosses[index] = -phi * advantage * (logProbs[index] as number);
    }
    return aggregateReference(batch, tokenLosses, mode);
  }
  for (const mode of AGGREGATION_MODES) {
    it(`value and stop-gradient gradient match the float64 reference (${mode})`, () => {
      const batch = randomBatch(8, { spread: 0.4 });
      const result = vespoPolicyLoss({ ...batch, aggregation: mode, normConstant: 8, vespo });
      expect(result.value).toBeCloseTo(reference(batch, batch.logProbs, batch.logProbs, mode), 6);
      expectGradient(batch, result.gradLogProbs, (logProbs) => reference(batch, logProbs, batch.logProbs, mode));
    });
  }

  it('phi is 1 at w = 1, peaks at w = k/lambda, and vanishes for a very stale sequence (log w clamped at 20)', () => {
    const one = { batchSize: 1, sequenceLength: 2, lossMask: Uint8Array.from([1, 1]), sequenceAdvantages: Float64Array.from([1]) };
    const at = (logRatio: number) =>
      vespoPolicyLoss({
        ...one,
        logProbs: Float64Array.from([-1, -1]),
        oldLogProbs: Float64Array.from([-1 - logRatio / 2, -1 - logRatio / 2]),
      }).sequenceWeights[0] as number;
    expect(at(0)).toBeCloseTo(1, 12);
    // defaults for A > 0: k = 2, lambda = 3: phi(2/3) = (2/3)^2 e^{1} > phi(1) and > phi(0.5)
    expect(at(Math.log(2 / 3))).toBeCloseTo((4 / 9) * Math.E, 10);
    expect(at(Math.log(2 / 3))).toBeGreaterThan(at(Math.log(0.5)));
    expect(at(30)).toBe(0);
    expect(Number.isFinite(at(-40))).toBe(true);
  });

  it('bad input: non-positive IS weight, negative k, NaN log-prob, missing advantages', () => {
    const batch = randomBatch(8);
    const isWeights = Float64Array.from(batch.isWeights);
    isWeights[0] = 0;
    expectAipoError(() => vespoPolicyLoss({ ...batch, isWeights }), 'INVALID_ARGUMENT');
    expectAipoError(() => vespoPolicyLoss({ ...batch, vespo: { kNegative: -1 } }), 'INVALID_ARGUMENT');
    const logProbs = Float64Array.from(batch.logProbs);
    logProbs[0] = Number.NaN;
    expectAipoError(() => vespoPolicyLoss({ ...batch, logProbs }), 'NON_FINITE_INPUT');
    expectAipoError(() => vespoPolicyLoss({ ...batch, advantages: undefined }), 'INVALID_ARGUMENT');
  });
});

describe('tokenCovariances', () => {
  it('matches the float64 reference and skips off-policy rows', () => {
    const batch = randomBatch(12, { mixedSources: true });
    const reference = referenceCovariance(batch);
    const { covariance, policyTokens } = tokenCovariances(batch);
    expect(Array.from(policyTokens)).toEqual([...reference.keys()]);
    for (const [index, cov] of reference) expect(covariance[index]).toBeCloseTo(cov, 12);
  });
});

describe('batch pre-pass losses through the registry (policyLoss({ loss: name }))', () => {
  it("'clip-cov', 'kl-cov' and 'vespo' by name equal their wrappers, with the pre-pass statistics attached", () => {
    for (const mode of AGGREGATION_MODES) {
      const batch = randomBatch(31, { mixedSources: true });
      const clipCov: ClipCovOptions = { ratio: 0.3, lowerBound: -1, upperBound: 5 };
      const byName = policyLoss({ ...batch, loss: 'clip-cov', aggregation: mode, rng: createRng(5), options: { clipCov } });
      const wrapped = clipCovPolicyLoss({ ...batch, aggregation: mode, rng: createRng(5), clipCov });
      expect(byName.value).toBe(wrapped.value);
      expect(Array.from(byName.gradLogProbs)).toEqual(Array.from(wrapped.gradLogProbs));
      expect(byName.batchStatistics?.covariance?.selectedTokenCount).toBeGreaterThan(0);
      expect(Array.from(byName.batchStatistics?.covariance?.selected ?? [])).toEqual(Array.from(wrapped.covariance.selected));

      const klCov: KlCovOptions = { ratio: 0.3, coefficient: 0.4 };
      const klByName = policyLoss({ ...batch, loss: 'kl-cov', aggregation: mode, options: { klCov } });
      const klWrapped = klCovPolicyLoss({ ...batch, aggregation: mode, klCov });
      expect(klByName.value).toBe(klWrapped.value);
      expect(Array.from(klByName.gradLogProbs)).toEqual(Array.from(klWrapped.gradLogProbs));

      const vespoByName = policyLoss({ ...batch, loss: 'vespo', aggregation: mode, options: { vespo: { kPositive: 1 } } });
      const vespoWrapped = vespoPolicyLoss({ ...batch, aggregation: mode, vespo: { kPositive: 1 } });
      expect(vespoByName.value).toBe(vespoWrapped.value);
      expect(Array.from(vespoByName.batchStatistics?.sequenceWeights ?? [])).toEqual(Array.from(vespoWrapped.sequenceWeights));
    }
  });

  it("'clip-cov' by name without an rng is INVALID_ARGUMENT; bad pre-pass options are typed errors", () => {
    const batch = randomBatch(3);
    expectAipoError(() => policyLoss({ ...batch, loss: 'clip-cov' }), 'INVALID_ARGUMENT');
    expectAipoError(
      () => policyLoss({ ...batch, loss: 'kl-cov', options: { klCov: { ratio: Number.NaN } } }),
      'INVALID_ARGUMENT',
    );
    expectAipoError(
      () => policyLoss({ ...batch, loss: 'vespo', options: { vespo: { lambdaNegative: -2 } } }),
      'INVALID_ARGUMENT',
    );
  });

  it('a custom loss with a pre-pass: its IS weights and token terms reach every token; wrong lengths are SHAPE_MISMATCH', () => {
    const batch = randomBatch(8);
    // l = -A * r * batchTerm, with the pre-pass setting batchTerm = row index + 1 and IS weight 2 on row 0
    const rowScaled = (length: number): PolicyLossDefinition => ({
      id: 'row-scaled',
      description: 'test: -A * r * (row + 1)',
      ratioLevel: 'token',
      token(input, _options, out) {
        const term = input.batchTerm ?? 0;
        out.clip = 0;
        out.value = -input.advantage * input.ratio * term;
        out.gradLogRatio = out.value;
      },
      prepareBatch: ({ input }) => ({
        tokenTerms: Float64Array.from({ length }, (_, index) => Math.floor(index / input.sequenceLength) + 1),
        isWeights: Float64Array.from({ length }, (_, index) => (index < input.sequenceLength ? 2 : 1)),
        statistics: { sequenceWeights: Float64Array.of(input.batchSize) },
      }),
    });
    const result = policyLoss({ ...batch, isWeights: undefined, loss: rowScaled(B * T), aggregation: 'seq-mean-token-sum' });
    let expected = 0;
    let rows = 0;
    for (let row = 0; row < B; row++) {
      let rowSum = 0;
      let live = 0;
      for (let t = 0; t < T; t++) {
        const index = row * T + t;
        if (batch.lossMask[index] === 0) continue;
        live++;
        const ratio = Math.exp((batch.logProbs[index] as number) - (batch.oldLogProbs[index] as number));
        rowSum += (row === 0 ? 2 : 1) * -(batch.advantages[index] as number) * ratio * (row + 1);
      }
      if (live > 0) rows++;
      expected += rowSum;
    }
    expect(result.value).toBeCloseTo(expected / rows, 10);
    expect(Array.from(result.batchStatistics?.sequenceWeights ?? [])).toEqual([B]);
    expectAipoError(() => policyLoss({ ...batch, loss: rowScaled(B * T - 1) }), 'SHAPE_MISMATCH');
  });
});

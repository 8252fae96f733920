import { describe, expect, it } from 'vitest';
import { aggregateLoss } from '../aggregation/aggregate-loss';
import { AGGREGATION_MODES, type AggregationMode } from '../aggregation/aggregation-plan';
import { expectAipoError } from '../batch/testing/expect-aipo-error';
import { TokenSource } from '../batch/token-source';
import { createRng } from '../random/create-rng';
import type { AgentTokenOptions } from './agent-coefficient';
import { createDppoLoss } from './dppo';
import { builtinPolicyLosses, createPolicyLossRegistry, policyLosses } from './builtin';
import type { OffPolicyShapingOptions } from './off-policy-shaping';
import { policyLoss } from './policy-loss';
import type { PolicyLossOptions } from './policy-loss-definition';
import type { PolicyLossInput } from './policy-loss-input';

/** A one-row batch of the given tokens: log r and log p per token, one advantage. */
function row(tokens: Array<{ logRatio?: number; logProb?: number; source?: number }>, advantage: number) {
  const logProbs = Float64Array.from(tokens.map((token) => token.logProb ?? -0.5));
  const oldLogProbs = Float64Array.from(
    tokens.map((token, index) => (logProbs[index] as number) - (token.logRatio ?? 0)),
  );
  return {
    batchSize: 1,
    sequenceLength: tokens.length,
    logProbs,
    oldLogProbs,
    sequenceAdvantages: Float64Array.from([advantage]),
    lossMask: new Uint8Array(tokens.length).fill(1),
    sourceMask: Uint8Array.from(tokens.map((token) => token.source ?? TokenSource.policy)),
  };
}

describe('golden values (hand-computed, one token, token-mean)', () => {
  const ln = Math.log;
  it('ppo-clip: r = 1.5, eps 0.2: A=+1 is held at 1.2 with no gradient; gradient-preserving keeps -1.2', () => {
    const result = policyLoss({ ...row([{ logRatio: ln(1.5) }], 1), loss: 'ppo-clip' });
    expect(result.value).toBeCloseTo(-1.2, 12);
    expect(result.gradLogProbs[0]).toBe(0);
    expect(result.diagnostics.clipFractionHigh).toBe(1);
    const preserving = policyLoss({
      ...row([{ logRatio: ln(1.5) }], 1),
      loss: 'ppo-clip',
      options: { gradientPreservingClip: true },
    });
    expect(preserving.value).toBeCloseTo(-1.2, 12);
    expect(preserving.gradLogProbs[0]).toBeCloseTo(-1.2, 6);
  });
  it('ppo-clip: A=-1 at r = 1.5 is unclipped (1.5, grad 1.5); dual-clip c = 1.4 caps it at 1.4 with no gradient', () => {
    const plain = policyLoss({ ...row([{ logRatio: ln(1.5) }], -1), loss: 'ppo-clip' });
    expect(plain.value).toBeCloseTo(1.5, 12);
    expect(plain.gradLogProbs[0]).toBeCloseTo(1.5, 6);
    const dual = policyLoss({ ...row([{ logRatio: ln(1.5) }], -1), loss: 'ppo-clip', options: { dualClip: 1.4 } });
    expect(dual.value).toBeCloseTo(1.4, 12);
    expect(dual.gradLogProbs[0]).toBe(0);
    expect(dual.diagnostics.dualClipFraction).toBe(1);
  });
  it('ppo-clip: A=-1 at r = 0.5 is held at the low bound 0.8; clip-higher 0.28 moves only the upper bound', () => {
    const low = policyLoss({ ...row([{ logRatio: ln(0.5) }], -1), loss: 'ppo-clip', options: { clipEpsHigh: 0.28 } });
    expect(low.value).toBeCloseTo(0.8, 12);
    expect(low.diagnostics.clipFractionLow).toBe(1);
    const high = policyLoss({ ...row([{ logRatio: ln(1.25) }], 1), loss: 'ppo-clip', options: { clipEpsHigh: 0.28 } });
    expect(high.value).toBeCloseTo(-1.25, 12);
    expect(high.diagnostics.clipFractionHigh).toBe(0);
  });
  it('ppo-clip with clip: false is -A*r (LUFFY on-policy term)', () => {
    const result = policyLoss({ ...row([{ logRatio: ln(3) }], 2), loss: 'ppo-clip', options: { clip: false } });
    expect(result.value).toBeCloseTo(-6, 12);
    expect(result.gradLogProbs[0]).toBeCloseTo(-6, 5);
  });
  it('gspo: sequence ratio exp(mean log r) = exp(0.2), clipped at 1.2 with eps 0.2, free with eps_high 0.3', () => {
    const tokens = [{ logRatio: 0.1 }, { logRatio: 0.3 }];
    const clipped = policyLoss({ ...row(tokens, 1), loss: 'gspo' });
    expect(clipped.value).toBeCloseTo(-1.2, 12);
    expect(Array.from(clipped.gradLogProbs)).toEqual([0, 0]);
    const free = policyLoss({ ...row(tokens, 1), loss: 'gspo', options: { clipEpsHigh: 0.3 } });
    const s = Math.exp(0.2);
    expect(free.value).toBeCloseTo(-s, 12);
    expect(free.gradLogProbs[0]).toBeCloseTo(-s / 2, 6);
    expect(free.gradLogProbs[1]).toBeCloseTo(-s / 2, 6);
  });
  it('cispo: -sg(clip(r))*A*logp = -1.2 * 1 * -0.5 = 0.6 (grad -1.2); TRL absolute cap 5 at r = 6', () => {
    const result = policyLoss({ ...row([{ logRatio: ln(1.5), logProb: -0.5 }], 1), loss: 'cispo' });
    expect(result.value).toBeCloseTo(0.6, 12);
    expect(result.gradLogProbs[0]).toBeCloseTo(-1.2, 6);
    const capped = policyLoss({
      ...row([{ logRatio: ln(6), logProb: -0.5 }], 1),
      loss: 'cispo',
      options: { ratioCapAbs: 5 },
    });
    expect(capped.value).toBeCloseTo(2.5, 12);
  });
  it('sapo: -(4/tau) sigmoid(tau(r-1)) A at r = 1.5, tau = 1', () => {
    const sigma = 1 / (1 + Math.exp(-0.5));
    const result = policyLoss({ ...row([{ logRatio: ln(1.5) }], 1), loss: 'sapo' });
    expect(result.value).toBeCloseTo(-4 * sigma, 12);
    expect(result.gradLogProbs[0]).toBeCloseTo(-4 * sigma * (1 - sigma) * 1.5, 6);
  });
  it('gmpo: log r 0.3 is clipped to 0.2 for A > 0, rho = exp(0.05); only the unclipped token gets gradient', () => {
    const result = policyLoss({ ...row([{ logRatio: 0.3 }, { logRatio: -0.1 }], 1), loss: 'gmpo' });
    const rho = Math.exp(0.05);
    expect(result.value).toBeCloseTo(-rho, 12);
    expect(result.gradLogProbs[0]).toBe(0);
    expect(result.gradLogProbs[1]).toBeCloseTo(-rho / 2, 6);
  });
  it('reinforce: -A*logp = -2 * -0.5 = 1 (grad -2), times a detached IS weight 0.5', () => {
    const result = policyLoss({
      ...row([{ logProb: -0.5 }], 2),
      loss: 'reinforce',
      isWeights: Float64Array.from([0.5]),
    });
    expect(result.value).toBeCloseTo(0.5, 12);
    expect(result.gradLogProbs[0]).toBeCloseTo(-1, 6);
  });
  it('dppo: p 0.5 vs p_inf 0.25 (gap 0.25 > 0.2) drops A=+1 (only tau*ln2^2 left); A=-1 keeps -A*r', () => {
    const up = policyLoss({ ...row([{ logRatio: ln(2), logProb: ln(0.5) }], 1), loss: 'dppo' });
    expect(up.value).toBeCloseTo(1e-3 * ln(2) ** 2, 12);
    expect(up.gradLogProbs[0]).toBeCloseTo(2e-3 * ln(2), 6);
    expect(up.diagnostics.clipFractionHigh).toBe(1);
    const down = policyLoss({ ...row([{ logRatio: ln(2), logProb: ln(0.5) }], -1), loss: 'dppo' });
    expect(down.value).toBeCloseTo(2 + 1e-3 * ln(2) ** 2, 12);
    expect(down.gradLogProbs[0]).toBeCloseTo(2 + 2e-3 * ln(2), 5);
    const wide = policyLoss({
      ...row([{ logRatio: ln(2), logProb: ln(0.5) }], 1),
      loss: createDppoLoss({ deltaHigh: 0.3, klCoef: 0 }),
    });
    expect(wide.value).toBeCloseTo(-2, 12);
    expectAipoError(() => createDppoLoss({ klCoef: -1 }), 'INVALID_ARGUMENT');
  });
  it('LUFFY off-policy token: p = 0.1, gamma = 0.1: f = 0.5, df/dlogp = gamma p/(p+gamma)^2 = 0.25', () => {
    const result = policyLoss({ ...row([{ logProb: ln(0.1), source: TokenSource.offPolicy }], 1), loss: 'ppo-clip' });
    expect(result.value).toBeCloseTo(-0.5, 12);
    expect(result.gradLogProbs[0]).toBeCloseTo(-0.25, 6);
    expect(result.diagnostics.offPolicyWeightMean).toBeCloseTo(0.5, 12);
    const teacher = policyLoss({
      ...row([{ logProb: ln(0.1), source: TokenSource.offPolicy }], 1),
      loss: 'ppo-clip',
      sourceLogProbs: Float64Array.from([ln(0.2)]),
      offPolicy: { shaping: 'no_reshape', useSourceLogProbs: true, advantageScale: 2 },
    });
    // p = 0.1 / 0.2 = 0.5, f(p) = p, beta = 2
    expect(teacher.value).toBeCloseTo(-1, 12);
    expect(teacher.gradLogProbs[0]).toBeCloseTo(-1, 6);
  });
  it('AIPO agent token: p = 0.05 below the floor 0.1 binds only for A < 0, with gradient c_min', () => {
    const negative = policyLoss({ ...row([{ logProb: ln(0.05), source: TokenSource.agent }], -1), loss: 'ppo-clip' });
    expect(negative.value).toBeCloseTo(0.1, 12);
    expect(negative.gradLogProbs[0]).toBeCloseTo(0.1, 6);
    expect(negative.diagnostics.agentFloorFraction).toBe(1);
    const positive = policyLoss({ ...row([{ logProb: ln(0.05), source: TokenSource.agent }], 1), loss: 'ppo-clip' });
    expect(positive.value).toBeCloseTo(-0.05, 12);
    expect(positive.gradLogProbs[0]).toBeCloseTo(-0.05, 6);
    const weighted = policyLoss({
      ...row([{ logProb: ln(0.05), source: TokenSource.agent }], 1),
      loss: 'ppo-clip',
      agent: { pessimistic: false, weight: 0.5 },
    });
    expect(weighted.value).toBeCloseTo(-0.05, 12);
    const ownBehaviour = policyLoss({
      ...row([{ logProb: ln(0.05), source: TokenSource.agent }], -1),
      loss: 'ppo-clip',
      sourceLogProbs: Float64Array.from([ln(0.5)]),
      agent: { behaviour: 'source-log-probs' },
    });
    // g = 0.05/0.5 = 0.1 is at the floor, not below: -A*g with gradient -A*g
    expect(ownBehaviour.value).toBeCloseTo(0.1, 12);
    expect(ownBehaviour.gradLogProbs[0]).toBeCloseTo(0.1, 6);
  });
});

// ---------- float64 reference evaluator with explicit stop-gradient semantics ----------

interface Case {
  loss: string;
  mode: AggregationMode;
  options?: PolicyLossOptions;
  offPolicy?: OffPolicyShapingOptions;
  agent?: AgentTokenOptions;
}

function seeded(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

const B = 4;
const T = 6;
function randomInput(seed: number, mixedSources: boolean) {
  const next = seeded(seed);
  const logProbs = new Float64Array(B * T);
  const oldLogProbs = new Float64Array(B * T);
  const advantages = new Float64Array(B * T);
  const lossMask = new Uint8Array(B * T);
  const sourceMask = new Uint8Array(B * T);
  const isWeights = new Float64Array(B * T);
  const sourceLogProbs = new Float64Array(B * T);
  for (let r = 0; r < B; r++) {
    const length = r === 2 ? 0 : 2 + Math.floor(next() * (T - 1));
    const advantage = (next() - 0.5) * 3;
    for (let t = 0; t < T; t++) {
      const index = r * T + t;
      logProbs[index] = -0.05 - next() * 3;
      oldLogProbs[index] = (logProbs[index] as number) + (next() - 0.5) * 0.8;
      advantages[index] = advantage;
      lossMask[index] = t < length ? 1 : 0;
      sourceMask[index] =
        mixedSources && r === 1 ? (t % 2 === 0 ? TokenSource.offPolicy : TokenSource.agent) : TokenSource.policy;
      isWeights[index] = 0.5 + next();
      sourceLogProbs[index] = -0.01 - next();
    }
    // padding holds garbage the loss must ignore
    for (let t = length; t < T; t++) {
      logProbs[r * T + t] = Number.NEGATIVE_INFINITY;
      oldLogProbs[r * T + t] = Number.NaN;
    }
  }
  return { logProbs, oldLogProbs, advantages, lossMask, sourceMask, isWeights, sourceLogProbs };
}

type Input = ReturnType<typeof randomInput>;

/** sg(x) is evaluated at `stop` (the unperturbed log-probs); everything else at `logProbs`. */
function referenceValue(testCase: Case, input: Input, logProbs: Float64Array, stop: Float64Array): number {
  const options = testCase.options ?? {};
  const low = 1 - (options.clipEpsLow ?? 0.2);
  const high = 1 + (options.clipEpsHigh ?? options.clipEpsLow ?? 0.2);
  const dual = options.dualClip ?? Number.POSITIVE_INFINITY;
  const gp = options.gradientPreservingClip ?? false;
  const tokenLosses = new Float64Array(B * T);
  for (let r = 0; r < B; r++) {
    const policyIndices: number[] = [];
    for (let t = 0; t < T; t++) {
      const index = r * T + t;
      if (input.lossMask[index] === 1 && input.sourceMask[index] === TokenSource.policy) policyIndices.push(index);
    }
    const logRatio = (index: number) => (logProbs[index] as number) - (input.oldLogProbs[index] as number);
    let sequenceRatio = 1;
    // the sequence ratio at the stop-gradient point, for GSPO's gradient-preserving clip: bound * s / sg(s)
    let stopSequenceRatio = 1;
    if (testCase.loss === 'gspo') {
      sequenceRatio = Math.exp(policyIndices.reduce((sum, index) => sum + logRatio(index), 0) / policyIndices.length);
      stopSequenceRatio = Math.exp(
        policyIndices.reduce((sum, index) => sum + (stop[index] as number) - (input.oldLogProbs[index] as number), 0) /
          policyIndices.length,
      );
    }
    if (testCase.loss === 'gmpo') {
      const clippedMean =
        policyIndices.reduce((sum, index) => {
          const x = logRatio(index);
          const advantage = input.advantages[index] as number;
          return sum + (advantage > 0 ? Math.min(x, high - 1) : advantage < 0 ? Math.max(x, low - 1) : x);
        }, 0) / policyIndices.length;
      sequenceRatio = Math.exp(clippedMean);
    }
    for (let t = 0; t < T; t++) {
      const index = r * T + t;
      if (input.lossMask[index] === 0) continue;
      const rawAdvantage = input.advantages[index] as number;
      const lp = logProbs[index] as number;
      const lp0 = stop[index] as number;
      let loss: number;
      if (input.sourceMask[index] === TokenSource.policy) {
        const advantage = rawAdvantage * (options.advantageScale ?? 1);
        const ratio = testCase.loss === 'gspo' ? sequenceRatio : Math.exp(logRatio(index));
        const stopRatio = Math.exp(lp0 - (input.oldLogProbs[index] as number));
        switch (testCase.loss) {
          case 'ppo-clip':
          case 'gspo': {
            const unclippedOnly = options.clip === false;
            // sg semantics: the preserved gradient flows through the ratio the loss uses (token or sequence)
            const live = testCase.loss === 'gspo' ? sequenceRatio / stopSequenceRatio : Math.exp(lp) / Math.exp(lp0);
            const clipRatio = unclippedOnly
              ? ratio
              : ratio < low
                ? gp
                  ? low * live
                  : low
                : ratio > high
                  ? gp
                    ? high * live
                    : high
                  : ratio;
            loss = Math.max(-advantage * ratio, -advantage * clipRatio);
            if (advantage < 0) loss = Math.min(loss, -advantage * (gp ? dual * live : dual));
            break;
          }
          case 'cispo':
            loss = -Math.min(Math.max(stopRatio, low), high) * advantage * lp;
            break;
          case 'sapo': {
            const tau = advantage > 0 ? 1 : 1.05;
            loss = -(4 / tau) * (1 / (1 + Math.exp(-tau * (ratio - 1)))) * advantage;
            break;
          }
          case 'gmpo':
            loss = -advantage * sequenceRatio;
            break;
          case 'reinforce':
            loss = -advantage * lp;
            break;
          case 'dppo': {
            // keep is decided on sg(p) against p_inf = exp(lp_roll); defaults delta 0.2, tau 1e-3
            const gap = Math.exp(lp0) - Math.exp(input.oldLogProbs[index] as number);
            const keep = (advantage > 0 && gap > 0.2) || (advantage < 0 && gap < -0.2) ? 0 : 1;
            loss = -keep * advantage * ratio + 1e-3 * logRatio(index) ** 2;
            break;
          }
          default:
            throw new Error(`no reference for ${testCase.loss}`);
        }
      } else if (input.sourceMask[index] === TokenSource.offPolicy) {
        const advantage = rawAdvantage;
        const useTeacher = testCase.offPolicy?.useSourceLogProbs ?? false;
        const p = Math.exp(lp - (useTeacher ? (input.sourceLogProbs[index] as number) : 0));
        const shaping = testCase.offPolicy?.shaping ?? 'p_div_p_0.1';
        const f =
          shaping === 'p_div_p_0.1'
            ? p / (p + 0.1)
            : shaping === 'square_root'
              ? Math.sqrt(p)
              : shaping === 'logp'
                ? Math.log(p)
                : p;
        loss = -(testCase.offPolicy?.advantageScale ?? 1) * advantage * f;
      } else {
        const advantage = rawAdvantage;
        const agent = testCase.agent ?? {};
        const useAgent = agent.behaviour === 'source-log-probs';
        const p = Math.exp(lp - (useAgent ? (input.sourceLogProbs[index] as number) : 0));
        const p0 = Math.exp(lp0 - (useAgent ? (input.sourceLogProbs[index] as number) : 0));
        const gamma = agent.gamma ?? 0.1;
        const coefficient = (q: number) =>
          typeof agent.coefficient === 'function'
            ? agent.coefficient(q).value
            : agent.coefficient === 'p/(p+gamma)'
              ? q / (q + gamma)
              : q;
        const g = coefficient(p);
        const g0 = coefficient(p0);
        const floor = agent.floor ?? 0.1;
        const floored = g0 >= floor ? g : (floor * Math.exp(lp)) / Math.exp(lp0);
        const pessimistic = agent.pessimistic ?? true;
        loss =
          (agent.weight ?? 1) * (pessimistic ? Math.max(-advantage * g, -advantage * floored) : -advantage * floored);
      }
      tokenLosses[index] = loss * (input.isWeights[index] as number);
    }
  }
  return aggregateLoss({
    values: tokenLosses,
    mask: input.lossMask,
    batchSize: B,
    sequenceLength: T,
    mode: testCase.mode,
    normConstant: 8,
  }).value;
}

function run(testCase: Case, input: Input, logProbs: Float64Array): ReturnType<typeof policyLoss> {
  return policyLoss({
    loss: testCase.loss,
    batchSize: B,
    sequenceLength: T,
    logProbs,
    oldLogProbs: input.oldLogProbs,
    advantages: input.advantages,
    lossMask: input.lossMask,
    sourceMask: input.sourceMask,
    isWeights: input.isWeights,
    sourceLogProbs: input.sourceLogProbs,
    aggregation: testCase.mode,
    normConstant: 8,
    ...(testCase.options === undefined ? {} : { options: testCase.options }),
    ...(testCase.offPolicy === undefined ? {} : { offPolicy: testCase.offPolicy }),
    ...(testCase.agent === undefined ? {} : { agent: testCase.agent }),
  });
}

function checkAgainstReference(testCase: Case, seed: number, mixedSources: boolean): void {
  const input = randomInput(seed, mixedSources);
  const result = run(testCase, input, input.logProbs);
  expect(result.value).toBeCloseTo(referenceValue(testCase, input, input.logProbs, input.logProbs), 10);
  const step = 1e-6;
  let checked = 0;
  for (let index = 0; index < B * T; index++) {
    if (input.lossMask[index] === 0) {
      expect(result.gradLogProbs[index]).toBe(0);
      continue;
    }
    const plus = Float64Array.from(input.logProbs);
    const minus = Float64Array.from(input.logProbs);
    plus[index] = (plus[index] as number) + step;
    minus[index] = (minus[index] as number) - step;
    const numeric =
      (referenceValue(testCase, input, plus, input.logProbs) - referenceValue(testCase, input, minus, input.logProbs)) /
      (2 * step);
    const analytic = result.gradLogProbs[index] as number;
    expect(Math.abs(analytic - numeric)).toBeLessThan(1e-6 + 1e-5 * Math.abs(numeric));
    checked++;
  }
  expect(checked).toBeGreaterThan(8);
}

describe('every loss x every aggregation mode: value = float64 reference, gradient = central differences', () => {
  const losses: Case[] = [
    { loss: 'ppo-clip', mode: 'token-mean' },
    {
      loss: 'ppo-clip',
      mode: 'token-mean',
      options: { clipEpsHigh: 0.28, dualClip: 1.3, gradientPreservingClip: true },
    },
    { loss: 'ppo-clip', mode: 'token-mean', options: { dualClip: 1.2 } },
    { loss: 'ppo-clip', mode: 'token-mean', options: { clip: false, dualClip: 1.2 } },
    { loss: 'gspo', mode: 'token-mean', options: { clipEpsLow: 0.05, clipEpsHigh: 0.08 } },
    {
      loss: 'gspo',
      mode: 'token-mean',
      options: { clipEpsLow: 0.05, clipEpsHigh: 0.08, gradientPreservingClip: true },
    },
    { loss: 'cispo', mode: 'token-mean' },
    { loss: 'sapo', mode: 'token-mean' },
    { loss: 'gmpo', mode: 'token-mean' },
    { loss: 'reinforce', mode: 'token-mean' },
    { loss: 'dppo', mode: 'token-mean' },
    { loss: 'ppo-clip', mode: 'token-mean', options: { advantageScale: 0.5, clipEpsHigh: 0.28 } },
    { loss: 'gspo', mode: 'token-mean', options: { advantageScale: 2, clipEpsLow: 0.05, clipEpsHigh: 0.08 } },
  ];
  for (const base of losses) {
    for (const mode of AGGREGATION_MODES) {
      const testCase = { ...base, mode };
      it(`${base.loss} ${JSON.stringify(base.options ?? {})} ${mode}`, () => {
        checkAgainstReference(testCase, 3, false);
        checkAgainstReference(testCase, 17, true);
      });
    }
  }
  const sourceCases: Case[] = [
    { loss: 'ppo-clip', mode: 'token-mean', offPolicy: { shaping: 'square_root' } },
    { loss: 'ppo-clip', mode: 'token-mean', offPolicy: { shaping: 'logp', advantageScale: 0.5 } },
    { loss: 'ppo-clip', mode: 'seq-mean-token-mean', offPolicy: { shaping: 'no_reshape', useSourceLogProbs: true } },
    { loss: 'ppo-clip', mode: 'token-mean', agent: { coefficient: 'p/(p+gamma)', gamma: 0.3, floor: 0.5 } },
    { loss: 'ppo-clip', mode: 'token-mean', agent: { floor: 0.4, pessimistic: false, weight: 0.7 } },
    { loss: 'ppo-clip', mode: 'seq-mean-token-sum', agent: { behaviour: 'source-log-probs', floor: 0.3 } },
    // a custom g(p) = p^2 with dg/dlogp = 2p^2
    {
      loss: 'ppo-clip',
      mode: 'token-mean',
      agent: { coefficient: (p: number) => ({ value: p * p, derivative: 2 * p * p }), floor: 0.2 },
    },
  ];
  for (const testCase of sourceCases) {
    const label = JSON.stringify(testCase.offPolicy ?? testCase.agent, (_key, value) =>
      typeof value === 'function' ? 'custom' : value,
    );
    it(`sources: ${label} ${testCase.mode}`, () => {
      checkAgainstReference(testCase, 5, true);
      checkAgainstReference(testCase, 23, true);
    });
  }
});

describe('edge cases (rl-frameworks.md §3.2)', () => {
  const input = randomInput(9, false);
  const base: PolicyLossInput = {
    loss: 'ppo-clip',
    batchSize: B,
    sequenceLength: T,
    logProbs: input.logProbs,
    oldLogProbs: input.oldLogProbs,
    advantages: input.advantages,
    lossMask: input.lossMask,
  };
  it('ratio overflow: a log-ratio of 100 is clamped to 20, stays finite, gets no gradient and is counted', () => {
    const old = Float64Array.from(input.oldLogProbs);
    old[0] = (input.logProbs[0] as number) - 100;
    const result = policyLoss({ ...base, oldLogProbs: old, options: { clip: false } });
    expect(Number.isFinite(result.value)).toBe(true);
    expect(result.gradLogProbs[0]).toBe(0);
    expect(result.diagnostics.ratioMax).toBeCloseTo(Math.exp(20), -2);
    expect(result.diagnostics.clampedTokenFraction).toBeGreaterThan(0);
    const gspo = policyLoss({
      ...base,
      loss: 'gspo',
      oldLogProbs: Float64Array.from(input.logProbs, (value) => value - 50),
    });
    expect(Number.isFinite(gspo.value)).toBe(true);
    expect(gspo.diagnostics.ratioMax).toBeCloseTo(Math.exp(10), -1);
  });
  it('-inf or NaN at a masked-in position is a NON_FINITE_INPUT error, never a NaN loss', () => {
    const logProbs = Float64Array.from(input.logProbs);
    logProbs[0] = Number.NEGATIVE_INFINITY;
    const error = expectAipoError(() => policyLoss({ ...base, logProbs }), 'NON_FINITE_INPUT');
    expect(error.message).toContain('logProbs[0,0]');
    const old = Float64Array.from(input.oldLogProbs);
    old[1] = Number.NaN;
    expectAipoError(() => policyLoss({ ...base, oldLogProbs: old }), 'NON_FINITE_INPUT');
    const advantages = Float64Array.from(input.advantages);
    advantages[0] = Number.NaN;
    expectAipoError(() => policyLoss({ ...base, advantages }), 'NON_FINITE_INPUT');
    const weights = new Float64Array(B * T).fill(1);
    weights[0] = Number.POSITIVE_INFINITY;
    expectAipoError(() => policyLoss({ ...base, isWeights: weights }), 'NON_FINITE_INPUT');
  });
  it('a positive log-prob is INVALID_ARGUMENT; shape mismatches are SHAPE_MISMATCH', () => {
    const logProbs = Float64Array.from(input.logProbs);
    logProbs[0] = 0.5;
    expectAipoError(() => policyLoss({ ...base, logProbs }), 'INVALID_ARGUMENT');
    expectAipoError(() => policyLoss({ ...base, lossMask: new Uint8Array(3) }), 'SHAPE_MISMATCH');
    expectAipoError(() => policyLoss({ ...base, oldLogProbs: new Float32Array(2) }), 'SHAPE_MISMATCH');
    expectAipoError(() => policyLoss({ ...base, sequenceAdvantages: new Float32Array(B) }), 'INVALID_ARGUMENT');
    expectAipoError(() => policyLoss({ ...base, options: { dualClip: 0.9 } }), 'INVALID_ARGUMENT');
    expectAipoError(() => policyLoss({ ...base, sourceMask: new Uint8Array(B * T).fill(7) }), 'INVALID_ARGUMENT');
    expectAipoError(
      () => policyLoss({ ...base, offPolicy: { shaping: 'p_div_p_0.9' as 'p_div_p_0.1' } }),
      'INVALID_ARGUMENT',
    );
  });
  it('an all-masked batch gives value 0 and zero gradients for every loss and mode', () => {
    for (const loss of policyLosses.list()) {
      for (const mode of AGGREGATION_MODES) {
        // clip-cov samples its detached tokens, so every loss gets an rng (the others ignore it)
        const result = policyLoss({ ...base, loss, aggregation: mode, lossMask: new Uint8Array(B * T), rng: createRng(1) });
        expect(result.value).toBe(0);
        expect(result.gradLogProbs.every((value) => value === 0)).toBe(true);
        expect(result.diagnostics.ratioMean).toBe(0);
      }
    }
  });
  it('on-policy (no oldLogProbs): r = 1, loss = -mean(A) = 0 for centred advantages, but the gradient is -A/N', () => {
    const advantages = Float64Array.from([1, 1, -1, -1]);
    const result = policyLoss({
      loss: 'ppo-clip',
      batchSize: 2,
      sequenceLength: 2,
      logProbs: Float64Array.from([-1, -2, -1, -2]),
      advantages,
      lossMask: new Uint8Array(4).fill(1),
    });
    expect(result.value).toBe(0);
    expect(Array.from(result.gradLogProbs)).toEqual([-0.25, -0.25, 0.25, 0.25]);
  });
  it('micro-batches with global counts reproduce the full-batch value and gradient', () => {
    for (const loss of ['ppo-clip', 'gspo', 'cispo']) {
      for (const mode of AGGREGATION_MODES) {
        const full = policyLoss({ ...base, loss, aggregation: mode });
        const counts = {
          globalTokenCount: full.diagnostics.tokenCount,
          globalSequenceCount: 3,
          aggregation: mode,
          loss,
        };
        const split = 2 * T;
        const slice = (start: number, end: number, rows: number): PolicyLossInput => ({
          ...base,
          ...counts,
          batchSize: rows,
          logProbs: input.logProbs.subarray(start, end),
          oldLogProbs: input.oldLogProbs.subarray(start, end),
          advantages: input.advantages.subarray(start, end),
          lossMask: input.lossMask.subarray(start, end),
        });
        const first = policyLoss(slice(0, split, 2));
        const second = policyLoss(slice(split, B * T, 2));
        expect(first.value + second.value).toBeCloseTo(full.value, 12);
        expect(Array.from(first.gradLogProbs)).toEqual(Array.from(full.gradLogProbs.subarray(0, split)));
        expect(Array.from(second.gradLogProbs)).toEqual(Array.from(full.gradLogProbs.subarray(split)));
      }
    }
  });
  it('tokenLosses aggregated with aggregateLoss give the same value', () => {
    for (const loss of policyLosses.list()) {
      const result = policyLoss({
        ...base,
        loss,
        aggregation: 'seq-mean-token-mean',
        returnTokenLosses: true,
        rng: createRng(2),
      });
      const again = aggregateLoss({
        values: result.tokenLosses as Float32Array,
        mask: input.lossMask,
        batchSize: B,
        sequenceLength: T,
        mode: 'seq-mean-token-mean',
      });
      expect(again.value).toBeCloseTo(result.value, 5);
    }
  });
  it('sequenceAdvantages [B] gives exactly the same result as broadcast advantages [B,T]', () => {
    const perSequence = Float64Array.from({ length: B }, (_, r) => input.advantages[r * T] as number);
    const broadcast = policyLoss(base);
    const compact = policyLoss({ ...base, advantages: undefined, sequenceAdvantages: perSequence });
    expect(compact.value).toBe(broadcast.value);
    expect(Array.from(compact.gradLogProbs)).toEqual(Array.from(broadcast.gradLogProbs));
  });
  it('diagnostics: approx KL is the mean of old - new over policy tokens', () => {
    const result = policyLoss(base);
    let sum = 0;
    let count = 0;
    for (let index = 0; index < B * T; index++) {
      if (input.lossMask[index] === 0) continue;
      sum += (input.oldLogProbs[index] as number) - (input.logProbs[index] as number);
      count++;
    }
    expect(result.diagnostics.approxKl).toBeCloseTo(sum / count, 12);
    expect(result.diagnostics.tokenCount).toBe(count);
    expect(result.diagnostics.clipFractionLow + result.diagnostics.clipFractionHigh).toBeGreaterThan(0);
  });
});

describe('policy loss registry', () => {
  it('lists the built-in losses', () => {
    expect(policyLosses.list()).toEqual([
      'ppo-clip',
      'gspo',
      'cispo',
      'sapo',
      'gmpo',
      'reinforce',
      'dppo',
      'clip-cov',
      'kl-cov',
      'vespo',
    ]);
    expect(builtinPolicyLosses.length).toBe(10);
  });
  it('an unknown name throws UNKNOWN_ENTRY listing the available ones', () => {
    const error = expectAipoError(() => policyLoss({ ...row([{}], 1), loss: 'vanilla' }), 'UNKNOWN_ENTRY');
    expect(error.message).toContain('ppo-clip, gspo, cispo');
  });
  it('a custom loss on a fresh registry runs through the same driver', () => {
    const registry = createPolicyLossRegistry().register('linear', {
      id: 'linear',
      description: 'test: l = -A * log r',
      ratioLevel: 'token',
      token(tokenInput, _options, out) {
        out.clip = 0;
        out.value = -tokenInput.advantage * Math.log(tokenInput.ratio);
        out.gradLogRatio = -tokenInput.advantage;
      },
    });
    const result = policyLoss({ ...row([{ logRatio: 0.5 }], 2), loss: 'linear', registry });
    expect(result.value).toBeCloseTo(-1, 12);
    expect(result.gradLogProbs[0]).toBeCloseTo(-2, 6);
  });
});

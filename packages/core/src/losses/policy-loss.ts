import { countRowLengths, planAggregation } from '../aggregation/aggregation-plan';
import { nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { TokenSource } from '../batch/token-source';
import { AipoError } from '../errors/aipo-error';
import { agentTokenLoss, resolveAgentOptions } from './agent-coefficient';
import { policyLosses } from './builtin';
import { resolveOffPolicyShaping, shapeProbability } from './off-policy-shaping';
import { ClipFlag, type PolicyLossDefinition, resolvePolicyLossOptions, type TokenLossInput, type TokenLossOutput } from './policy-loss-definition';
import type { PolicyLossDiagnostics, PolicyLossInput, PolicyLossResult } from './policy-loss-input';

/** Log-probs above this are rejected: a log-probability is <= 0 (float32 log-softmax may round to tiny positives). */
export const LOG_PROB_TOLERANCE = 1e-4;

/**
 * Evaluate a policy loss, its gradient with respect to every log-prob and its diagnostics, after
 * aggregation. The contract (issue 2): any autodiff framework backpropagates
 * `sum(stopGradient(gradLogProbs) * logProbs)`. Tokens are dispatched by source: policy tokens get the
 * chosen loss, off-policy trace tokens LUFFY's shaped weight, agent tokens AIPO's coefficient.
 * Sums run in float64; the only [B,T] allocation is the gradient (and `tokenLosses` on request).
 */
export function policyLoss(input: PolicyLossInput): PolicyLossResult {
  const definition = resolveLoss(input);
  const { batchSize, sequenceLength, logProbs, oldLogProbs, advantages, sequenceAdvantages, lossMask, sourceMask, isWeights, sourceLogProbs } = input;
  validateShapes(input);
  const options = resolvePolicyLossOptions(input.options);
  const shaping = resolveOffPolicyShaping(input.offPolicy);
  const agent = resolveAgentOptions(input.agent);
  const mode = input.aggregation ?? definition.defaultAggregation ?? 'token-mean';
  const rowLengths = countRowLengths(lossMask, batchSize, sequenceLength);
  const plan = planAggregation({ ...input, mode, rowLengths, sequenceLength });
  const tokens = batchSize * sequenceLength;
  const gradLogProbs = new Float32Array(tokens);
  const tokenLosses = input.returnTokenLosses ? new Float32Array(tokens) : undefined;
  const sequenceLevel = definition.ratioLevel === 'sequence';
  const tokenInput: TokenLossInput = { ratio: 1, advantage: 0, logProb: 0 };
  const out: TokenLossOutput = { value: 0, gradLogRatio: 0, clip: 0 };
  const stats = newStats();
  let value = 0;
  for (let row = 0; row < batchSize; row++) {
    if (rowLengths[row] === 0) continue;
    const factor = plan.rowFactors[row] as number;
    const offset = row * sequenceLength;
    const rowAdvantage = sequenceAdvantages === undefined ? 0 : (sequenceAdvantages[row] as number);
    if (sequenceAdvantages !== undefined && rowAdvantage - rowAdvantage !== 0) {
      throw new AipoError({ code: 'NON_FINITE_INPUT', message: `sequenceAdvantages[${row}] is ${rowAdvantage}`, details: { row } });
    }
    // sequence-level ratio s_i = exp(mean over policy tokens of (transformed) log r), clamped in log space
    let sequenceLogRatio = 0;
    let sequencePolicyTokens = 0;
    let sequenceClamped = false;
    if (sequenceLevel) {
      for (let index = offset; index < offset + sequenceLength; index++) {
        if (lossMask[index] === 0 || (sourceMask !== undefined && sourceMask[index] !== TokenSource.policy)) continue;
        const logRatio = tokenLogRatio(logProbs, oldLogProbs, index, sequenceLength);
        const advantage = advantages === undefined ? rowAdvantage : (advantages[index] as number);
        sequenceLogRatio += definition.sequenceLogRatio === undefined ? logRatio : definition.sequenceLogRatio(logRatio, advantage, options, out);
        sequencePolicyTokens++;
      }
      if (sequencePolicyTokens > 0) sequenceLogRatio /= sequencePolicyTokens;
      if (Math.abs(sequenceLogRatio) > options.sequenceLogRatioClamp) {
        sequenceLogRatio = Math.sign(sequenceLogRatio) * options.sequenceLogRatioClamp;
        sequenceClamped = true;
      }
    }
    const sequenceRatio = Math.exp(sequenceLogRatio);
    let rowValue = 0;
    let sequenceGradient = 0;
    for (let index = offset; index < offset + sequenceLength; index++) {
      if (lossMask[index] === 0) continue;
      const advantage = advantages === undefined ? rowAdvantage : (advantages[index] as number);
      if (advantage - advantage !== 0) throw nonFiniteError('advantages', index, advantage, sequenceLength);
      const logProb = logProbs[index] as number;
      if (!(logProb <= LOG_PROB_TOLERANCE)) throw badLogProb(index, logProb, sequenceLength);
      let weight = 1;
      if (isWeights !== undefined) {
        weight = isWeights[index] as number;
        if (!(weight >= 0 && weight < Number.POSITIVE_INFINITY)) throw nonFiniteError('isWeights', index, weight, sequenceLength);
      }
      const source = sourceMask === undefined ? TokenSource.policy : (sourceMask[index] as number);
      let tokenValue: number;
      if (source === TokenSource.policy) {
        let logRatio = tokenLogRatio(logProbs, oldLogProbs, index, sequenceLength);
        stats.klSum -= logRatio;
        let clamped = false;
        if (sequenceLevel) {
          tokenInput.ratio = sequenceRatio;
          clamped = sequenceClamped;
        } else {
          if (logRatio > options.logRatioClamp || logRatio < -options.logRatioClamp) {
            logRatio = logRatio > 0 ? options.logRatioClamp : -options.logRatioClamp;
            clamped = true;
          }
          tokenInput.ratio = Math.exp(logRatio);
        }
        tokenInput.advantage = advantage;
        tokenInput.logProb = logProb;
        definition.token(tokenInput, options, out);
        tokenValue = out.value * weight;
        const gradient = clamped ? 0 : out.gradLogRatio * weight * factor;
        if (sequenceLevel) sequenceGradient += gradient;
        else gradLogProbs[index] = gradient;
        recordPolicyToken(stats, tokenInput.ratio, out.clip, clamped);
        stats.policyValue += factor * tokenValue;
      } else if (source === TokenSource.offPolicy) {
        const logP = shaping.useSourceLogProbs ? logProb - sourceLogProb(sourceLogProbs, index, sequenceLength) : logProb;
        shapeProbability(Math.min(logP, options.logRatioClamp), shaping, out);
        stats.offPolicyWeightSum += out.value;
        stats.offPolicyTokens++;
        const scaled = -shaping.advantageScale * advantage;
        tokenValue = scaled * out.value * weight;
        gradLogProbs[index] = logP > options.logRatioClamp ? 0 : scaled * out.gradLogRatio * weight * factor;
        stats.offPolicyValue += factor * tokenValue;
      } else if (source === TokenSource.agent) {
        const logP = agent.useSourceLogProbs ? logProb - sourceLogProb(sourceLogProbs, index, sequenceLength) : logProb;
        agentTokenLoss({ logP: Math.min(logP, options.logRatioClamp), advantage }, agent, out);
        stats.agentTokens++;
        stats.agentFloorTokens += out.clip;
        tokenValue = out.value * weight;
        gradLogProbs[index] = logP > options.logRatioClamp ? 0 : out.gradLogRatio * weight * factor;
        stats.agentValue += factor * tokenValue;
      } else {
        throw new AipoError({
          code: 'INVALID_ARGUMENT',
          message: `sourceMask has unknown token source ${source} at index ${index} (TokenSource: 0 policy, 1 offPolicy, 2 agent)`,
          details: { index, source },
        });
      }
      rowValue += tokenValue;
      if (tokenLosses !== undefined) tokenLosses[index] = tokenValue;
    }
    value += factor * rowValue;
    if (sequenceLevel && sequencePolicyTokens > 0) {
      // ∂log s/∂logπ_u = passes_u / n_policy, so the row's summed ∂l/∂log s spreads evenly
      const share = sequenceGradient / sequencePolicyTokens;
      for (let index = offset; index < offset + sequenceLength; index++) {
        if (lossMask[index] === 0 || (sourceMask !== undefined && sourceMask[index] !== TokenSource.policy)) continue;
        if (definition.sequenceLogRatio !== undefined) {
          const advantage = advantages === undefined ? rowAdvantage : (advantages[index] as number);
          definition.sequenceLogRatio(tokenLogRatio(logProbs, oldLogProbs, index, sequenceLength), advantage, options, out);
          if (out.clip !== ClipFlag.none) continue;
        }
        gradLogProbs[index] = share;
      }
    }
  }
  return {
    value,
    gradLogProbs,
    diagnostics: summarize(stats, plan.tokenCount),
    ...(tokenLosses === undefined ? {} : { tokenLosses }),
  };
}

function resolveLoss(input: PolicyLossInput): PolicyLossDefinition {
  return typeof input.loss === 'string' ? (input.registry ?? policyLosses).get(input.loss) : input.loss;
}

function validateShapes(input: PolicyLossInput): void {
  const { batchSize, sequenceLength } = input;
  assertBatchShape({
    batchSize,
    sequenceLength,
    logProbs: input.logProbs,
    lossMask: input.lossMask,
    sourceMask: input.sourceMask,
    ...(input.oldLogProbs === undefined ? {} : { oldLogProbs: input.oldLogProbs }),
  });
  const tokens = batchSize * sequenceLength;
  assertLength('logProbs', input.logProbs, tokens);
  assertLength('lossMask', input.lossMask, tokens);
  assertLength('advantages', input.advantages, tokens);
  assertLength('sequenceAdvantages', input.sequenceAdvantages, batchSize);
  assertLength('isWeights', input.isWeights, tokens);
  assertLength('sourceLogProbs', input.sourceLogProbs, tokens);
  if ((input.advantages === undefined) === (input.sequenceAdvantages === undefined)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'pass exactly one of advantages [B,T] or sequenceAdvantages [B]' });
  }
}

function tokenLogRatio(logProbs: FloatArray, oldLogProbs: FloatArray | undefined, index: number, sequenceLength: number): number {
  if (oldLogProbs === undefined) return 0;
  const logRatio = (logProbs[index] as number) - (oldLogProbs[index] as number);
  if (logRatio - logRatio !== 0) {
    const bad = oldLogProbs[index] as number;
    throw bad - bad !== 0 ? nonFiniteError('oldLogProbs', index, bad, sequenceLength) : nonFiniteError('logProbs', index, logProbs[index] as number, sequenceLength);
  }
  return logRatio;
}

function sourceLogProb(sourceLogProbs: FloatArray | undefined, index: number, sequenceLength: number): number {
  if (sourceLogProbs === undefined) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'sourceLogProbs [B,T] are required when the behaviour probability comes from them' });
  }
  const value = sourceLogProbs[index] as number;
  if (value - value !== 0) throw nonFiniteError('sourceLogProbs', index, value, sequenceLength);
  return value;
}

function badLogProb(index: number, logProb: number, sequenceLength: number): AipoError {
  if (logProb - logProb !== 0) return nonFiniteError('logProbs', index, logProb, sequenceLength);
  const row = Math.floor(index / sequenceLength);
  return new AipoError({
    code: 'INVALID_ARGUMENT',
    message: `logProbs[${row},${index - row * sequenceLength}] is ${logProb} > 0: a log-probability cannot be positive`,
    details: { row, column: index - row * sequenceLength, value: logProb },
  });
}

interface LossStats {
  policyTokens: number;
  clipLow: number;
  clipHigh: number;
  clipDual: number;
  clamped: number;
  ratioSum: number;
  ratioMin: number;
  ratioMax: number;
  klSum: number;
  offPolicyTokens: number;
  offPolicyWeightSum: number;
  agentTokens: number;
  agentFloorTokens: number;
  policyValue: number;
  offPolicyValue: number;
  agentValue: number;
}

function newStats(): LossStats {
  return {
    policyTokens: 0,
    clipLow: 0,
    clipHigh: 0,
    clipDual: 0,
    clamped: 0,
    ratioSum: 0,
    ratioMin: Number.POSITIVE_INFINITY,
    ratioMax: Number.NEGATIVE_INFINITY,
    klSum: 0,
    offPolicyTokens: 0,
    offPolicyWeightSum: 0,
    agentTokens: 0,
    agentFloorTokens: 0,
    policyValue: 0,
    offPolicyValue: 0,
    agentValue: 0,
  };
}

function recordPolicyToken(stats: LossStats, ratio: number, clip: number, clamped: boolean): void {
  stats.policyTokens++;
  stats.ratioSum += ratio;
  if (ratio < stats.ratioMin) stats.ratioMin = ratio;
  if (ratio > stats.ratioMax) stats.ratioMax = ratio;
  if (clip === ClipFlag.low) stats.clipLow++;
  else if (clip === ClipFlag.high) stats.clipHigh++;
  else if (clip === ClipFlag.dual) stats.clipDual++;
  if (clamped) stats.clamped++;
}

/** Turn raw counters into the public diagnostics (every ratio guarded: 0 instead of 0/0). */
export function summarize(stats: LossStats, tokenCount: number): PolicyLossDiagnostics {
  const policy = stats.policyTokens;
  const perPolicy = (count: number) => (policy > 0 ? count / policy : 0);
  return {
    tokenCount,
    policyTokenCount: policy,
    offPolicyTokenCount: stats.offPolicyTokens,
    agentTokenCount: stats.agentTokens,
    clipFractionLow: perPolicy(stats.clipLow),
    clipFractionHigh: perPolicy(stats.clipHigh),
    dualClipFraction: perPolicy(stats.clipDual),
    ratioMean: perPolicy(stats.ratioSum),
    ratioMin: policy > 0 ? stats.ratioMin : 0,
    ratioMax: policy > 0 ? stats.ratioMax : 0,
    approxKl: perPolicy(stats.klSum),
    clampedTokenFraction: perPolicy(stats.clamped),
    offPolicyWeightMean: stats.offPolicyTokens > 0 ? stats.offPolicyWeightSum / stats.offPolicyTokens : 0,
    agentFloorFraction: stats.agentTokens > 0 ? stats.agentFloorTokens / stats.agentTokens : 0,
    valueBySource: { policy: stats.policyValue, offPolicy: stats.offPolicyValue, agent: stats.agentValue },
  };
}

export { newStats, recordPolicyToken, type LossStats };

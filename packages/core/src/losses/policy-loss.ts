import { countRowLengths, planAggregation } from '../aggregation/aggregation-plan';
import { nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { TokenSource } from '../batch/token-source';
import { AipoError } from '../errors/aipo-error';
import { fastExp } from '../math/fast-exp';
import { agentTokenLoss, resolveAgentOptions } from './agent-coefficient';
import { policyLosses } from './builtin';
import { badLogProbError, LOG_PROB_TOLERANCE } from './log-prob-error';
import {
  addStat,
  newStats,
  recordPolicyToken,
  STAT_AGENT_FLOOR_TOKENS,
  STAT_AGENT_TOKENS,
  STAT_AGENT_VALUE,
  STAT_KL_SUM,
  STAT_OFF_POLICY_TOKENS,
  STAT_OFF_POLICY_VALUE,
  STAT_OFF_POLICY_WEIGHT_SUM,
  STAT_POLICY_VALUE,
  summarize,
} from './loss-stats';
import { resolveOffPolicyShaping, shapeProbability } from './off-policy-shaping';
import {
  CLIP_NONE,
  type PolicyLossDefinition,
  resolvePolicyLossOptions,
  type TokenLossInput,
  type TokenLossOutput,
} from './policy-loss-definition';
import type { PolicyLossInput, PolicyLossResult } from './policy-loss-input';

export { LOG_PROB_TOLERANCE } from './log-prob-error';

const SOURCE_POLICY: number = TokenSource.policy;
const SOURCE_OFF_POLICY: number = TokenSource.offPolicy;
const SOURCE_AGENT: number = TokenSource.agent;

/** Scratch objects whose number fields are doubles from birth, so their hidden class never changes. */
class TokenScratch implements TokenLossInput {
  ratio = 0.5;
  advantage = 0.5;
  logProb = -0.5;
  batchTerm = 0.5;
}

class OutputScratch implements TokenLossOutput {
  value = 0.5;
  gradLogRatio = 0.5;
  clip = 0;
}

/**
 * Evaluate a policy loss, its gradient with respect to every log-prob and its diagnostics, after
 * aggregation. The contract (issue 2): any autodiff framework backpropagates
 * `sum(stopGradient(gradLogProbs) * logProbs)`. Tokens are dispatched by source: policy tokens get the
 * chosen loss, off-policy trace tokens LUFFY's shaped weight, agent tokens AIPO's coefficient.
 * Sums run in float64; the only [B,T] allocation is the gradient (and `tokenLosses` on request).
 */
export function policyLoss(input: PolicyLossInput): PolicyLossResult {
  const definition = resolveLoss(input);
  const {
    batchSize,
    sequenceLength,
    logProbs,
    oldLogProbs,
    advantages,
    sequenceAdvantages,
    lossMask,
    sourceMask,
    sourceLogProbs,
  } = input;
  validateShapes(input);
  const options = resolvePolicyLossOptions(input.options);
  const batchPlan = definition.prepareBatch?.({ input, options });
  const tokens = batchSize * sequenceLength;
  assertLength(`${definition.id} pre-pass isWeights`, batchPlan?.isWeights, tokens);
  assertLength(`${definition.id} pre-pass tokenTerms`, batchPlan?.tokenTerms, tokens);
  const isWeights = batchPlan?.isWeights ?? input.isWeights;
  const tokenTerms = batchPlan?.tokenTerms;
  const shaping = resolveOffPolicyShaping(input.offPolicy);
  const agent = resolveAgentOptions(input.agent);
  const mode = input.aggregation ?? definition.defaultAggregation ?? 'token-mean';
  if (
    definition.fusedTokenMean !== undefined &&
    input.fastPath !== false &&
    mode === 'token-mean' &&
    oldLogProbs !== undefined &&
    sourceMask === undefined &&
    isWeights === undefined &&
    batchPlan === undefined &&
    !input.returnTokenLosses
  ) {
    return definition.fusedTokenMean({
      batchSize,
      sequenceLength,
      logProbs,
      oldLogProbs,
      advantages,
      sequenceAdvantages,
      lossMask,
      options,
      globalTokenCount: input.globalTokenCount,
      logProbTolerance: LOG_PROB_TOLERANCE,
      gradientBuffer: input.gradientBuffer,
      simd: input.simd !== false,
    });
  }
  const rowLengths = countRowLengths(lossMask, batchSize, sequenceLength);
  const plan = planAggregation({ ...input, mode, rowLengths, sequenceLength });
  const gradLogProbs = input.gradientBuffer === undefined ? new Float32Array(tokens) : input.gradientBuffer.fill(0);
  const tokenLosses = input.returnTokenLosses ? new Float32Array(tokens) : undefined;
  const sequenceLevel = definition.ratioLevel === 'sequence';
  const tokenInput: TokenLossInput = new TokenScratch();
  const out: TokenLossOutput = new OutputScratch();
  const stats = newStats();
  let value = 0;
  for (let row = 0; row < batchSize; row++) {
    if (rowLengths[row] === 0) continue;
    const factor = plan.rowFactors[row] as number;
    const offset = row * sequenceLength;
    const rowAdvantage = sequenceAdvantages === undefined ? 0 : (sequenceAdvantages[row] as number);
    if (sequenceAdvantages !== undefined && !Number.isFinite(rowAdvantage)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `sequenceAdvantages[${row}] is ${rowAdvantage}`,
        details: { row },
      });
    }
    // sequence-level ratio s_i = exp(mean over policy tokens of (transformed) log r), clamped in log space
    let sequenceLogRatio = 0;
    let sequencePolicyTokens = 0;
    let sequenceClamped = false;
    if (sequenceLevel) {
      for (let index = offset; index < offset + sequenceLength; index++) {
        if (lossMask[index] === 0 || (sourceMask !== undefined && sourceMask[index] !== SOURCE_POLICY)) continue;
        const logRatio = tokenLogRatio(logProbs, oldLogProbs, index, sequenceLength);
        const advantage = advantages === undefined ? rowAdvantage : (advantages[index] as number);
        sequenceLogRatio +=
          definition.sequenceLogRatio === undefined
            ? logRatio
            : definition.sequenceLogRatio(logRatio, advantage, options, out);
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
      if (!Number.isFinite(advantage)) throw nonFiniteError('advantages', index, advantage, sequenceLength);
      const logProb = logProbs[index] as number;
      if (!(logProb <= LOG_PROB_TOLERANCE)) throw badLogProbError(index, logProb, sequenceLength);
      let weight = 1;
      if (isWeights !== undefined) {
        weight = isWeights[index] as number;
        if (!(weight >= 0 && weight < Number.POSITIVE_INFINITY))
          throw nonFiniteError('isWeights', index, weight, sequenceLength);
      }
      const source = sourceMask === undefined ? SOURCE_POLICY : (sourceMask[index] as number);
      let tokenValue: number;
      if (source === SOURCE_POLICY) {
        let logRatio = tokenLogRatio(logProbs, oldLogProbs, index, sequenceLength);
        addStat(stats, STAT_KL_SUM, -logRatio);
        let clamped = false;
        if (sequenceLevel) {
          tokenInput.ratio = sequenceRatio;
          clamped = sequenceClamped;
        } else {
          if (logRatio > options.logRatioClamp || logRatio < -options.logRatioClamp) {
            logRatio = logRatio > 0 ? options.logRatioClamp : -options.logRatioClamp;
            clamped = true;
          }
          tokenInput.ratio = fastExp(logRatio);
        }
        tokenInput.advantage = options.advantageScale * advantage;
        tokenInput.logProb = logProb;
        tokenInput.batchTerm = tokenTerms === undefined ? 0 : (tokenTerms[index] as number);
        definition.token(tokenInput, options, out);
        tokenValue = out.value * weight;
        const gradient = clamped ? 0 : out.gradLogRatio * weight * factor;
        if (sequenceLevel) sequenceGradient += gradient;
        else gradLogProbs[index] = gradient;
        recordPolicyToken(stats, tokenInput.ratio, out.clip, clamped);
        addStat(stats, STAT_POLICY_VALUE, factor * tokenValue);
      } else if (source === SOURCE_OFF_POLICY) {
        const logP = shaping.useSourceLogProbs
          ? logProb - sourceLogProb(sourceLogProbs, index, sequenceLength)
          : logProb;
        shapeProbability(Math.min(logP, options.logRatioClamp), shaping, out);
        addStat(stats, STAT_OFF_POLICY_WEIGHT_SUM, out.value);
        addStat(stats, STAT_OFF_POLICY_TOKENS, 1);
        const scaled = -shaping.advantageScale * advantage;
        tokenValue = scaled * out.value * weight;
        gradLogProbs[index] = logP > options.logRatioClamp ? 0 : scaled * out.gradLogRatio * weight * factor;
        addStat(stats, STAT_OFF_POLICY_VALUE, factor * tokenValue);
      } else if (source === SOURCE_AGENT) {
        const logP = agent.useSourceLogProbs ? logProb - sourceLogProb(sourceLogProbs, index, sequenceLength) : logProb;
        agentTokenLoss({ logP: Math.min(logP, options.logRatioClamp), advantage }, agent, out);
        addStat(stats, STAT_AGENT_TOKENS, 1);
        addStat(stats, STAT_AGENT_FLOOR_TOKENS, out.clip);
        tokenValue = out.value * weight;
        gradLogProbs[index] = logP > options.logRatioClamp ? 0 : out.gradLogRatio * weight * factor;
        addStat(stats, STAT_AGENT_VALUE, factor * tokenValue);
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
        if (lossMask[index] === 0 || (sourceMask !== undefined && sourceMask[index] !== SOURCE_POLICY)) continue;
        if (definition.sequenceLogRatio !== undefined) {
          const advantage = advantages === undefined ? rowAdvantage : (advantages[index] as number);
          definition.sequenceLogRatio(
            tokenLogRatio(logProbs, oldLogProbs, index, sequenceLength),
            advantage,
            options,
            out,
          );
          if (out.clip !== CLIP_NONE) continue;
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
    ...(batchPlan?.statistics === undefined ? {} : { batchStatistics: batchPlan.statistics }),
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
  assertLength('gradientBuffer', input.gradientBuffer, tokens);
  if ((input.advantages === undefined) === (input.sequenceAdvantages === undefined)) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: 'pass exactly one of advantages [B,T] or sequenceAdvantages [B]',
    });
  }
}

function tokenLogRatio(
  logProbs: FloatArray,
  oldLogProbs: FloatArray | undefined,
  index: number,
  sequenceLength: number,
): number {
  if (oldLogProbs === undefined) return 0;
  const logRatio = (logProbs[index] as number) - (oldLogProbs[index] as number);
  if (!Number.isFinite(logRatio)) {
    const bad = oldLogProbs[index] as number;
    throw !Number.isFinite(bad)
      ? nonFiniteError('oldLogProbs', index, bad, sequenceLength)
      : nonFiniteError('logProbs', index, logProbs[index] as number, sequenceLength);
  }
  return logRatio;
}

function sourceLogProb(sourceLogProbs: FloatArray | undefined, index: number, sequenceLength: number): number {
  if (sourceLogProbs === undefined) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: 'sourceLogProbs [B,T] are required when the behaviour probability comes from them',
    });
  }
  const value = sourceLogProbs[index] as number;
  if (!Number.isFinite(value)) throw nonFiniteError('sourceLogProbs', index, value, sequenceLength);
  return value;
}

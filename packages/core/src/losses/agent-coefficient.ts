import { assertNumber } from '../batch/assert-finite';
import { AipoError } from '../errors/aipo-error';
import { type ResolvedShaping, shapeProbability } from './off-policy-shaping';

/**
 * AIPO's coefficient for agent-inserted tokens (arXiv 2605.08401; algorithms.md §1.3-§1.4, §4).
 * The agent's behaviour probability is unknown, so the IS weight is g(π_θ) against an assumed
 * probability of 1 (or the agent's own log-prob). π_θ of a foreign token is often ≈0, which makes
 * π·∇logπ vanish, so a gradient-preserving floor c_min keeps it learning:
 *   l = λ * max(-A*g, -A*max(g, c_min)_gp)    (pessimistic; the floor binds only when A < 0)
 *   l = λ * -A*max(g, c_min)_gp                (pessimistic = false)
 * where max(g, c_min)_gp has value c_min and gradient c_min*∇logπ below the floor.
 */
/** A custom g: its value at p (π_θ over the behaviour probability) and dg/dlogπ there. */
export type AgentCoefficientFunction = (p: number) => { value: number; derivative: number };

export interface AgentTokenOptions {
  /** g: 'identity' (g = p, the prototype), 'p/(p+gamma)' (LUFFY shaping) or a custom function; default 'identity' */
  coefficient?: 'identity' | 'p/(p+gamma)' | AgentCoefficientFunction;
  /** gamma of the 'p/(p+gamma)' coefficient; default 0.1 */
  gamma?: number;
  /** behaviour probability: 'one' (assumed 1) or 'source-log-probs' (the agent's own log-probs); default 'one' */
  behaviour?: 'one' | 'source-log-probs';
  /** gradient-preserving floor c_min; 0 disables it; default 0.1 (prototype) */
  floor?: number;
  /** pessimistic max combination with the unfloored term; default true */
  pessimistic?: boolean;
  /** weight λ of the agent-token term; default 1 */
  weight?: number;
}

export interface ResolvedAgentOptions {
  shaping: ResolvedShaping;
  custom: AgentCoefficientFunction | undefined;
  useSourceLogProbs: boolean;
  floor: number;
  pessimistic: boolean;
  weight: number;
}

export function resolveAgentOptions(options: AgentTokenOptions = {}): ResolvedAgentOptions {
  const coefficient = options.coefficient ?? 'identity';
  const custom = typeof coefficient === 'function' ? coefficient : undefined;
  if (custom === undefined && coefficient !== 'identity' && coefficient !== 'p/(p+gamma)') {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `unknown agent coefficient "${String(coefficient)}" (available: identity, p/(p+gamma))`,
    });
  }
  const behaviour = options.behaviour ?? 'one';
  if (behaviour !== 'one' && behaviour !== 'source-log-probs') {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `unknown agent behaviour "${String(behaviour)}" (available: one, source-log-probs)`,
    });
  }
  const gamma = options.gamma ?? 0.1;
  assertNumber('agent.gamma', gamma, (value) => value > 0, '> 0');
  const floor = options.floor ?? 0.1;
  assertNumber('agent.floor', floor, (value) => value >= 0, '>= 0');
  const weight = options.weight ?? 1;
  assertNumber('agent.weight', weight, (value) => value >= 0, '>= 0');
  return {
    shaping: {
      fn: coefficient === 'p/(p+gamma)' ? 'p/(p+gamma)' : 'p',
      gamma,
      exponent: 1,
      useSourceLogProbs: behaviour === 'source-log-probs',
      advantageScale: 1,
      weightMin: Number.NEGATIVE_INFINITY,
      weightMax: Number.POSITIVE_INFINITY,
    },
    custom,
    useSourceLogProbs: behaviour === 'source-log-probs',
    floor,
    pessimistic: options.pessimistic ?? true,
    weight,
  };
}

/** The agent-token loss and ∂/∂logπ; out.clip = 1 when the floor term is the one used. */
export function agentTokenLoss(
  input: { logP: number; advantage: number },
  options: ResolvedAgentOptions,
  out: { value: number; gradLogRatio: number; clip: number },
): void {
  if (options.custom === undefined) {
    shapeProbability(input.logP, options.shaping, out);
  } else {
    const { value, derivative } = options.custom(Math.exp(input.logP));
    if (!Number.isFinite(value) || !Number.isFinite(derivative)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `the custom agent coefficient returned ${value} / ${derivative}`,
      });
    }
    out.value = value;
    out.gradLogRatio = derivative;
  }
  const coefficient = out.value;
  const { advantage } = input;
  let value = -advantage * coefficient;
  let gradient = -advantage * out.gradLogRatio;
  out.clip = 0;
  if (coefficient < options.floor) {
    const floored = -advantage * options.floor;
    if (!options.pessimistic || floored > value) {
      value = floored;
      gradient = floored;
      out.clip = 1;
    }
  }
  out.value = options.weight * value;
  out.gradLogRatio = options.weight * gradient;
}

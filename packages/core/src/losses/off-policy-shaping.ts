import { assertNumber } from '../batch/assert-finite';
import { AipoError } from '../errors/aipo-error';

/**
 * LUFFY's regularised importance sampling for off-policy trace tokens (arXiv 2504.14945,
 * `mix_core_alg.py` `compute_token_on_off_policy_loss`): l = -A * f(p) with p = π_θ(token) over an
 * assumed behaviour probability of 1 (or the teacher's probability when its log-probs are given).
 * f(p) = p/(p+γ) gives low-probability tokens ~1/γ times the weight of plain p (algorithms.md §3.3).
 */
export type ShapingFunction = 'p/(p+gamma)' | 'p' | 'log-p' | 'sqrt-p' | 'pow';

export interface OffPolicyShapingOptions {
  /** a preset name from `luffyShapingPresets` or an explicit function; default 'p_div_p_0.1' (LUFFY's recipe) */
  shaping?: keyof typeof luffyShapingPresets | { fn: ShapingFunction; gamma?: number; exponent?: number };
  /** use `sourceLogProbs` as the teacher's log-probs: p = π_θ/π_teacher; default false (behaviour prob 1) */
  useSourceLogProbs?: boolean;
  /** scales the advantage of off-policy tokens (LUFFY `prefix_reward_weight_beta`); default 1 */
  advantageScale?: number;
  /** optional lower clamp of f(p) (no gradient below it) */
  weightMin?: number;
  /** optional upper clamp of f(p) (no gradient above it) */
  weightMax?: number;
}

/** LUFFY's named reshaping options (`off_policy_reshape`), as presets. */
export const luffyShapingPresets = {
  'p_div_p_0.1': { fn: 'p/(p+gamma)', gamma: 0.1 },
  'p_div_p_0.3': { fn: 'p/(p+gamma)', gamma: 0.3 },
  'p_div_p_0.5': { fn: 'p/(p+gamma)', gamma: 0.5 },
  no_reshape: { fn: 'p' },
  logp: { fn: 'log-p' },
  square_root: { fn: 'sqrt-p' },
} as const satisfies Record<string, { fn: ShapingFunction; gamma?: number }>;

export interface ResolvedShaping {
  fn: ShapingFunction;
  gamma: number;
  exponent: number;
  useSourceLogProbs: boolean;
  advantageScale: number;
  weightMin: number;
  weightMax: number;
}

const SHAPING_FUNCTIONS: readonly ShapingFunction[] = ['p/(p+gamma)', 'p', 'log-p', 'sqrt-p', 'pow'];

export function resolveOffPolicyShaping(options: OffPolicyShapingOptions = {}): ResolvedShaping {
  const shaping = options.shaping ?? 'p_div_p_0.1';
  let spec: { fn: ShapingFunction; gamma?: number; exponent?: number };
  if (typeof shaping === 'string') {
    const preset = (luffyShapingPresets as Record<string, { fn: ShapingFunction; gamma?: number }>)[shaping];
    if (preset === undefined) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `unknown off-policy shaping preset "${shaping}" (available: ${Object.keys(luffyShapingPresets).join(', ')})`,
      });
    }
    spec = preset;
  } else {
    spec = shaping;
  }
  if (!SHAPING_FUNCTIONS.includes(spec.fn)) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `unknown shaping function "${String(spec.fn)}" (available: ${SHAPING_FUNCTIONS.join(', ')})`,
    });
  }
  const gamma = spec.gamma ?? 0.1;
  assertNumber('shaping.gamma', gamma, (value) => value > 0, '> 0');
  if (spec.fn === 'pow' && spec.exponent === undefined) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: "shaping 'pow' needs an exponent (f(p) = p^exponent)" });
  }
  const exponent = spec.exponent ?? 1;
  assertNumber('shaping.exponent', exponent, (value) => value > 0, '> 0');
  const advantageScale = options.advantageScale ?? 1;
  assertNumber('advantageScale', advantageScale, () => true, 'finite');
  const weightMin = options.weightMin ?? Number.NEGATIVE_INFINITY;
  const weightMax = options.weightMax ?? Number.POSITIVE_INFINITY;
  if (!(weightMin < weightMax)) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `weightMin (${weightMin}) must be below weightMax (${weightMax})`,
    });
  }
  return {
    fn: spec.fn,
    gamma,
    exponent,
    useSourceLogProbs: options.useSourceLogProbs ?? false,
    advantageScale,
    weightMin,
    weightMax,
  };
}

/**
 * f(p) and df/dlogπ for log p = `logP` (already relative to the behaviour probability). Writes the
 * value into out.value and the derivative into out.gradLogRatio.
 */
export function shapeProbability(
  logP: number,
  shaping: ResolvedShaping,
  out: { value: number; gradLogRatio: number },
): void {
  const p = Math.exp(logP);
  switch (shaping.fn) {
    case 'p/(p+gamma)': {
      const denominator = p + shaping.gamma;
      out.value = p / denominator;
      out.gradLogRatio = (shaping.gamma * p) / (denominator * denominator);
      break;
    }
    case 'p':
      out.value = p;
      out.gradLogRatio = p;
      break;
    case 'log-p':
      out.value = logP;
      out.gradLogRatio = 1;
      break;
    case 'sqrt-p': {
      const root = Math.sqrt(p);
      out.value = root;
      out.gradLogRatio = root / 2;
      break;
    }
    case 'pow': {
      const powered = p ** shaping.exponent;
      out.value = powered;
      out.gradLogRatio = shaping.exponent * powered;
      break;
    }
  }
  if (out.value < shaping.weightMin) {
    out.value = shaping.weightMin;
    out.gradLogRatio = 0;
  } else if (out.value > shaping.weightMax) {
    out.value = shaping.weightMax;
    out.gradLogRatio = 0;
  }
}

/**
 * Per-token KL estimators of KL(π_θ ‖ π_ref) from x = log π_θ(token) − log π_ref(token), the
 * "k1/k2/k3" family of Schulman's note "Approximating KL Divergence" (2020,
 * http://joschu.net/blog/kl-approx.html), under verl's names (core_algos.py `kl_penalty`).
 */
export interface KlEstimator {
  /** registry name, e.g. 'k3' */
  readonly name: string;
  /** one line for `aipo list` */
  readonly description: string;
  /** |x| is clamped to this before evaluating (∂ = 0 outside); undefined = no clamp */
  readonly logRatioClamp?: number;
  /** the estimate is clamped to ±this (∂ = 0 where it binds); undefined = no clamp */
  readonly valueClamp?: number;
  /** kl(x) */
  value(x: number): number;
  /** ∂kl/∂x, which equals ∂kl/∂log π_θ because ∂x/∂log π_θ = 1 */
  derivative(x: number): number;
  /** straight-through: the value comes from this estimator, the gradient from that one */
  readonly gradientFrom?: KlEstimator;
}

/** k1 = x: unbiased for the KL value, but its gradient is zero in expectation (§3.2 item 9). */
export const k1Estimator: KlEstimator = {
  name: 'k1',
  description: 'k1 = log π − log π_ref (unbiased value, zero-mean gradient)',
  value: (x) => x,
  derivative: () => 1,
};

/** abs = |x| (verl `abs`); the subgradient at 0 is taken as 0. */
export const absEstimator: KlEstimator = {
  name: 'abs',
  description: 'abs = |log π − log π_ref|',
  value: (x) => Math.abs(x),
  derivative: (x) => Math.sign(x),
};

/** k2 = ½x² (verl `mse`): biased value, but its gradient is the unbiased reverse-KL gradient on-policy. */
export const k2Estimator: KlEstimator = {
  name: 'k2',
  description: 'k2 = ½(log π − log π_ref)² (unbiased on-policy gradient)',
  value: (x) => 0.5 * x * x,
  derivative: (x) => x,
};

/**
 * k3 = e^{−x} + x − 1 (verl `low_var_kl`, GRPO's KL term, arXiv 2402.03300 eq. 4): unbiased,
 * non-negative, low variance. verl and NeMo-RL clamp −x to ±20 before the exp (e^20 ≈ 4.9e8
 * keeps float32 finite) and the result to ±10; TRL does not clamp (rl-frameworks.md §3.1).
 */
export const k3Estimator: KlEstimator = {
  name: 'k3',
  description: 'k3 = exp(−x) + x − 1, x clamped to ±20 and the value to ±10 (verl low_var_kl)',
  logRatioClamp: 20,
  valueClamp: 10,
  value: (x) => Math.exp(-x) + x - 1,
  derivative: (x) => 1 - Math.exp(-x),
};

/**
 * A straight-through estimator "kX+": the value of `valueFrom`, the gradient of `gradientFrom`
 * (default k2, whose gradient is the unbiased one), i.e. k2 − sg(k2) + sg(kX) as verl's docs
 * describe `k1+`/`k3+`. verl's code at b178a3cd does not actually accept the "+" names
 * (rl-frameworks.md §3.2 item 9); here they work.
 */
export function straightThrough(valueFrom: KlEstimator, gradientFrom: KlEstimator = k2Estimator): KlEstimator {
  return {
    ...valueFrom,
    name: `${valueFrom.name}+`,
    description: `value of ${valueFrom.name}, gradient of ${gradientFrom.name} (straight-through)`,
    gradientFrom,
  };
}

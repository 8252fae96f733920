import { assertNumber } from '../batch/assert-finite';
import { AipoError } from '../errors/aipo-error';

/** Knobs of the TR-DPO reference update; defaults are TRL's `ref_model_mixup_alpha` and `ref_model_sync_steps`. */
export interface ReferenceSyncOptions {
  /** α in [0, 1]: weight of the policy in the new reference; 1 = hard copy; default 0.6 */
  alpha?: number;
  /** τ: sync after every τ-th optimizer step (steps counted from 1); default 512 */
  syncSteps?: number;
}

export interface SyncReferenceModelOptions extends ReferenceSyncOptions {
  /** the optimizer steps taken so far (TRL's `global_step` after the step): sync when it is a multiple of τ */
  step: number;
  /** the policy's parameter tensors π_θ, flattened */
  policy: readonly Float32Array[];
  /** the reference's parameter tensors π_ref, same count and lengths as `policy` */
  reference: readonly Float32Array[];
  /** write the mix into `reference`'s own arrays instead of new ones (they are the caller's to reuse); default false */
  inPlace?: boolean;
}

export interface SyncReferenceModelResult {
  /** whether this step was a sync step */
  synced: boolean;
  /** the reference after the step: new arrays (or `reference` itself with `inPlace`) when synced, `reference` otherwise */
  reference: readonly Float32Array[];
}

/**
 * TR-DPO reference-model sync (Gorbatovski et al. 2024, "Learn Your Reference Model for Real Good
 * Alignment", arXiv 2404.09656; TRL `sync_ref_model`; rl-frameworks.md table E): every τ optimizer
 * steps, π_ref ← α·π_θ + (1 − α)·π_ref, parameter by parameter. α = 1 is the hard update (the
 * reference becomes a copy of the policy), a small α the soft (Polyak) one; after n syncs the gap
 * to a fixed policy shrinks to (1 − α)^n of the start. The KL term then anchors the policy to a
 * moving reference instead of the initial model. Pure math over Float32Arrays, mixed in float64.
 */
export function syncReferenceModel(options: SyncReferenceModelOptions): SyncReferenceModelResult {
  const { step, policy, reference } = options;
  const { alpha, syncSteps } = resolveReferenceSync(options);
  assertNumber('step', step, (value) => Number.isInteger(value) && value >= 0, 'an integer >= 0');
  if (policy.length !== reference.length) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `policy has ${policy.length} tensors, reference ${reference.length}`,
      details: { policy: policy.length, reference: reference.length },
    });
  }
  if (!isReferenceSyncStep({ step, syncSteps })) return { synced: false, reference };
  const mixed = policy.map((tensor, index) =>
    mixReferenceWeights({
      policy: tensor,
      reference: reference[index] as Float32Array,
      alpha,
      ...(options.inPlace === true ? { out: reference[index] as Float32Array } : {}),
      name: `tensor ${index}`,
    }),
  );
  return { synced: true, reference: options.inPlace === true ? reference : mixed };
}

/** Whether `step` (optimizer steps taken, from 1) is a sync step: a positive multiple of τ (TRL: global_step % τ == 0). */
export function isReferenceSyncStep(options: { step: number; syncSteps: number }): boolean {
  return options.step > 0 && options.step % options.syncSteps === 0;
}

export interface MixReferenceWeightsOptions {
  policy: Float32Array;
  reference: Float32Array;
  alpha: number;
  /** where to write; default a new array. May be `reference` itself (each element is read before it is written) */
  out?: Float32Array;
  /** names the tensor in error messages */
  name?: string;
}

/** α·π + (1 − α)·ref for one tensor, in float64 then rounded once to float32. */
export function mixReferenceWeights(options: MixReferenceWeightsOptions): Float32Array {
  const { policy, reference, alpha, name = 'tensor' } = options;
  assertNumber('alpha', alpha, (value) => value >= 0 && value <= 1, 'in [0, 1]');
  if (policy.length !== reference.length || (options.out !== undefined && options.out.length !== policy.length)) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `${name}: policy has ${policy.length} values, reference ${reference.length}${options.out === undefined ? '' : `, out ${options.out.length}`}`,
      details: { name, policy: policy.length, reference: reference.length },
    });
  }
  // check before writing, so a bad value never leaves `out` (possibly the reference itself) half-mixed
  for (let index = 0; index < policy.length; index++) {
    const p = policy[index] as number;
    const r = reference[index] as number;
    if (p - p !== 0 || r - r !== 0) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `${name}: ${p - p !== 0 ? `policy[${index}] is ${p}` : `reference[${index}] is ${r}`}`,
        details: { name, index },
      });
    }
  }
  const out = options.out ?? new Float32Array(policy.length);
  const keep = 1 - alpha;
  for (let index = 0; index < policy.length; index++) {
    out[index] = alpha * (policy[index] as number) + keep * (reference[index] as number);
  }
  return out;
}

function resolveReferenceSync(options: ReferenceSyncOptions): { alpha: number; syncSteps: number } {
  const alpha = options.alpha ?? 0.6;
  const syncSteps = options.syncSteps ?? 512;
  assertNumber('alpha', alpha, (value) => value >= 0 && value <= 1, 'in [0, 1]');
  assertNumber('syncSteps', syncSteps, (value) => Number.isInteger(value) && value >= 1, 'an integer >= 1');
  return { alpha, syncSteps };
}

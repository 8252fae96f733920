import { AipoError } from '@aipo/core';

/** Resource limits of one sandboxed program run. Every field must be a positive finite number. */
export interface SandboxLimits {
  /** per-test wall-clock limit; LiveCodeBench's `--timeout 6` */
  timeoutMs: number;
  /** address-space limit of each program (RLIMIT_AS); the container gets this plus 256 MiB */
  memoryBytes: number;
  /** stdout cap per test; the program is killed past it (Piston's kill-on-overflow) */
  outputBytes: number;
  /** largest file a program may write (RLIMIT_FSIZE) */
  fileBytes: number;
  /** processes and threads per container (cgroup pids limit: fork bombs, thread floods) */
  pids: number;
  /** size of the tmpfs work dir /tmp */
  tmpfsBytes: number;
  /** CPU share per container, in cores */
  cpus: number;
}

/** reliability.md §2.1 recommended defaults (LiveCodeBench parity for the time limit). */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  timeoutMs: 6_000,
  memoryBytes: 2 * 1024 ** 3,
  outputBytes: 8 * 1024 ** 2,
  fileBytes: 16 * 1024 ** 2,
  pids: 64,
  tmpfsBytes: 64 * 1024 ** 2,
  cpus: 1,
};

/**
 * Merge and validate: 0, negative and non-finite limits are refused, because "0 means unlimited"
 * is how Judge0 shipped unbounded runs (reliability.md §0 rule 4).
 */
export function resolveSandboxLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...DEFAULT_SANDBOX_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_SANDBOX_LIMITS)) {
      throw new AipoError({ code: 'INVALID_CONFIG', message: `unknown sandbox limit "${key}"` });
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new AipoError({
        code: 'INVALID_CONFIG',
        message: `sandbox limit ${key} must be a positive finite number, got ${String(value)}`,
        details: { key, value },
      });
    }
    limits[key as keyof SandboxLimits] = value;
  }
  if (limits.pids < 4)
    throw new AipoError({ code: 'INVALID_CONFIG', message: 'sandbox limit pids must be at least 4' });
  return limits;
}

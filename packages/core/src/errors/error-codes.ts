/**
 * Every error aipo throws carries one of these codes. Codes are stable API: tools branch on them,
 * messages are for people. Packages add codes here so one table documents them all.
 */
export const ERROR_CODES = {
  /** an argument is malformed (wrong type, out of range, unknown option) */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** array lengths disagree with the declared [B,T] shape */
  SHAPE_MISMATCH: 'SHAPE_MISMATCH',
  /** NaN or an infinity where a finite number is required (for example a masked-in log-prob) */
  NON_FINITE_INPUT: 'NON_FINITE_INPUT',
  /** a registry lookup for a name nobody registered */
  UNKNOWN_ENTRY: 'UNKNOWN_ENTRY',
  /** registering a name twice */
  DUPLICATE_ENTRY: 'DUPLICATE_ENTRY',
  /** a configuration file or object failed validation */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** a dataset record failed validation (the error names file and line) */
  INVALID_DATASET: 'INVALID_DATASET',
  /** a model endpoint failed after retries */
  API_ERROR: 'API_ERROR',
  /** an operation ran past its deadline */
  TIMEOUT: 'TIMEOUT',
  /** the caller aborted */
  ABORTED: 'ABORTED',
  /** a sandbox (isolated-vm, Docker) is missing or broken: an environment problem, not a verdict */
  SANDBOX_UNAVAILABLE: 'SANDBOX_UNAVAILABLE',
  /** reading or writing a file failed */
  IO_ERROR: 'IO_ERROR',
  /** a checkpoint, results file or cache is corrupt or from an incompatible run */
  CORRUPT_STATE: 'CORRUPT_STATE',
  /** a feature needs an optional dependency that is not installed */
  MISSING_DEPENDENCY: 'MISSING_DEPENDENCY',
  /** a bug: an invariant that should hold did not */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export { ERROR_CODES, type ErrorCode } from './errors/error-codes';
export { AipoError, toAipoError, type AipoErrorOptions } from './errors/aipo-error';
export { createRegistry, type Registry } from './registry/create-registry';
export { TokenSource, type TokenSourceId } from './batch/token-source';
export { assertBatchShape, assertLength, type BatchShape, type PolicyBatch } from './batch/policy-batch';

// --- advantages, policy losses, off-policy corrections, aggregation ---
export type { FloatArray } from './batch/float-array';
export { aggregateLoss, type AggregateLossOptions, type AggregateLossResult } from './aggregation/aggregate-loss';
export {
  AGGREGATION_MODES,
  planAggregation,
  type AggregationCounts,
  type AggregationMode,
  type AggregationPlan,
} from './aggregation/aggregation-plan';

// --- KL, entropy, ILR, metrics, random ---

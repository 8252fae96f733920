export { ERROR_CODES, type ErrorCode } from './errors/error-codes';
export { AipoError, toAipoError, type AipoErrorOptions } from './errors/aipo-error';
export { createRegistry, type Registry } from './registry/create-registry';
export { TokenSource, type TokenSourceId } from './batch/token-source';
export { assertBatchShape, assertLength, type BatchShape, type PolicyBatch } from './batch/policy-batch';

// --- advantages, policy losses, off-policy corrections, aggregation ---

// --- KL, entropy, ILR, metrics, random ---

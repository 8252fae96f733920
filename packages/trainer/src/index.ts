// --- backend ---
export { selectBackend, type BackendChoice, type BackendName, type SelectBackendOptions } from './backend/select-backend';
export { applyKernelPatches } from './backend/kernel-patches';

// --- model, checkpoints, tokenizer ---
export { CausalLM, type ForwardInput, type ForwardOutput, type KvCache, type LayerCache } from './model/causal-lm';
export { parseModelConfig, type ModelConfig } from './model/model-config';
export { parameterSpecs, type ParameterSpec } from './model/parameter-specs';
export { createRandomWeights, type RandomWeightsOptions } from './model/random-weights';
export {
  parseSafetensors,
  serializeSafetensors,
  readSafetensors,
  writeSafetensors,
  type NamedTensor,
  type SafetensorsDtype,
  type SerializeSafetensorsOptions,
} from './model/safetensors';
export { loadModel, readCheckpointTensors, type LoadModelOptions } from './model/load-model';
export { saveModel, type SaveModelOptions } from './model/save-model';
export { buildAttentionMask, type AttentionMaskOptions } from './model/attention-mask';
export { computeLogProbs, computeLogits, packSequences, type PackedSequences, type SequencesInput } from './model/pack-sequences';
export { createTokenizer, loadTokenizer, type ChatMessage, type CreateTokenizerOptions, type TextTokenizer } from './tokenizer/load-tokenizer';

// --- sampling and policies ---
export { generate, type GenerateOptions, type GenerationRequest, type GenerationResult } from './sampling/generate';
export { sampleToken, type SampleTokenOptions, type SampledToken } from './sampling/sample-token';
export { createBatchScheduler, type BatchScheduler, type CreateBatchSchedulerOptions } from './sampling/batch-scheduler';
export { createTokenPolicy, type CreateTokenPolicyOptions, type TokenGenerateRequest, type TokenGenerateResult, type TokenPolicy } from './policy/token-policy';
export { loadPolicy, type LoadedPolicy, type LoadPolicyOptions } from './policy/load-policy';
export { createRng, type CreateRngOptions, type SeededRng } from './random/seeded-rng';

// --- training ---
export {
  Trainer,
  createTrainer,
  type LossWeights,
  type LossWeightsFn,
  type LossWeightsInput,
  type StepMetrics,
  type StepOptions,
  type TrainerOptions,
} from './train/trainer';
export { assertTrajectoryBatch, lossMaskOf, responseLength, type TrajectoryBatch } from './train/trajectory-batch';
export { nllLossWeights } from './train/nll-loss-weights';
export { AdamW, type AdamWOptions } from './train/adamw';
export { createLrSchedule, type LrSchedule, type LrScheduleOptions } from './train/lr-schedule';
export { restoreCheckpoint, saveCheckpoint, type SaveCheckpointOptions } from './train/checkpoint';

// --- serving ---
export { startServer, type RunningServer, type ServablePolicy, type StartServerOptions } from './server/start-server';

// --- recipes, tasks, demo ---

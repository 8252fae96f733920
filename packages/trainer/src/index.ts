// --- backend ---
export { selectBackend, type BackendChoice, type BackendName, type SelectBackendOptions } from './backend/select-backend';
export { applyKernelPatches, type KernelPatchOptions } from './backend/kernel-patches';
export { loadNativeMatMul, type NativeMatMulStatus } from './backend/native-matmul';

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
export { createBatchScheduler, type BatchScheduler, type BatchSchedulerStats, type CreateBatchSchedulerOptions } from './sampling/batch-scheduler';
export { topLogProbs, type TokenLogProb } from './sampling/top-log-probs';
export { createTokenPolicy, type CreateTokenPolicyOptions, type DisposableTokenPolicy, type TokenGenerateRequest, type TokenGenerateResult, type TokenPolicy } from './policy/token-policy';
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
export { generateProblems, makeProblem, solveExpression, formatStep, countAvailableProblems, MIN_DIFFICULTY, MAX_DIFFICULTY, type ArithmeticProblem, type ArithmeticStep, type GenerateProblemsOptions } from './tasks/arithmetic-task';
export { gradeArithmetic } from './tasks/grade-arithmetic';
export { createArithmeticAgents, createArithmeticTagSyntax, CONSULTATION_PROMPT_PREFIX } from './tasks/arithmetic-agents';
export { lookupArithmeticFact, nextArithmeticStep, UNPARSABLE_REPLY } from './tasks/arithmetic-oracles';
export { buildConsultationTrace, type ConsultationTraceOptions } from './tasks/consultation-trace';
export { runRecipe, loadRecipeProblemSets, type RecipeProgress, type RecipeResult, type RunRecipeOptions, type StepMetrics as RecipeStepMetrics } from './recipes/run-recipe';
export type { RecipeProblem } from './tasks/recipe-problem';
export { loadDatasetProblemSets, DEFAULT_DATASET_PROMPT, type DatasetProblemSetsOptions } from './tasks/dataset-task';
export { createEndpointAgents, type EndpointAgentsOptions } from './tasks/endpoint-agents';
export { PEER_DIR, loadPeerState, savePeerState } from './recipes/ilr-peer/peer-checkpoint';
export { runIlrStep, ANALYSIS_PROMPT_PREFIX, ANALYSIS_NOTE_PREFIX, PEER_PROMPT_PREFIX, type IlrPolicyStep } from './recipes/ilr-step';
export type { ProblemSets } from './recipes/problem-sets';
export { parseRecipeConfig, recipeConfigSchema, type RecipeConfig, type RecipeConfigInput } from './recipes/recipe-config';
export { loadRecipeConfigFile, builtinRecipeConfigPath, BUILTIN_RECIPES } from './recipes/load-recipe-config-file';
export type { RecipePolicy, PolicyState, SampledSequence, SampleRequest, SequenceScores, TokenSequence, EntropyBonusRequest } from './recipes/recipe-policy';
export { createCharGruPolicy, type CharGruConfig } from './recipes/char-gru-policy';
export { computePolicyGradientWeights, type PolicyGradientWeightsOptions, type WeightStats } from './recipes/policy-gradient-weights';
export { evaluatePolicy, type EvaluatePolicyOptions, type PolicyEvaluation, type DifficultyEvaluation } from './recipes/evaluate-policy';
export { runSupervisedWarmup, type SupervisedWarmupOptions } from './recipes/supervised-warmup';
export { formatStepLine } from './recipes/format-step-line';
export { runDemo, type DemoMethod, type DemoPhase, type DemoProgress, type DemoResult, type DemoRun, type RunDemoOptions } from './demo/run-demo';
export { DEFAULT_DEMO_SETTINGS, FULL_DEMO_SETTINGS, type DemoSettings } from './demo/demo-settings';
export { formatDemoTable, summarizeDemo, passAtKCurve, type DemoCell, type DemoTable } from './demo/summarize-demo';
export { createCausalLmRecipePolicy, type CausalLmRecipePolicyOptions } from './recipes/causal-lm-recipe-policy';

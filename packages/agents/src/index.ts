// --- chat models ---
export type {
  ChatFinishReason,
  ChatGenerateOptions,
  ChatMessage,
  ChatModel,
  ChatResult,
  ChatUsage,
  TokenLogProb,
} from './model/chat-model';
export { createOpenAIChatModel, type OpenAIChatModelSettings } from './model/openai-chat-model';
export { createLocalChatModel, plainChatTemplate, type LocalChatModelSettings } from './model/local-chat-model';
export { withDiskCache, type DiskCacheSettings } from './model/with-disk-cache';
export {
  createUsageMeter,
  withUsageAccounting,
  type ModelPrice,
  type UsageMeter,
  type UsageTotals,
} from './model/usage-meter';
export {
  createConcurrencyLimiter,
  createEndpointLimits,
  type ConcurrencyLimiter,
  type EndpointLimits,
} from './model/concurrency-limiter';
export { createJsonlTranscript, withTranscript, type Transcript } from './model/jsonl-transcript';
export { retryWithBackoff, parseRetryAfter, type RetryOptions } from './model/retry-with-backoff';
export { createStopMatcher, findFirstStop, type StopMatch, type StopMatcher } from './model/stop-matcher';

// --- policy interface (implemented by @aipo/trainer) ---
export type { TokenPolicy, TokenPolicyOutput, TokenPolicyRequest } from './policy/token-policy';
export { createCompletionsTokenPolicy, type CompletionsTokenPolicySettings } from './policy/completions-token-policy';

// --- AIPO consultation ---
export type { Agent, AgentReply, ConsultRequest } from './aipo/agent';
export { knowledgeRole, reasoningRole, verifyRole, PROTOTYPE_AGENT_DECODING, type AgentRole } from './aipo/agent-role';
export { builtinAgentRoles, createAgentRegistry, createAgentRoleRegistry } from './aipo/builtin';
export { createChatAgent, type ChatAgentSettings } from './aipo/create-chat-agent';
export { extractReply, parseVerdict, type ExtractReplyOptions, type ReplyExtraction } from './aipo/extract-reply';
export { extractLastBoxed } from './aipo/extract-boxed';
export { createTagSyntax, type ParsedRequest, type TagSyntax, type TagSyntaxOptions } from './aipo/tag-syntax';
export { buildEvaluationMessages, buildTrainingMessages, type PromptAgent } from './aipo/prompts';
export {
  allRolloutsFailed,
  askForNextStep,
  consultAtStartTrigger,
  highEntropyTrigger,
  lowProbabilityTrigger,
  type ConsultationTrigger,
  type TriggerContext,
  type TriggeredConsultation,
} from './aipo/consultation-trigger';
export { AipoRollout, runAipoRollout } from './aipo/aipo-rollout';
export {
  defaultErrorMessages,
  type AipoRolloutConfig,
  type AipoRolloutInput,
  type RolloutErrorMessages,
  type RolloutState,
} from './aipo/rollout-config';
export { consultWithDeadline } from './aipo/consult-with-deadline';
export {
  packTrajectories,
  type AipoTrajectory,
  type ConsultationRecord,
  type RolloutFinish,
  type TrajectorySegment,
} from './aipo/trajectory';

// --- programmatic agents (synthetic tasks, CI) ---
export { checkArithmeticClaims, createArithmeticVerifier, type ArithmeticCheck } from './agents/arithmetic-verifier';
export { createKnowledgeTable } from './agents/knowledge-table';
export { createStepOracle } from './agents/step-oracle';

// --- ILR ---
// (the IRT rule itself, `chooseInteraction` / `irtProbability`, and `calibrateRewards` live in @aipo/core)
export { abilityFromAccuracy, difficultyFromPercentile } from './ilr/log-odds-scale';
export {
  createInteractionSelector,
  type InteractionSelector,
  type InteractionSelectorOptions,
} from './ilr/interaction-selector';
export {
  defaultRankingPrompt,
  estimateDifficultyBySelfRanking,
  parseRanking,
  type DifficultyAggregation,
  type SelfRankingOptions,
} from './ilr/self-rank-difficulty';
export { defaultIdea3Prompts, type Idea3PromptInput, type Idea3Prompts } from './ilr/idea3-prompts';
export {
  IDEA3_STAGES,
  runIdea3,
  type Idea3Options,
  type Idea3Participant,
  type Idea3Stage,
  type Idea3Turn,
} from './ilr/run-idea3';
export {
  createPerceptionCalibrationHook,
  rewardStatsByQuestion,
  type ParticipantRewards,
  type RewardStats,
} from './ilr/perception-calibration';

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
export {
  computeAdvantages,
  computeSequenceAdvantages,
  type AdvantageDiagnostics,
  type AdvantageResult,
  type ComputeAdvantagesOptions,
  type SequenceAdvantageResult,
} from './advantages/compute-advantages';
export type {
  AdvantageContext,
  AdvantageEstimator,
  AdvantageOptions,
  AdvantageRequirement,
  TokenStatistics,
  SingletonPolicy,
  TokenAdvantageOutput,
  UnscorablePolicy,
} from './advantages/advantage-estimator';
export { advantageEstimators, builtinAdvantageEstimators, createAdvantageEstimatorRegistry } from './advantages/builtin';
export {
  createOptimalTokenBaselineEstimator,
  optimalTokenBaselineEstimator,
  type OptimalTokenBaselineInput,
} from './advantages/optimal-token-baseline';
export { combineRewards, type CombineRewardsOptions, type MultiReward, type RewardCombination } from './advantages/combine-rewards';
export { computeGroupStatistics, type GroupStatistics } from './advantages/group-statistics';
export { policyLoss, LOG_PROB_TOLERANCE } from './losses/policy-loss';
export type { PolicyLossDiagnostics, PolicyLossInput, PolicyLossResult } from './losses/policy-loss-input';
export {
  ClipFlag,
  resolvePolicyLossOptions,
  type PolicyLossBatchContext,
  type PolicyLossBatchPlan,
  type PolicyLossBatchStatistics,
  type PolicyLossDefinition,
  type PolicyLossOptions,
  type ResolvedPolicyLossOptions,
  type TokenLossInput,
  type TokenLossOutput,
} from './losses/policy-loss-definition';
export { builtinPolicyLosses, createPolicyLossRegistry, policyLosses } from './losses/builtin';
export { ppoClipToken } from './losses/ppo-clip';
export { createDppoLoss, dppoLoss, type DppoLossOptions } from './losses/dppo';
export { clipCovLoss, type ClipCovOptions, type CovarianceSelection } from './losses/clip-cov';
export { klCovLoss, type KlCovOptions } from './losses/kl-cov';
export { vespoLoss, type VespoOptions } from './losses/vespo';
export {
  clipCovPolicyLoss,
  klCovPolicyLoss,
  vespoPolicyLoss,
  type ClipCovInput,
  type KlCovInput,
  type VespoInput,
} from './losses/wrapped-policy-loss';
export { tokenCovariances, type TokenCovariances, type WrappedPolicyLossInput } from './losses/clip-cov-covariance';
export { luffyShapingPresets, type OffPolicyShapingOptions, type ShapingFunction } from './losses/off-policy-shaping';
export type { AgentTokenOptions } from './losses/agent-coefficient';
export {
  importanceWeights,
  type ImportanceWeightsOptions,
  type ImportanceWeightsResult,
} from './corrections/importance-weights';
export { rejectionMask, type RejectionCriterion, type RejectionMaskOptions, type RejectionMaskResult } from './corrections/rejection-mask';
export { maskNonFiniteLogProbs } from './corrections/mask-non-finite-log-probs';
export { truncationMask } from './corrections/truncation-mask';
export { overlongPenalty } from './corrections/overlong-penalty';
export { entropyQuantileMask } from './corrections/entropy-quantile-mask';
export { offPolicySequenceMask } from './corrections/off-policy-sequence-mask';
export { groupFilterMask } from './corrections/group-filter';
export { clipRewards } from './corrections/clip-rewards';
export { pfPpoResample, type PfPpoMethod, type PfPpoResampleOptions, type PfPpoResampleResult } from './corrections/pf-ppo-resample';

export { valueLoss, type ValueLossOptions, type ValueLossResult } from './losses/value-loss';

// --- KL, entropy, ILR, metrics, random ---
export { createRng, type Rng } from './random/create-rng';
export { choice, normal, randomInt, shuffle, uniform } from './random/sample';
export { passAtK, passAtKBatch, passHatK, type PassAtKBatchOptions, type PassAtKBatchResult } from './metrics/pass-at-k';
export { meanAtN, type MeanAtNResult } from './metrics/mean-at-n';
export { defaultAnswerKey, type AnswerKey } from './metrics/answer-key';
export { majorityVote, type MajorityVoteResult, type VotedSample } from './metrics/majority-vote';
export { majorityAtK, type MajorityAtKOptions } from './metrics/majority-at-k';
export { consensusAtK, type ConsensusAtKOptions } from './metrics/consensus-at-k';
export { bestAtK, worstAtK, type BestAtKOptions } from './metrics/best-at-k';
export type { BootstrapSummary } from './metrics/bootstrap-statistics';
export { wilsonInterval, type Interval } from './metrics/wilson-interval';
export { bootstrapInterval, type BootstrapInterval, type BootstrapIntervalOptions } from './metrics/bootstrap-interval';
export {
  absEstimator,
  k1Estimator,
  k2Estimator,
  k3Estimator,
  straightThrough,
  type KlEstimator,
} from './kl/kl-estimator';
export { builtinKlEstimators, createKlEstimatorRegistry, klEstimators } from './kl/builtin';
export { computeKlTokens, type KlTokenOptions, type KlTokens } from './kl/kl-tokens';
export {
  klPenalty,
  type KlDiagnostics,
  type KlLossOptions,
  type KlLossResult,
  type KlRewardOptions,
  type KlRewardResult,
} from './kl/kl-penalty';
export {
  createAdaptiveKlController,
  createFixedKlController,
  type AdaptiveKlControllerOptions,
  type KlController,
} from './kl/kl-controller';
export {
  isReferenceSyncStep,
  mixReferenceWeights,
  syncReferenceModel,
  type MixReferenceWeightsOptions,
  type ReferenceSyncOptions,
  type SyncReferenceModelOptions,
  type SyncReferenceModelResult,
} from './kl/sync-reference-model';
export { entropyFromLogits, type EntropyFromLogitsOptions } from './entropy/entropy-from-logits';
export { entropyWithGradient, type EntropyWithGradientOptions, type EntropyWithGradientResult } from './entropy/entropy-gradient';
export { entropyBonus, type EntropyBonusOptions, type EntropyBonusResult } from './entropy/entropy-bonus';
export {
  createAdaptiveEntropyController,
  type AdaptiveEntropyController,
  type AdaptiveEntropyControllerOptions,
} from './entropy/adaptive-entropy-controller';
export {
  calibrateRewards,
  type CalibrateRewardsOptions,
  type PeerRewards,
  type ZeroRangeGuard,
} from './ilr/perception-calibration';
export {
  IRT_SCALE,
  chooseInteraction,
  irtProbability,
  type ChooseInteractionOptions,
  type InteractionMode,
} from './ilr/interaction-mode';
export { fitRasch, type FitRaschOptions, type RaschFit } from './ilr/fit-rasch';
export { entropyBoundsFromTopK, type EntropyBounds, type EntropyBoundsFromTopKOptions } from './entropy/entropy-bounds-from-top-k';

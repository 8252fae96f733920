/** What a trigger sees after each generation window. */
export interface TriggerContext {
  /** token ids of the window just generated */
  windowTokenIds: readonly number[];
  /** log π of those tokens */
  windowLogProbs: readonly number[];
  /** all response text so far */
  responseText: string;
  /** the question, when the rollout was given one */
  question?: string;
  /** consultations (policy-initiated or triggered) so far */
  consultationsUsed: number;
  /** response tokens so far */
  responseTokens: number;
}

/** A consultation started from outside the policy. */
export interface TriggeredConsultation {
  /** which agent to ask */
  agent: string;
  /** the request text */
  query: string;
}

/**
 * Starts a consultation from outside the policy at a reasoning bottleneck (AIPO says the policy
 * consults "when it hits a reasoning bottleneck", arXiv 2605.08401; how that is detected is not
 * published, so detectors are pluggable). Checked after every generation window.
 */
export interface ConsultationTrigger {
  /** name recorded in the trajectory */
  readonly name: string;
  /** return a consultation to start one, undefined to keep generating */
  check(context: TriggerContext): TriggeredConsultation | undefined;
}

type QueryBuilder = (context: TriggerContext) => string;

/** Default request of a triggered consultation: the last 200 characters the policy wrote. */
export const askForNextStep: QueryBuilder = (context) =>
  `I am stuck here: "${context.responseText.slice(-200)}". What is the next step?`;

/** Fires when any token in the window had probability below `minProbability`. */
export function lowProbabilityTrigger(options: {
  minProbability: number;
  agent?: string;
  query?: QueryBuilder;
}): ConsultationTrigger {
  const threshold = Math.log(options.minProbability);
  return {
    name: 'low-probability',
    check(context) {
      const low = context.windowLogProbs.some((logProb) => logProb < threshold);
      return low
        ? { agent: options.agent ?? 'reasoning', query: (options.query ?? askForNextStep)(context) }
        : undefined;
    },
  };
}

/**
 * Fires when the window's mean surprisal −log π(y_t) exceeds `maxEntropy` nats. The mean
 * surprisal of sampled tokens is an unbiased estimate of the policy's entropy along the path
 * (E[−log p(y)] = H(p)), so this needs only the sampled log-probs a TokenPolicy returns.
 */
export function highEntropyTrigger(options: {
  maxEntropy: number;
  agent?: string;
  query?: QueryBuilder;
}): ConsultationTrigger {
  return {
    name: 'high-entropy',
    check(context) {
      const count = context.windowLogProbs.length;
      if (count === 0) return undefined;
      const entropy = -context.windowLogProbs.reduce((sum, logProb) => sum + logProb, 0) / count;
      return entropy > options.maxEntropy
        ? { agent: options.agent ?? 'reasoning', query: (options.query ?? askForNextStep)(context) }
        : undefined;
    },
  };
}

/**
 * Fires once, before the policy writes anything. Used to re-roll a group whose rollouts all
 * failed ({@link allRolloutsFailed}) with guidance from the start.
 */
export function consultAtStartTrigger(options: {
  agent: string;
  query: (question: string | undefined) => string;
}): ConsultationTrigger {
  return {
    name: 'consult-at-start',
    check(context) {
      return context.responseTokens === 0 && context.consultationsUsed === 0
        ? { agent: options.agent, query: options.query(context.question) }
        : undefined;
    },
  };
}

/** True when every reward of a group is at or below `failureThreshold` (default 0): a group-level bottleneck. */
export function allRolloutsFailed(rewards: ArrayLike<number>, failureThreshold = 0): boolean {
  if (rewards.length === 0) return false;
  for (let index = 0; index < rewards.length; index++) {
    const reward = rewards[index] as number;
    if (!(reward <= failureThreshold) && !Number.isNaN(reward)) return false;
  }
  return true;
}

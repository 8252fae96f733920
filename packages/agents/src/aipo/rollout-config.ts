import type { Registry } from '@aipo/core';
import type { Transcript } from '../model/jsonl-transcript';
import type { TokenPolicy } from '../policy/token-policy';
import type { Agent } from './agent';
import type { ConsultationTrigger } from './consultation-trigger';
import type { ParsedRequest, TagSyntax } from './tag-syntax';
import type { ConsultationRecord } from './trajectory';

/** Texts inserted (in result tags) when a request gets no agent reply. The prototype inserts such errors as text. */
export interface RolloutErrorMessages {
  /** the consultation budget is spent */
  budgetExceeded: (maxConsultations: number) => string;
  /** the request could not be parsed */
  malformed: (request: Extract<ParsedRequest, { ok: false }>) => string;
  /** the agent threw or timed out */
  agentFailed: (options: { agent: string; code: string; message: string }) => string;
}

export const defaultErrorMessages: RolloutErrorMessages = {
  budgetExceeded: (max) => `Error: you have reached the maximum number of questions (${max}). Continue without asking.`,
  malformed: (request) => `Error: ${request.message}.`,
  agentFailed: ({ agent, code }) => `Error: the ${agent} agent could not answer (${code}). Continue without it.`,
};

/** Settings of the rollout protocol. Defaults are the AIPO prototype's (algorithms.md §1.3) unless noted. */
export interface AipoRolloutConfig {
  /** request syntax (default: single `<query agent="…">` tag, `defaultAgent` reasoning; an [I] choice, see README) */
  syntax?: TagSyntax;
  /** consultations allowed per rollout (prototype `max_turns` = 3) */
  maxConsultations?: number;
  /** policy turns per rollout (prototype `max_steps` = 20) */
  maxSteps?: number;
  /** response tokens per rollout, inserted ones included (prototype max response 16 384) */
  maxResponseTokens?: number;
  /** policy sampling (prototype rollout temperature 1.0, top-p 1.0) */
  sampling?: { temperature?: number; topP?: number; topK?: number; seed?: number };
  /** end-of-sequence ids for the policy */
  stopTokenIds?: number[];
  /** deadline per agent call in ms (default 120 000); a timeout is recorded and the rollout goes on */
  agentTimeoutMs?: number;
  /** external bottleneck triggers (default none: only the policy starts consultations) */
  triggers?: ConsultationTrigger[];
  /** tokens generated between trigger checks (default 64; ignored without triggers) */
  triggerWindowTokens?: number;
  /** whether agent tokens are set in `lossMask` (default false: the prototype's launch scripts use `mask_result=False`) */
  trainOnAgentTokens?: boolean;
  /** zero the loss mask of a rollout ending by length or max steps (prototype overlong filter, default true) */
  maskTruncated?: boolean;
  /** texts inserted for refused or failed consultations */
  errorMessages?: Partial<RolloutErrorMessages>;
}

/** Everything one rollout needs besides the config. */
export interface AipoRolloutInput {
  /** the policy being trained */
  policy: TokenPolicy;
  /** agents by name */
  agents: Registry<Agent>;
  /** the encoded training prompt (see `buildTrainingMessages`) */
  promptTokenIds: number[];
  /** the question, passed to agents and triggers */
  question?: string;
  /** cancels the rollout (throws ABORTED) */
  signal?: AbortSignal;
  /** observe each consultation as it completes */
  onConsultation?: (record: ConsultationRecord) => void;
  /** append every consultation and the final summary to this JSONL transcript */
  transcript?: Transcript;
  /** labels added to every transcript record (e.g. prompt id, sample index) */
  transcriptLabels?: Record<string, unknown>;
}

/** The protocol's states. */
export type RolloutState = 'generating' | 'consulting' | 'done';

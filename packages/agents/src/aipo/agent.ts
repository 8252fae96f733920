import type { ChatUsage } from '../model/chat-model';

/** A consultation request written by the policy (or by an external trigger). */
export interface ConsultRequest {
  /** the text between the request tags */
  query: string;
  /** the original question, for agents configured to see it (the prototype's helper does not) */
  question?: string;
}

/** An agent's answer. */
export interface AgentReply {
  /** what is inserted into the trajectory (after extraction) */
  text: string;
  /** the agent's whole reply, kept for transcripts */
  fullText: string;
  /** the agent's own log-probs for `text`, token by token, when its backend reports them and `text` is the full reply */
  logProbs?: Array<{ token: string; logProb: number }>;
  /** tokens the call used, for accounting */
  usage?: ChatUsage;
}

/**
 * A consulting agent (AIPO's Verify / Knowledge / Reasoning roles, arXiv 2605.08401, or any other).
 * Backed by a chat model ({@link createChatAgent}) or by code (the programmatic agents).
 */
export interface Agent {
  /** the name the policy uses in its request tags */
  readonly name: string;
  /** one line shown to the policy in the training prompt */
  readonly description: string;
  /** answer one request; throw (typed) on failure, the rollout records it and continues */
  consult(request: ConsultRequest, signal?: AbortSignal): Promise<AgentReply>;
}

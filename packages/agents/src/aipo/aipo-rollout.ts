import { AipoError, TokenSource, toAipoError } from '@aipo/core';
import { findFirstStop } from '../model/stop-matcher';
import { shortestPrefixCovering } from '../policy/shortest-prefix-covering';
import type { TokenPolicyOutput } from '../policy/token-policy';
import type { AgentReply } from './agent';
import { consultWithDeadline } from './consult-with-deadline';
import type { TriggeredConsultation } from './consultation-trigger';
import {
  type AipoRolloutConfig,
  type AipoRolloutInput,
  defaultErrorMessages,
  type RolloutErrorMessages,
  type RolloutState,
} from './rollout-config';
import { createTagSyntax, type ParsedRequest, type TagSyntax } from './tag-syntax';
import { type AipoTrajectory, type ConsultationRecord, type RolloutFinish, TrajectoryBuilder } from './trajectory';

/**
 * AIPO's rollout protocol (arXiv 2605.08401; mechanics from the prototype, algorithms.md §1.3) as
 * a state machine over a {@link TokenPolicy}:
 *
 *   generating --(policy closes a request tag)--> consulting --(reply inserted in result tags)--> generating
 *   generating --(trigger fires)--> consulting (request and reply both inserted as agent tokens)
 *   generating --(end of sequence / budget / max steps)--> done
 *
 * `step()` advances one transition; `run()` steps until done. Refused, malformed and failed
 * consultations insert an error text and generation resumes; they never throw.
 */
export class AipoRollout {
  private readonly trajectory = new TrajectoryBuilder();
  private readonly consultations: ConsultationRecord[] = [];
  private readonly syntax: TagSyntax;
  private readonly messages: RolloutErrorMessages;
  private readonly agentNames: string[];
  private readonly stops: string[];
  private pendingText = '';
  private pendingRequest: { text: string } | { triggered: TriggeredConsultation; initiator: string } | undefined;
  private steps = 0;
  private finishReason: RolloutFinish | undefined;
  private unclosed = false;
  private state_: RolloutState = 'generating';

  constructor(
    private readonly config: AipoRolloutConfig,
    private readonly input: AipoRolloutInput,
  ) {
    this.syntax = config.syntax ?? createTagSyntax({ kind: 'single', defaultAgent: 'reasoning' });
    this.messages = { ...defaultErrorMessages, ...config.errorMessages };
    this.agentNames = input.agents.list();
    this.stops = this.syntax.stopStrings(this.agentNames);
    if (!Array.isArray(input.promptTokenIds) || !input.promptTokenIds.every(Number.isInteger)) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: 'promptTokenIds must be an array of integer token ids',
      });
    }
    for (const [name, value] of Object.entries({
      maxConsultations: this.maxConsultations,
      maxSteps: this.maxSteps,
      maxResponseTokens: this.maxResponseTokens,
    })) {
      if (!Number.isInteger(value) || value < 0)
        throw new AipoError({
          code: 'INVALID_CONFIG',
          message: `${name} must be a non-negative integer (got ${value})`,
        });
    }
    for (const [name, value] of Object.entries({
      triggerWindowTokens: config.triggerWindowTokens,
      agentTimeoutMs: config.agentTimeoutMs,
    })) {
      if (value !== undefined && !(Number.isFinite(value) && value >= 1)) {
        throw new AipoError({ code: 'INVALID_CONFIG', message: `${name} must be at least 1 (got ${value})` });
      }
    }
  }

  get state(): RolloutState {
    return this.state_;
  }

  private get maxConsultations(): number {
    return this.config.maxConsultations ?? 3;
  }
  private get maxSteps(): number {
    return this.config.maxSteps ?? 20;
  }
  private get maxResponseTokens(): number {
    return this.config.maxResponseTokens ?? 16_384;
  }
  private get remainingTokens(): number {
    return this.maxResponseTokens - this.trajectory.length;
  }
  private get used(): number {
    return this.consultations.filter((record) => record.status !== 'malformed').length;
  }

  /** Advance one transition. */
  async step(): Promise<RolloutState> {
    throwIfAborted(this.input.signal);
    if (this.state_ === 'generating') await this.generate();
    else if (this.state_ === 'consulting') await this.consult();
    return this.state_;
  }

  /** Step until done and return the trajectory. */
  async run(): Promise<AipoTrajectory> {
    while (this.state_ !== 'done') await this.step();
    const trajectory = this.result();
    await this.input.transcript?.write({
      kind: 'aipo-rollout',
      ...this.input.transcriptLabels,
      policy: this.input.policy.modelId,
      question: this.input.question,
      text: trajectory.text,
      finish: trajectory.finish,
      steps: trajectory.steps,
      tokensBySource: trajectory.tokensBySource,
      consultations: trajectory.consultations.length,
    });
    return trajectory;
  }

  private async generate(): Promise<void> {
    if (this.trajectory.length === 0 && this.checkTriggers([], [])) return;
    if (this.remainingTokens <= 0) return this.finish('length');
    const triggers = this.config.triggers ?? [];
    const window =
      triggers.length > 0
        ? Math.min(this.config.triggerWindowTokens ?? 64, this.remainingTokens)
        : this.remainingTokens;
    const { sampling = { temperature: 1, topP: 1 } } = this.config;
    let raw: TokenPolicyOutput;
    try {
      raw = await this.input.policy.generate(
        {
          context: [...this.input.promptTokenIds, ...this.trajectory.tokenIds],
          maxTokens: window,
          stop: this.stops,
          ...(this.config.stopTokenIds && { stopTokenIds: this.config.stopTokenIds }),
          ...sampling,
        },
        this.input.signal,
      );
    } catch (error) {
      throwIfAborted(this.input.signal);
      throw toAipoError(error);
    }
    if (raw.tokenIds.length !== raw.logProbs.length) {
      throw new AipoError({
        code: 'SHAPE_MISMATCH',
        message: `policy ${this.input.policy.modelId} returned ${raw.tokenIds.length} tokens but ${raw.logProbs.length} log-probs`,
      });
    }
    if (raw.tokenIds.length > window) {
      // a policy that ignores maxTokens must not push the trajectory past its budget
      const tokenIds = raw.tokenIds.slice(0, window);
      raw = {
        tokenIds,
        logProbs: raw.logProbs.slice(0, window),
        text: this.input.policy.decode(tokenIds),
        finishReason: 'length',
      };
    }
    const output = this.cutAtStop(raw);
    this.trajectory.append({
      kind: 'policy',
      source: TokenSource.policy,
      tokenIds: output.tokenIds,
      logProbs: output.logProbs,
      text: output.text,
    });
    this.pendingText += output.text;
    const closed = output.finishReason === 'stop' && this.stops.some((stop) => this.pendingText.endsWith(stop));
    if (closed) {
      this.steps++;
      this.pendingRequest = { text: this.pendingText };
      this.state_ = 'consulting';
      return;
    }
    if (output.finishReason === 'length' && this.remainingTokens > 0 && output.tokenIds.length > 0) {
      this.checkTriggers(output.tokenIds, output.logProbs);
      return;
    }
    this.steps++;
    this.unclosed = this.syntax.hasUnclosed(this.pendingText, this.agentNames);
    this.finish(
      output.finishReason === 'length' || this.remainingTokens <= 0
        ? 'length'
        : this.unclosed
          ? 'unclosed-request'
          : 'answer',
    );
  }

  private checkTriggers(windowTokenIds: readonly number[], windowLogProbs: readonly number[]): boolean {
    if (this.used >= this.maxConsultations) return false;
    for (const trigger of this.config.triggers ?? []) {
      const triggered = trigger.check({
        windowTokenIds,
        windowLogProbs,
        responseText: this.trajectory.segments.map((segment) => segment.text).join(''),
        ...(this.input.question !== undefined && { question: this.input.question }),
        consultationsUsed: this.used,
        responseTokens: this.trajectory.length,
      });
      if (triggered) {
        this.pendingRequest = { triggered, initiator: trigger.name };
        this.state_ = 'consulting';
        return true;
      }
    }
    return false;
  }

  private async consult(): Promise<void> {
    const pending = this.pendingRequest;
    this.pendingRequest = undefined;
    this.pendingText = '';
    let parsed: ParsedRequest;
    let initiator = 'policy';
    if (pending !== undefined && 'triggered' in pending) {
      initiator = pending.initiator;
      const requestText = this.syntax.formatRequest(pending.triggered.agent, pending.triggered.query);
      this.insert('request', requestText);
      parsed = this.agentNames.includes(pending.triggered.agent)
        ? { ok: true, agent: pending.triggered.agent, query: pending.triggered.query }
        : {
            ok: false,
            problem: 'unknown-agent',
            agent: pending.triggered.agent,
            message: `unknown agent "${pending.triggered.agent}"`,
          };
    } else {
      parsed = this.syntax.parseClosed(pending?.text ?? '', this.agentNames);
    }
    const started = Date.now();
    let record: ConsultationRecord;
    let reply: AgentReply | undefined;
    if (!parsed.ok) {
      record = {
        agent: parsed.agent,
        query: pending && 'text' in pending ? pending.text : '',
        status: 'malformed',
        problem: parsed.problem,
        inserted: this.messages.malformed(parsed),
        initiator,
        durationMs: 0,
      };
    } else if (this.used >= this.maxConsultations) {
      record = {
        agent: parsed.agent,
        query: parsed.query,
        status: 'budget-exceeded',
        inserted: this.messages.budgetExceeded(this.maxConsultations),
        initiator,
        durationMs: 0,
      };
    } else {
      ({ record, reply } = await this.callAgent({ agent: parsed.agent, query: parsed.query, initiator, started }));
    }
    this.consultations.push(record);
    this.input.onConsultation?.(record);
    await this.input.transcript?.write({
      kind: 'aipo-consultation',
      ...this.input.transcriptLabels,
      policy: this.input.policy.modelId,
      ...record,
    });
    this.insertResult(record, reply);
    if (this.remainingTokens <= 0) return this.finish('length');
    if (this.steps >= this.maxSteps) return this.finish('max-steps');
    this.state_ = 'generating';
  }

  private async callAgent(options: {
    agent: string;
    query: string;
    initiator: string;
    started: number;
  }): Promise<{ record: ConsultationRecord; reply?: AgentReply }> {
    const { agent: name, query, initiator, started } = options;
    const agent = this.input.agents.get(name);
    const timeoutMs = this.config.agentTimeoutMs ?? 120_000;
    try {
      const reply = await consultWithDeadline({
        agent,
        request: { query, ...(this.input.question !== undefined && { question: this.input.question }) },
        timeoutMs,
        ...(this.input.signal && { signal: this.input.signal }),
      });
      return {
        record: {
          agent: name,
          query,
          status: 'ok',
          inserted: reply.text,
          fullReply: reply.fullText,
          initiator,
          durationMs: Date.now() - started,
        },
        reply,
      };
    } catch (error) {
      throwIfAborted(this.input.signal);
      const { code, message } = toAipoError(error);
      return {
        record: {
          agent: name,
          query,
          status: 'agent-error',
          inserted: this.messages.agentFailed({ agent: name, code, message }),
          error: { code, message },
          initiator,
          durationMs: Date.now() - started,
        },
      };
    }
  }

  private insertResult(record: ConsultationRecord, reply: AgentReply | undefined): void {
    const [open, close] = splitWrapper(this.syntax.formatResult('\u0000'));
    this.insert('result', open);
    this.insert('result', record.inserted, reply?.logProbs);
    this.insert('result', close);
  }

  /** Encode and append agent text; agent log-probs are kept only when they line up with the policy's tokens. */
  private insert(kind: 'request' | 'result', text: string, agentLogProbs?: AgentReply['logProbs']): void {
    if (text === '' || this.remainingTokens <= 0) return;
    let tokenIds = this.input.policy.encode(text);
    let logProbs: number[] | undefined;
    if (
      agentLogProbs &&
      agentLogProbs.length === tokenIds.length &&
      tokenIds.every((id, index) => this.input.policy.decode([id]) === agentLogProbs[index]?.token)
    ) {
      logProbs = agentLogProbs.map((entry) => entry.logProb);
    }
    if (tokenIds.length > this.remainingTokens) tokenIds = tokenIds.slice(0, this.remainingTokens);
    this.trajectory.append({
      kind,
      source: TokenSource.agent,
      tokenIds,
      ...(logProbs && { logProbs }),
      text: this.input.policy.decode(tokenIds),
    });
  }

  /** Keep only tokens up to the first stop string, for policies that sample past it. */
  private cutAtStop(output: TokenPolicyOutput): TokenPolicyOutput {
    const match = findFirstStop(this.pendingText + output.text, this.stops, Math.max(0, this.pendingText.length - 64));
    if (match === undefined) return output;
    const needed = match.text.length - this.pendingText.length;
    if (needed >= output.text.length) return { ...output, finishReason: 'stop' };
    const count = shortestPrefixCovering({
      tokenIds: output.tokenIds,
      decode: this.input.policy.decode,
      length: needed,
    });
    const tokenIds = output.tokenIds.slice(0, count);
    return {
      tokenIds,
      logProbs: output.logProbs.slice(0, count),
      text: this.input.policy.decode(tokenIds),
      finishReason: 'stop',
      stop: match.stop,
    };
  }

  private finish(reason: RolloutFinish): void {
    this.finishReason = reason;
    this.state_ = 'done';
  }

  /** The trajectory (valid once `state` is `done`). */
  result(): AipoTrajectory {
    if (this.state_ !== 'done' || this.finishReason === undefined) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: 'the rollout is not finished; call run() or step() until state is done',
      });
    }
    const { tokenIds, sources, logProbs, agentLogProbMask, segments } = this.trajectory;
    const truncated = this.finishReason === 'length' || this.finishReason === 'max-steps';
    const zeroAll = truncated && (this.config.maskTruncated ?? true);
    const lossMask = Uint8Array.from(sources, (source) =>
      zeroAll ? 0 : source === TokenSource.policy || this.config.trainOnAgentTokens ? 1 : 0,
    );
    const policyTokens = sources.filter((source) => source === TokenSource.policy).length;
    return {
      promptTokenIds: [...this.input.promptTokenIds],
      tokenIds: [...tokenIds],
      sourceMask: Uint8Array.from(sources),
      lossMask,
      logProbs: Float32Array.from(logProbs),
      agentLogProbMask: Uint8Array.from(agentLogProbMask),
      text: segments.map((segment) => segment.text).join(''),
      segments: segments.map((segment) => ({ ...segment })),
      consultations: [...this.consultations],
      tokensBySource: { policy: policyTokens, agent: sources.length - policyTokens },
      finish: this.finishReason,
      unclosedRequest: this.unclosed,
      steps: this.steps,
    };
  }
}

/** Run one AIPO rollout to the end. */
export function runAipoRollout(options: AipoRolloutInput & { config?: AipoRolloutConfig }): Promise<AipoTrajectory> {
  const { config = {}, ...input } = options;
  return new AipoRollout(config, input).run();
}

function splitWrapper(wrapped: string): [string, string] {
  const index = wrapped.indexOf('\u0000');
  return [wrapped.slice(0, index), wrapped.slice(index + 1)];
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AipoError({ code: 'ABORTED', message: 'the rollout was aborted', cause: signal.reason });
}

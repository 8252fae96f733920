import { AipoError } from '@aipo/core';
import type { Agent, AgentReply, ConsultRequest } from './agent';

/**
 * Ask an agent with a deadline. The agent gets a signal that fires at the deadline or when the
 * caller aborts, and the call is also raced against it: an agent that ignores its signal must not
 * stall a rollout. Rejects with TIMEOUT or ABORTED, or with whatever the agent threw.
 */
export async function consultWithDeadline(options: {
  agent: Agent;
  request: ConsultRequest;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<AgentReply> {
  const { agent, request, timeoutMs } = options;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(
        new AipoError({
          code: deadline.aborted ? 'TIMEOUT' : 'ABORTED',
          message: deadline.aborted
            ? `agent ${agent.name} did not answer within ${timeoutMs} ms`
            : `consulting agent ${agent.name} was aborted`,
        }),
      );
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([agent.consult(request, signal), expired]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

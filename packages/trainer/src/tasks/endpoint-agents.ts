import {
  type Agent,
  createAgentRegistry,
  createChatAgent,
  createOpenAIChatModel,
  knowledgeRole,
  reasoningRole,
  verifyRole,
} from '@aipo/agents';
import { AipoError, type Registry } from '@aipo/core';

export interface EndpointAgentsOptions {
  /** an OpenAI-compatible `/v1` base URL (vLLM, SGLang, llama.cpp, `aipo serve`, a hosted API) */
  baseURL: string;
  /** model name to request */
  model: string;
  /** name of the environment variable holding the API key; null = local server, no key */
  apiKeyEnv: string | null;
  /** cap on reply tokens per consultation (the prototype allowed 16k; a CPU endpoint needs far fewer) */
  maxTokens: number;
  /** per-attempt deadline (ms) */
  timeoutMs: number;
  /** where `apiKeyEnv` is read (default `process.env`) */
  env?: Record<string, string | undefined>;
}

/**
 * AIPO's three agents (arXiv 2605.08401) on one OpenAI-compatible endpoint: the agents package's
 * verify / knowledge / reasoning roles (prompts, decoding, reply extraction) over
 * `createOpenAIChatModel`, so a recipe can consult a real model instead of the arithmetic oracles.
 * A named key variable that is unset fails fast with INVALID_CONFIG rather than at the first call.
 */
export function createEndpointAgents(options: EndpointAgentsOptions): Registry<Agent> {
  const { baseURL, model, apiKeyEnv, maxTokens, timeoutMs, env = process.env } = options;
  let apiKey = 'unused';
  if (apiKeyEnv !== null) {
    const value = env[apiKeyEnv];
    if (value === undefined || value === '') {
      throw new AipoError({ code: 'INVALID_CONFIG', message: `agents.apiKeyEnv names ${apiKeyEnv}, which is not set in the environment` });
    }
    apiKey = value;
  }
  const chat = createOpenAIChatModel({ baseURL, model, apiKey, timeoutMs });
  return createAgentRegistry([verifyRole, knowledgeRole, reasoningRole].map((role) => createChatAgent({ role, model: chat, decoding: { maxTokens } })));
}

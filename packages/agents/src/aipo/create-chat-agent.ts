import type { ChatGenerateOptions, ChatModel } from '../model/chat-model';
import type { Agent } from './agent';
import type { AgentRole } from './agent-role';
import { extractReply } from './extract-reply';

/** Settings for {@link createChatAgent}. */
export interface ChatAgentSettings {
  /** the role: prompt, decoding, extraction */
  role: AgentRole;
  /** the backend answering for this role */
  model: ChatModel;
  /** decoding overrides on top of the role's */
  decoding?: ChatGenerateOptions;
  /** rename the agent (e.g. two verify agents on different backends) */
  name?: string;
}

/** An agent answering through a chat model, with the role's prompt and reply extraction. */
export function createChatAgent(settings: ChatAgentSettings): Agent {
  const { role, model } = settings;
  const decoding: ChatGenerateOptions = { ...role.decoding, ...settings.decoding };
  return {
    name: settings.name ?? role.name,
    description: role.description,
    async consult(request, signal) {
      // Log-probs only when asked for (`decoding.logProbs`): some OpenAI-compatible servers reject the field.
      const result = await model.generate(role.prompt(request), decoding, signal);
      const text = extractReply(result.text, { mode: role.extraction });
      // Agent log-probs only describe the inserted text when nothing was cut away.
      const keepsLogProbs = result.logProbs !== undefined && text === result.text;
      return { text, fullText: result.text, usage: result.usage, ...(keepsLogProbs && { logProbs: result.logProbs }) };
    },
  };
}

import type { TokenPolicy } from '../policy/token-policy';
import type { ChatMessage, ChatModel, TokenLogProb } from './chat-model';

/** Settings for {@link createLocalChatModel}. */
export interface LocalChatModelSettings {
  /** the in-process policy (e.g. the trainer's) */
  policy: TokenPolicy;
  /** token limit when the caller sets none (default 512) */
  defaultMaxTokens?: number;
  /** prompt rendering when the policy has no chat template (default: {@link plainChatTemplate}) */
  chatTemplate?: (messages: ChatMessage[]) => string;
}

/** Fallback rendering: one `role: content` block per turn, then `assistant:` to continue from. */
export function plainChatTemplate(messages: ChatMessage[]): string {
  return `${messages.map((message) => `${message.role}: ${message.content}`).join('\n\n')}\n\nassistant: `;
}

/**
 * A {@link ChatModel} over an in-process {@link TokenPolicy}: no HTTP, exact token counts and the
 * policy's own log-probs. Lets a policy being trained act as an agent or as an ILR participant.
 */
export function createLocalChatModel(settings: LocalChatModelSettings): ChatModel {
  const { policy, defaultMaxTokens = 512, chatTemplate = plainChatTemplate } = settings;
  return {
    specificationVersion: 'v1',
    modelId: policy.modelId,
    endpoint: `local:${policy.modelId}`,
    async generate(messages, options = {}, signal) {
      const prompt = policy.applyChatTemplate
        ? policy.applyChatTemplate(messages, { addGenerationPrompt: true })
        : chatTemplate(messages);
      const context = policy.encode(prompt);
      const output = await policy.generate(
        {
          context,
          maxTokens: options.maxTokens ?? defaultMaxTokens,
          ...(options.temperature !== undefined && { temperature: options.temperature }),
          ...(options.topP !== undefined && { topP: options.topP }),
          ...(options.topK !== undefined && { topK: options.topK }),
          ...(options.stop !== undefined && { stop: options.stop }),
          ...(options.seed !== undefined && { seed: options.seed }),
        },
        signal,
      );
      const logProbs: TokenLogProb[] | undefined = options.logProbs
        ? output.tokenIds.map((id, index) => ({
            token: policy.decode([id]),
            logProb: output.logProbs[index] ?? Number.NaN,
          }))
        : undefined;
      return {
        text: output.text,
        usage: { promptTokens: context.length, completionTokens: output.tokenIds.length },
        finishReason: output.finishReason,
        ...(logProbs && { logProbs }),
      };
    },
  };
}

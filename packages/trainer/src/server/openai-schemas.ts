import { z } from 'zod';

/**
 * Request bodies of the OpenAI API subset we serve, validated at the HTTP edge. Lenient where
 * OpenAI is (unknown fields are ignored), strict on the knobs we implement. `top_k` is vLLM's
 * extension.
 */
const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();
const sampling = {
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  stop,
  seed: z.number().int().nullish(),
  stream: z.boolean().nullish(),
  max_tokens: z.number().int().min(0).nullish(),
};

export const completionRequestSchema = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int().min(0)).min(1)]),
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.literal(false).nullish(),
});

const contentPart = z.object({ type: z.literal('text'), text: z.string() });
export const chatRequestSchema = z.object({
  ...sampling,
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: z.union([z.string(), z.array(contentPart)]).nullish(),
      }),
    )
    .min(1),
  max_completion_tokens: z.number().int().min(0).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
});

export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type ChatRequest = z.infer<typeof chatRequestSchema>;

import { AipoError } from '@aipo/core';
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../benchmark';

export interface ApplyChatTemplateOptions {
  /** the model's Jinja chat template (`chat_template` from tokenizer_config.json) */
  template: string;
  messages: ChatMessage[];
  /** append the assistant header so the model continues as the assistant (default true) */
  addGenerationPrompt?: boolean;
  /** special tokens the template may reference */
  bosToken?: string;
  eosToken?: string;
}

/**
 * Render messages with a model's own chat template, for local models served through a raw
 * completions endpoint: the same Jinja dialect as transformers' `apply_chat_template`.
 */
export function applyChatTemplate(options: ApplyChatTemplateOptions): string {
  let compiled: Template;
  try {
    compiled = new Template(options.template);
  } catch (error) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `chat template does not parse: ${String(error)}`, cause: error });
  }
  try {
    return compiled.render({
      messages: options.messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
      bos_token: options.bosToken ?? '',
      eos_token: options.eosToken ?? '',
    });
  } catch (error) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `chat template failed to render: ${String(error)}`, cause: error });
  }
}

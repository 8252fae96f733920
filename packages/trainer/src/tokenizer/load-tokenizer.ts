import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { AipoError } from '@aipo/core';

/** One chat message for `applyChatTemplate`. */
export interface ChatMessage {
  /** system / user / assistant / tool */
  role: string;
  /** message text */
  content: string;
}

/** A Hugging Face tokenizer (tokenizer.json) plus its chat template (tokenizer_config.json). */
export interface TextTokenizer {
  /** token ids of `text` (special-token markup such as `<|im_start|>` is recognised) */
  encode(text: string): number[];
  /** text of `tokenIds` (special tokens kept unless `skipSpecialTokens`) */
  decode(tokenIds: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** id of a token string, if it is in the vocabulary */
  tokenToId(token: string): number | undefined;
  /** render messages with the model's jinja chat template */
  applyChatTemplate?(messages: ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  /** end-of-sequence ids known from tokenizer_config.json */
  readonly eosTokenIds: number[];
  /** the raw files, written back verbatim on save */
  readonly files: { tokenizer: unknown; config: Record<string, unknown> };
}

export interface CreateTokenizerOptions {
  /** parsed tokenizer.json */
  tokenizer: unknown;
  /** parsed tokenizer_config.json (chat_template, eos_token, bos_token, ...) */
  config?: Record<string, unknown>;
}

/** Build a tokenizer from parsed tokenizer.json / tokenizer_config.json objects (offline). */
export function createTokenizer({ tokenizer, config = {} }: CreateTokenizerOptions): TextTokenizer {
  let inner: Tokenizer;
  try {
    inner = new Tokenizer(tokenizer as object, config);
  } catch (cause) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `tokenizer.json could not be loaded: ${(cause as Error).message}`, cause });
  }
  const tokenText = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : typeof (value as { content?: unknown })?.content === 'string' ? (value as { content: string }).content : undefined;
  const eosText = tokenText(config.eos_token);
  const eosId = eosText === undefined ? undefined : inner.token_to_id(eosText);
  const bosToken = tokenText(config.bos_token) ?? '';
  const eosToken = eosText ?? '';
  const chatTemplate = typeof config.chat_template === 'string' ? config.chat_template : undefined;
  let template: Template | undefined;
  const result: TextTokenizer = {
    encode: (text) => inner.encode(text, { add_special_tokens: false }).ids,
    decode: (tokenIds, options) => inner.decode([...tokenIds], { skip_special_tokens: options?.skipSpecialTokens ?? false }),
    tokenToId: (token) => inner.token_to_id(token),
    eosTokenIds: eosId === undefined ? [] : [eosId],
    files: { tokenizer, config },
  };
  if (chatTemplate !== undefined) {
    result.applyChatTemplate = (messages, options) => {
      try {
        template ??= new Template(chatTemplate);
        return template.render({ messages, add_generation_prompt: options?.addGenerationPrompt ?? false, bos_token: bosToken, eos_token: eosToken });
      } catch (cause) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `chat template failed: ${(cause as Error).message}`, cause });
      }
    };
  }
  return result;
}

/** Load `tokenizer.json` (+ optional `tokenizer_config.json`) from a model folder. */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const tokenizer = await readJson(join(dir, 'tokenizer.json'));
  const config = await readJson(join(dir, 'tokenizer_config.json')).catch((error: unknown) => {
    if (AipoError.isInstance(error) && error.code === 'IO_ERROR') return {};
    throw error;
  });
  return createTokenizer({ tokenizer, config: config as Record<string, unknown> });
}

/** Read and parse a JSON file: IO_ERROR if unreadable, CORRUPT_STATE if not JSON. */
export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read ${path}`, cause, details: { path } });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `${path} is not valid JSON`, cause, details: { path } });
  }
}

// Test fixtures (not exported): tiny HF model folders with random weights and a byte-level BPE
// tokenizer.json built here, so the real @huggingface/tokenizers loader and our safetensors
// reader are exercised end to end.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelConfig, type ModelConfig } from '../model/model-config';
import { createRandomWeights } from '../model/random-weights';
import { writeSafetensors, type SafetensorsDtype } from '../model/safetensors';

/** GPT-2's byte ↔ printable-unicode table (bytes_to_unicode in openai/gpt-2 encoder.py). */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  return table;
}

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
const MERGES = ['Ġ t', 'h e', 'Ġt he', 'Ġ a', 'i n', 'e r', 'a n', 'Ġ =', 'o u', 'Ġ 4', '4 2'];

/** ChatML, as Qwen2's tokenizer_config.json. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** tokenizer.json + tokenizer_config.json for a 256-byte + merges + specials byte-level BPE. */
export function tinyTokenizerFiles(): { tokenizer: Record<string, unknown>; config: Record<string, unknown>; vocabSize: number } {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((char, index) => (vocab[char] = index));
  for (const merge of MERGES) vocab[merge.replace(' ', '')] = Object.keys(vocab).length;
  const base = Object.keys(vocab).length;
  const added = SPECIAL_TOKENS.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: MERGES },
  };
  const config = { eos_token: '<|im_end|>', bos_token: null, pad_token: '<|endoftext|>', chat_template: CHATML_TEMPLATE, model_max_length: 128 };
  return { tokenizer, config, vocabSize: base + SPECIAL_TOKENS.length };
}

export type TinyArchitecture = 'llama' | 'qwen2' | 'qwen2-tied' | 'gpt2';

/** config.json of a tiny model; `vocabSize` defaults to the tiny tokenizer's. */
export function tinyConfigJson(architecture: TinyArchitecture, vocabSize = tinyTokenizerFiles().vocabSize): Record<string, unknown> {
  const eos = vocabSize - 1;
  if (architecture === 'gpt2') {
    return { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: vocabSize, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64, layer_norm_epsilon: 1e-5, eos_token_id: eos };
  }
  return {
    model_type: architecture === 'llama' ? 'llama' : 'qwen2',
    architectures: [architecture === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
    vocab_size: vocabSize,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 64,
    tie_word_embeddings: architecture === 'qwen2-tied',
    eos_token_id: eos,
  };
}

export interface TinyModelDirOptions {
  architecture?: TinyArchitecture;
  seed?: number;
  /** std of random matrix entries (larger → peakier distributions) */
  std?: number;
  jitter?: number;
  dtype?: SafetensorsDtype;
  /** write no tokenizer files */
  withoutTokenizer?: boolean;
}

/** Write a tiny HF model folder into a fresh temp dir; returns the dir and the parsed config. */
export async function writeTinyModelDir({ architecture = 'qwen2', seed = 1, std = 0.1, jitter = 0.1, dtype = 'F32', withoutTokenizer = false }: TinyModelDirOptions = {}): Promise<{
  dir: string;
  config: ModelConfig;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'aipo-tiny-'));
  await mkdir(dir, { recursive: true });
  const configJson = tinyConfigJson(architecture);
  const config = parseModelConfig(configJson);
  await writeFile(join(dir, 'config.json'), JSON.stringify(configJson));
  await writeSafetensors(join(dir, 'model.safetensors'), { tensors: createRandomWeights({ config, seed, std, jitter }), dtype });
  if (!withoutTokenizer) {
    const files = tinyTokenizerFiles();
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(files.config));
  }
  return { dir, config };
}

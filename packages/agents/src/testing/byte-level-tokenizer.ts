import { Tokenizer } from '@huggingface/tokenizers';

/** GPT-2's bytes_to_unicode: every byte gets a printable stand-in character. */
function bytesToUnicode(): string[] {
  const printable = [...range(0x21, 0x7e), ...range(0xa1, 0xac), ...range(0xae, 0xff)];
  const table = new Array<string>(256);
  let extra = 0;
  for (let byte = 0; byte < 256; byte++) {
    table[byte] = printable.includes(byte) ? String.fromCodePoint(byte) : String.fromCodePoint(256 + extra++);
  }
  return table;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/**
 * A small byte-level BPE `tokenizer.json` (GPT-2 layout: 256 byte tokens, then merges), built in
 * code so tests need no download. The merges are learned greedily from `corpus` (most frequent
 * adjacent pair, `mergeCount` times), so words like `query` and `result` become multi-byte tokens
 * and tags split across several tokens, as with real models.
 */
export function buildByteLevelBpeSpec(corpus: string, mergeCount = 120): Record<string, unknown> {
  const table = bytesToUnicode();
  const vocab = new Map<string, number>(table.map((char, index) => [char, index]));
  const merges: string[] = [];
  // pre-tokenize like GPT-2 (roughly): words with their leading space, runs of punctuation
  const words = (corpus.match(/ ?[A-Za-z]+| ?\d| ?[^\sA-Za-z\d]+|\s+/g) ?? []).map((word) =>
    [...Buffer.from(word, 'utf8')].map((byte) => table[byte] as string),
  );
  for (let step = 0; step < mergeCount; step++) {
    const counts = new Map<string, number>();
    for (const word of words) {
      for (let index = 0; index + 1 < word.length; index++) {
        const pair = `${word[index]} ${word[index + 1]}`;
        counts.set(pair, (counts.get(pair) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [pair, count] of counts) if (count > bestCount) [best, bestCount] = [pair, count];
    if (best === undefined) break;
    const [left, right] = best.split(' ') as [string, string];
    merges.push(best);
    vocab.set(left + right, vocab.size);
    for (const word of words) {
      for (let index = 0; index + 1 < word.length; index++) {
        if (word[index] === left && word[index + 1] === right) word.splice(index, 2, left + right);
      }
    }
  }
  return {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}

/** The tokenizer for {@link buildByteLevelBpeSpec}. */
export function createByteLevelTokenizer(corpus: string, mergeCount?: number): Tokenizer {
  return new Tokenizer(buildByteLevelBpeSpec(corpus, mergeCount), {});
}

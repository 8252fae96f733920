import type { TokenPolicy, TokenPolicyOutput, TokenPolicyRequest } from '../policy/token-policy';

/** The tokenizer part a scripted policy needs (a `@huggingface/tokenizers` Tokenizer fits through {@link fromHfTokenizer}). */
export interface TextCodec {
  encode(text: string): number[];
  decode(ids: number[]): string;
}

export function fromHfTokenizer(tokenizer: {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}): TextCodec {
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: false }),
  };
}

/**
 * A test {@link TokenPolicy} that replays scripted turns token by token through a real tokenizer,
 * honouring stop strings the way a sampler does (checked after every token, stop text included).
 * `logProbOf(turn, index)` scripts per-token log-probs; `ignoreStops` makes it overshoot.
 */
export function createScriptedTokenPolicy(options: {
  codec: TextCodec;
  turns: string[];
  logProbOf?: (turn: number, index: number) => number;
  ignoreStops?: boolean;
  modelId?: string;
}): TokenPolicy & { contexts: number[][]; requests: TokenPolicyRequest[] } {
  const { codec, turns, logProbOf = (_turn, index) => -0.05 - 0.01 * (index % 7), ignoreStops = false } = options;
  const encoded = turns.map((turn) => codec.encode(turn));
  let turn = 0;
  let cursor = 0;
  const contexts: number[][] = [];
  const requests: TokenPolicyRequest[] = [];
  return {
    modelId: options.modelId ?? 'scripted-policy',
    contexts,
    requests,
    encode: codec.encode,
    decode: codec.decode,
    async generate(request, signal): Promise<TokenPolicyOutput> {
      signal?.throwIfAborted();
      contexts.push([...request.context]);
      requests.push(request);
      const tokens = encoded[turn] ?? [];
      const start = cursor;
      const tokenIds: number[] = [];
      const logProbs: number[] = [];
      let stop: string | undefined;
      while (cursor < tokens.length && tokenIds.length < request.maxTokens) {
        tokenIds.push(tokens[cursor] as number);
        logProbs.push(logProbOf(turn, cursor));
        cursor++;
        if (ignoreStops) continue;
        const text = codec.decode(tokenIds);
        stop = request.stop?.find((candidate) => text.endsWith(candidate));
        if (stop !== undefined) break;
      }
      const exhausted = cursor >= tokens.length;
      if (exhausted) {
        turn++;
        cursor = 0;
      }
      const finishReason =
        stop !== undefined || (exhausted && tokenIds.length > 0) || start >= tokens.length ? 'stop' : 'length';
      return { tokenIds, logProbs, text: codec.decode(tokenIds), finishReason, ...(stop !== undefined && { stop }) };
    },
  };
}

import type { RecipePolicy, SampledSequence } from '../recipe-policy';

/**
 * Test helper: a real policy whose `sample` is scripted for some contexts. `script(context)`
 * returns the continuation to emit (and the stop string that ended it, if any) or undefined to
 * sample normally. Scripted tokens carry the wrapped policy's own log-probs, so π_old is exact and
 * scoring, training and state are the real policy's. Used to make a tiny random model write a
 * consultation request or a verdict on cue, which it would almost never sample by chance.
 */
export function scriptSamples(policy: RecipePolicy, script: (context: string) => { text: string; stop?: string; end?: boolean } | undefined): RecipePolicy {
  return Object.assign(Object.create(policy) as RecipePolicy, {
    async sample(request: Parameters<RecipePolicy['sample']>[0]): Promise<SampledSequence[]> {
      const scripted = request.contexts.map((context) => script(policy.decode(context)));
      const free = request.contexts.filter((_, index) => scripted[index] === undefined);
      const sampled = free.length > 0 ? await policy.sample({ ...request, contexts: free }) : [];
      const results: SampledSequence[] = [];
      let next = 0;
      for (const [index, context] of request.contexts.entries()) {
        const entry = scripted[index];
        if (entry === undefined) {
          results.push(sampled[next++] as SampledSequence);
          continue;
        }
        const tokenIds = [...policy.encode(entry.text), ...(entry.end ? [policy.endTokenId] : [])];
        const { logProbs } = await policy.score([{ prompt: context, response: tokenIds }]);
        results.push({
          tokenIds,
          logProbs: Array.from(logProbs[0] ?? []),
          text: entry.text,
          finishReason: entry.stop !== undefined || entry.end ? 'stop' : 'length',
          ...(entry.stop !== undefined ? { stop: entry.stop } : {}),
        });
      }
      return results;
    },
  });
}

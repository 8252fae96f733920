/**
 * The number of leading tokens whose decoded text is at least `length` characters long (all of
 * them if none is). Used to cut a sampled continuation right after a stop string at token
 * granularity when a sampler ran past it.
 */
export function shortestPrefixCovering(options: {
  tokenIds: readonly number[];
  decode: (tokenIds: number[]) => string;
  length: number;
}): number {
  const { tokenIds, decode, length } = options;
  for (let count = 1; count <= tokenIds.length; count++) {
    if (decode(tokenIds.slice(0, count)).length >= length) return count;
  }
  return tokenIds.length;
}

/**
 * Incremental stop-string detection over a stream of text chunks. A stop string may be split
 * across chunks (`"</qu"` + `"ery>"`), so the matcher keeps the whole text and only re-scans the
 * tail that could still contain a match starting in an earlier chunk.
 */
export interface StopMatch {
  /** the text up to and including the stop string */
  text: string;
  /** which stop string matched */
  stop: string;
}

export interface StopMatcher {
  /** feed the next chunk; returns the match once one of the stop strings has appeared */
  push(chunk: string): StopMatch | undefined;
  /** everything pushed so far */
  readonly text: string;
}

export function createStopMatcher(stops: readonly string[]): StopMatcher {
  const active = stops.filter((stop) => stop.length > 0);
  const longest = active.reduce((max, stop) => Math.max(max, stop.length), 0);
  let text = '';
  return {
    get text() {
      return text;
    },
    push(chunk) {
      // A match that ends in this chunk starts at most `longest - 1` characters before it.
      const from = Math.max(0, text.length - longest + 1);
      text += chunk;
      return findFirstStop(text, active, from);
    },
  };
}

/** The earliest stop string in `text` at or after `from` (ties go to the longer stop). */
export function findFirstStop(text: string, stops: readonly string[], from = 0): StopMatch | undefined {
  let best: { end: number; stop: string } | undefined;
  for (const stop of stops) {
    if (stop.length === 0) continue;
    const index = text.indexOf(stop, from);
    if (index < 0) continue;
    const end = index + stop.length;
    if (
      best === undefined ||
      index < best.end - best.stop.length ||
      (index === best.end - best.stop.length && end > best.end)
    ) {
      best = { end, stop };
    }
  }
  return best === undefined ? undefined : { text: text.slice(0, best.end), stop: best.stop };
}

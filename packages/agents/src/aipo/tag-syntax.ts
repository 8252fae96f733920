import { AipoError } from '@aipo/core';

/**
 * How the policy writes a consultation. The AIPO paper's syntax is unknown (algorithms.md §1.4);
 * the two candidates are both supported:
 * - `single` (default, the prototype's `<query>…</query>` with an agent field added):
 *   `<query agent="verify">is 12*7 = 84?</query>`; a missing field means `defaultAgent`;
 * - `per-agent`: one tag pair per agent, `<verify>…</verify>`, `<knowledge>…</knowledge>`, ….
 * Replies are wrapped in `<result>…</result>` (prototype) in both cases.
 */
export type TagSyntaxOptions =
  | { kind: 'single'; tag?: string; agentField?: string; defaultAgent?: string; resultTags?: [string, string] }
  | { kind: 'per-agent'; resultTags?: [string, string] };

/** A request found in the policy's text. */
export type ParsedRequest =
  | { ok: true; agent: string; query: string }
  | {
      ok: false;
      problem: 'nested' | 'missing-open' | 'empty' | 'unknown-agent' | 'mismatched';
      agent?: string;
      message: string;
    };

/** The compiled syntax a rollout uses. */
export interface TagSyntax {
  /** closing strings the policy's sampling stops at */
  stopStrings(agentNames: readonly string[]): string[];
  /** parse the policy text written since the last insertion, which ends with one of the stop strings */
  parseClosed(text: string, agentNames: readonly string[]): ParsedRequest;
  /** true when `text` opens a request that it never closes */
  hasUnclosed(text: string, agentNames: readonly string[]): boolean;
  /** render a request (used when an external trigger starts a consultation) */
  formatRequest(agent: string, query: string): string;
  /** wrap a reply (or an error message) for insertion */
  formatResult(text: string): string;
  /** one line explaining the syntax, for the training prompt */
  describe(agentNames: readonly string[]): string;
}

const NAME = /^[A-Za-z][\w-]*$/;

export function createTagSyntax(options: TagSyntaxOptions = { kind: 'single' }): TagSyntax {
  const [resultOpen, resultClose] = options.resultTags ?? ['<result>', '</result>'];
  const formatResult = (text: string) => `${resultOpen}${text}${resultClose}`;
  if (options.kind === 'per-agent') {
    const open = (name: string) => `<${name}>`;
    const close = (name: string) => `</${name}>`;
    const openers = (text: string, names: readonly string[]) =>
      names.flatMap((name) => indicesOf(text, open(name)).map((index) => ({ index, name })));
    return {
      stopStrings: (names) => names.map(close),
      parseClosed(text, names) {
        const closing = names.find((name) => text.endsWith(close(name)));
        if (closing === undefined) return { ok: false, problem: 'missing-open', message: 'no closing tag found' };
        const found = openers(text, names).sort((left, right) => left.index - right.index);
        if (found.length === 0)
          return {
            ok: false,
            problem: 'missing-open',
            agent: closing,
            message: `${close(closing)} without ${open(closing)}`,
          };
        if (found.length > 1)
          return {
            ok: false,
            problem: 'nested',
            agent: closing,
            message: 'a request was opened inside another request',
          };
        const opener = found[0] as { index: number; name: string };
        if (opener.name !== closing) {
          return {
            ok: false,
            problem: 'mismatched',
            agent: closing,
            message: `${open(opener.name)} was closed by ${close(closing)}`,
          };
        }
        const query = text.slice(opener.index + open(closing).length, text.length - close(closing).length).trim();
        if (query === '')
          return { ok: false, problem: 'empty', agent: closing, message: 'no question found in the request' };
        return { ok: true, agent: closing, query };
      },
      hasUnclosed: (text, names) => openers(text, names).some(({ index, name }) => !text.includes(close(name), index)),
      formatRequest: (agent, query) => `${open(agent)}${query}${close(agent)}`,
      formatResult,
      describe: (names) => `To ask an agent, write ${names.map((name) => `${open(name)}…${close(name)}`).join(', ')}.`,
    };
  }
  const tag = options.tag ?? 'query';
  const field = options.agentField ?? 'agent';
  const closeTag = `</${tag}>`;
  // `<query>`, `<query agent="verify">`, `<query agent=verify>`; attribute values are bounded words.
  const opener = new RegExp(String.raw`<${tag}(?:\s+${field}\s*=\s*"?([^"\s>]{0,64})"?)?\s*>`, 'g');
  return {
    stopStrings: () => [closeTag],
    parseClosed(text, names) {
      if (!text.endsWith(closeTag)) return { ok: false, problem: 'missing-open', message: 'no closing tag found' };
      const found = [...text.matchAll(opener)];
      if (found.length === 0)
        return { ok: false, problem: 'missing-open', message: `${closeTag} without an opening <${tag}>` };
      if (found.length > 1)
        return { ok: false, problem: 'nested', message: `a <${tag}> was opened inside another request` };
      const match = found[0] as RegExpExecArray;
      const agent = match[1] || options.defaultAgent;
      const query = text.slice((match.index ?? 0) + match[0].length, text.length - closeTag.length).trim();
      if (agent === undefined) return { ok: false, problem: 'unknown-agent', message: `the request names no ${field}` };
      if (!names.includes(agent)) {
        return {
          ok: false,
          problem: 'unknown-agent',
          agent,
          message: `unknown agent "${agent}" (available: ${names.join(', ')})`,
        };
      }
      if (query === '') return { ok: false, problem: 'empty', agent, message: 'no question found in the request' };
      return { ok: true, agent, query };
    },
    hasUnclosed(text) {
      const found = [...text.matchAll(opener)];
      const last = found.at(-1);
      return last !== undefined && !text.includes(closeTag, last.index);
    },
    formatRequest(agent, query) {
      if (!NAME.test(agent))
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `agent name "${agent}" cannot be written in a tag` });
      return `<${tag} ${field}="${agent}">${query}${closeTag}`;
    },
    formatResult,
    describe: (names) =>
      `To ask an agent, write <${tag} ${field}="NAME">your question</${tag}> with NAME one of ${names.join(', ')}${
        options.defaultAgent ? ` (without ${field}, ${options.defaultAgent} answers)` : ''
      }.`,
  };
}

function indicesOf(text: string, needle: string): number[] {
  const indices: number[] = [];
  for (let index = text.indexOf(needle); index >= 0; index = text.indexOf(needle, index + needle.length))
    indices.push(index);
  return indices;
}

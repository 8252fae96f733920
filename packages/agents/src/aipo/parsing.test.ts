import { describe, expect, it } from 'vitest';
import {
  createTagSyntax,
  extractLastBoxed,
  extractReply,
  findFirstStop,
  createStopMatcher,
  parseVerdict,
} from '../index';

const names = ['verify', 'knowledge', 'reasoning'];

describe('single-tag syntax', () => {
  const syntax = createTagSyntax({ kind: 'single', defaultAgent: 'reasoning' });
  it('parses the agent field in its accepted spellings', () => {
    expect(syntax.parseClosed('x <query agent="verify">is 1+1 = 2?</query>', names)).toEqual({
      ok: true,
      agent: 'verify',
      query: 'is 1+1 = 2?',
    });
    expect(syntax.parseClosed('<query agent=knowledge> pi </query>', names)).toEqual({
      ok: true,
      agent: 'knowledge',
      query: 'pi',
    });
    expect(syntax.parseClosed('<query>hint</query>', names)).toEqual({ ok: true, agent: 'reasoning', query: 'hint' });
  });
  it('names each malformed case', () => {
    expect(syntax.parseClosed('stray </query>', names)).toMatchObject({ ok: false, problem: 'missing-open' });
    expect(syntax.parseClosed('<query>a <query>b</query>', names)).toMatchObject({ ok: false, problem: 'nested' });
    expect(syntax.parseClosed('<query agent="x">a</query>', names)).toMatchObject({
      ok: false,
      problem: 'unknown-agent',
      agent: 'x',
    });
    expect(syntax.parseClosed('<query agent="verify"></query>', names)).toMatchObject({ ok: false, problem: 'empty' });
    expect(createTagSyntax({ kind: 'single' }).parseClosed('<query>a</query>', names)).toMatchObject({
      ok: false,
      problem: 'unknown-agent',
    });
  });
  it('detects unclosed requests and renders requests and results', () => {
    expect(syntax.hasUnclosed('a <query>b', names)).toBe(true);
    expect(syntax.hasUnclosed('a <query>b</query> c', names)).toBe(false);
    expect(syntax.formatRequest('verify', 'q')).toBe('<query agent="verify">q</query>');
    expect(() => syntax.formatRequest('bad name"', 'q')).toThrow(/cannot be written/);
    expect(syntax.formatResult('r')).toBe('<result>r</result>');
    expect(
      createTagSyntax({ kind: 'single', tag: 'ask', resultTags: ['<answer>', '</answer>'] }).formatResult('r'),
    ).toBe('<answer>r</answer>');
  });
  it('stays linear on a huge adversarial request', () => {
    const text = `${'<query agent="'.repeat(20_000)}</query>`;
    expect(syntax.parseClosed(text, names).ok).toBe(false);
  });
});

describe('per-agent syntax', () => {
  const syntax = createTagSyntax({ kind: 'per-agent' });
  it('parses, and flags nested, missing and empty requests', () => {
    expect(syntax.parseClosed('so <verify>2+2 = 4</verify>', names)).toEqual({
      ok: true,
      agent: 'verify',
      query: '2+2 = 4',
    });
    expect(syntax.parseClosed('<verify>a <knowledge>b</verify>', names)).toMatchObject({ problem: 'nested' });
    expect(syntax.parseClosed('b</verify>', names)).toMatchObject({ problem: 'missing-open' });
    expect(syntax.parseClosed('<verify> </verify>', names)).toMatchObject({ problem: 'empty' });
    expect(syntax.hasUnclosed('<reasoning>stuck', names)).toBe(true);
    expect(syntax.describe(names)).toContain('<verify>…</verify>');
  });
});

describe('reply extraction', () => {
  it('takes the last balanced box, survives unbalanced and deeply nested input', () => {
    expect(extractLastBoxed('a \\boxed{1} b \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
    expect(extractLastBoxed('\\boxed{1+{2')).toBeUndefined();
    expect(extractLastBoxed('\\fbox{x} then \\boxed {y}')).toBe('y');
    expect(extractLastBoxed(`\\boxed${'{'.repeat(100_000)}${'}'.repeat(100_000)}`)?.length).toBe(199_998);
  });
  it('applies full / boxed / verdict modes with the 200-character fallback', () => {
    const long = `${'x'.repeat(300)}end`;
    expect(extractReply('  the answer  ', { mode: 'full' })).toBe('the answer');
    expect(extractReply('so \\boxed{42}.', { mode: 'boxed' })).toBe('42');
    expect(extractReply(long, { mode: 'boxed' })).toBe(long.slice(-200));
    expect(extractReply('Verdict: incorrect\nError: 7*8 is 56', { mode: 'verdict' })).toBe('incorrect: 7*8 is 56');
    expect(extractReply('Verdict: Correct', { mode: 'verdict' })).toBe('correct');
    expect(extractReply('no idea', { mode: 'verdict', fallbackChars: 4 })).toBe('idea');
    expect(parseVerdict('\\boxed{incorrect}')).toEqual({ verdict: 'incorrect' });
  });
});

describe('stop matching', () => {
  it('finds a stop split across chunks, and the earliest of several', () => {
    const matcher = createStopMatcher(['</query>', '</verify>']);
    expect(matcher.push('abc </qu')).toBeUndefined();
    expect(matcher.push('ery> rest')).toEqual({ text: 'abc </query>', stop: '</query>' });
    expect(findFirstStop('a </verify> b </query>', ['</query>', '</verify>'])).toEqual({
      text: 'a </verify>',
      stop: '</verify>',
    });
    expect(findFirstStop('nothing', [''])).toBeUndefined();
  });
});

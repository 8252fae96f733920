import { createRng } from '@aipo/core';
import { describe, expect, it } from 'vitest';
import { createArithmeticAgents, createArithmeticTagSyntax } from './arithmetic-agents';
import { lookupArithmeticFact, nextArithmeticStep, UNPARSABLE_REPLY } from './arithmetic-oracles';
import { makeProblem } from './arithmetic-task';
import { buildConsultationTrace } from './consultation-trace';
import { gradeArithmetic } from './grade-arithmetic';

describe('arithmetic agents', () => {
  it('answer the three roles exactly', async () => {
    const agents = createArithmeticAgents();
    expect(agents.list()).toEqual(['verify', 'knowledge', 'reasoning']);
    expect((await agents.get('verify').consult({ query: '8-2=6' })).text).toBe('correct');
    expect((await agents.get('verify').consult({ query: '8-2=5' })).text).toMatch(/^incorrect: 8\s*-\s*2 = 6/);
    expect((await agents.get('knowledge').consult({ query: '-4+9' })).text).toBe('5');
    expect((await agents.get('reasoning').consult({ query: '8-2+7' })).text).toBe('8-2=6');
  });

  it('reply to unparsable requests instead of throwing', () => {
    for (const request of ['', 'hello', '8*2', '8-', '+2+3']) {
      expect(lookupArithmeticFact(request)).toBe(UNPARSABLE_REPLY);
      expect(nextArithmeticStep(request)).toBe(UNPARSABLE_REPLY);
    }
    expect(nextArithmeticStep('-12+3')).toBe('-12+3=-9');
  });

  it('builds consultation traces that parse with the tag syntax and still grade correct', async () => {
    const agents = createArithmeticAgents();
    const syntax = createArithmeticTagSyntax();
    const problem = makeProblem('3+5-2+7');
    const rng = createRng(3);
    const trace = await buildConsultationTrace({ problem, agents, syntax, consultProbability: 1, maxConsultations: 3, random: () => rng.next() });
    expect(trace.match(/<result>/g)).toHaveLength(3);
    expect(trace.endsWith('\\boxed{13}')).toBe(true);
    expect(await gradeArithmetic({ problem, output: trace })).toBe(1);
    const firstRequest = trace.slice(0, trace.indexOf('<result>'));
    const parsed = syntax.parseClosed(firstRequest.slice(firstRequest.lastIndexOf('\n') + 1), agents.list());
    expect(parsed.ok).toBe(true);
  });
});

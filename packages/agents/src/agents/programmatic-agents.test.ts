import { describe, expect, it } from 'vitest';
import { checkArithmeticClaims, createArithmeticVerifier, createKnowledgeTable, createStepOracle } from '../index';

describe('programmatic agents', () => {
  it('the arithmetic verifier checks every claim and states the right value', async () => {
    const verifier = createArithmeticVerifier();
    expect((await verifier.consult({ query: 'is 12*7 = 84?' })).text).toBe('correct');
    expect((await verifier.consult({ query: '12 × 7 = 84 and 84 + 1 = 86' })).text).toBe('incorrect: 84 + 1 = 85');
    expect((await verifier.consult({ query: '1/3 = 0.33' })).text).toBe('incorrect: 1/3 = 0.333333333333');
    expect((await verifier.consult({ query: '-3 - -2 = -1' })).text).toBe('correct');
    expect((await verifier.consult({ query: '0.1 + 0.2 = 0.3' })).text).toBe('correct');
    expect((await verifier.consult({ query: '5 / 0 = 1' })).text).toBe('incorrect: 5 / 0 = 1 divides by zero');
    expect((await verifier.consult({ query: 'is it right?' })).text).toMatch(/^cannot check/);
    expect(checkArithmeticClaims('1'.repeat(10_000))).toEqual([]);
  });

  it('the knowledge table answers from the longest matching key', async () => {
    const table = createKnowledgeTable({ entries: { circle: 'round', 'area of a circle': 'A = \\pi r^2' } });
    expect((await table.consult({ query: 'What is the  AREA of a circle?' })).text).toBe('A = \\pi r^2');
    expect((await table.consult({ query: 'a circle' })).text).toBe('round');
    expect((await table.consult({ query: 'a square' })).text).toBe('no entry for this request');
  });

  it('the step oracle calls the task function with the request', async () => {
    const oracle = createStepOracle({ nextStep: async ({ query, question }) => `${question}: after ${query}` });
    expect(await oracle.consult({ query: 'step 1', question: 'Q' })).toEqual({
      text: 'Q: after step 1',
      fullText: 'Q: after step 1',
    });
    expect(oracle.name).toBe('reasoning');
  });
});

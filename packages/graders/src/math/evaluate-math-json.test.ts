import { describe, expect, it } from 'vitest';
import { compileMathJson } from './evaluate-math-json';

const X = new Set(['x', 'y']);

describe('compileMathJson', () => {
  it('evaluates arithmetic, powers, roots, logs and trig at a point', () => {
    const cases: Array<[unknown, number]> = [
      [['Add', ['Power', 'x', 2], ['Multiply', 3, 'x'], -1], 2 * 2 + 6 - 1],
      [['Divide', ['Sqrt', 'x'], ['Rational', 1, 2]], 2 * Math.sqrt(2)],
      [['Root', 8, 3], 2],
      [['Log', 8, 2], 3],
      [['Subtract', ['Sin', 'x'], ['Negate', ['Cos', 'y']]], Math.sin(2) + Math.cos(3)],
      [['Multiply', 'Pi', 'ExponentialE', { num: '0.5' }], (Math.PI * Math.E) / 2],
    ];
    for (const [json, expected] of cases) {
      expect(compileMathJson(json, X)?.({ x: 2, y: 3 })).toBeCloseTo(expected, 12);
    }
  });

  it('declines unknown operators and symbols so compute-engine handles them', () => {
    expect(compileMathJson(['Gamma', 'x'], X)).toBeUndefined();
    expect(compileMathJson(['Add', 'x', 'ImaginaryUnit'], X)).toBeUndefined();
    expect(compileMathJson(['Log', 'x'], X)).toBeUndefined();
    expect(compileMathJson(['f', 'x'], X)).toBeUndefined();
  });
});

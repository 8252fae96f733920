import { describe, expect, it } from 'vitest';
import { normalizeLatex } from './normalize-latex';

describe('normalizeLatex', () => {
  it.each([
    ['\\dfrac{1}{2}', '\\frac{1}{2}'],
    ['\\frac12', '\\frac{1}{2}'],
    ['\\frac1{x}', '\\frac{1}{x}'],
    ['\\sqrt3', '\\sqrt{3}'],
    ['\\left( 1, 2 \\right]', '( 1, 2 ]'],
    ['5\\text{ cm}', '5'],
    ['6 square feet', '6'],
    ['x feet', 'x feet'],
    ['4m', '4m'],
    ['90^\\circ', '90'],
    ['90^{\\circ}', '90'],
    ['50%', '50\\%'],
    ['10,\\!080', '10080'],
    ['1{,}000', '1000'],
    ['32, 349', '32, 349'],
    ['\\$42', '42'],
    ['$x$', 'x'],
    ['.5', '0.5'],
    ['\\text{(B)}', 'B'],
    ['3 and 5', '3, 5'],
    ['\\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}'],
    ['x \\geq 1', 'x \\ge 1'],
    ['１２３', '123'],
    ['−5', '-5'],
    ['12.', '12'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeLatex(input)).toBe(expected);
  });
});

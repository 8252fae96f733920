import { describe, expect, it } from 'vitest';
import { compareStdioOutput } from './compare-stdio-output';
import { parsePythonDecimal, pythonDecimalEquals } from './python-decimal';
import { pythonSplitWhitespace, pythonStrip } from './python-text';

const equal = (actual: string, expected: string) => compareStdioOutput({ actual, expected }).equal;

describe('compareStdioOutput (LiveCodeBench grade_stdio)', () => {
  it.each([
    ['3\n', '3', true],
    ['  3  \n\n', '3\n', true],
    ['1 2\n3 4\n', '1 2\n3 4', true],
    ['1  2\n', '1 2\n', true], // tokens equal as Decimals
    ['1.0\n', '1\n', true],
    ['1e3', '1000', true],
    ['0.50', '0.5', true],
    ['-0', '0', true],
    ['0.333333', '0.3333333', false], // no tolerance
    ['YES', 'Yes', false], // no case folding
    ['1\n2', '1 2', false], // line counts differ
    ['1 2', '1 2 3', false],
    ['abc', 'abd', false],
    ['NaN', 'NaN', true], // exact string match happens before Decimal parsing
    ['NaN ', 'nan', false], // Decimal NaN is never equal
    ['inf', 'Infinity', true],
    ['1_000', '1000', true], // CPython's Decimal drops underscores
    ['１２', '12', true], // any Unicode decimal digit
    ['\u00a03\u2003', '3', true], // Python whitespace, not JS trim()
    ['3\u001c', '3', true], // U+001C is whitespace for Python only
    ['\ufeff3', '3', false], // U+FEFF is whitespace for JS only
  ])('%j vs %j → %s', (actual, expected, result) => {
    expect(equal(actual, expected)).toBe(result);
  });

  it('names the first differing line', () => {
    expect(compareStdioOutput({ actual: '1\n2\n4', expected: '1\n2\n3' })).toEqual({
      equal: false,
      message: 'line 3 differs',
    });
  });
});

describe('python decimal and whitespace helpers', () => {
  it('parses like decimal.Decimal and rejects what it rejects', () => {
    for (const bad of ['.', '1e', '0x1', 'abc', '', '1.2.3', '--1']) expect(parsePythonDecimal(bad)).toBeUndefined();
    const parse = (text: string) => parsePythonDecimal(text) ?? expect.fail(text);
    expect(pythonDecimalEquals(parse('+.5e-3'), parse('0.0005'))).toBe(true);
    expect(pythonDecimalEquals(parse('12.500'), parse('1.25E1'))).toBe(true);
    expect(pythonDecimalEquals(parse('-inf'), parse('inf'))).toBe(false);
    expect(pythonDecimalEquals(parse('9007199254740993'), parse('9007199254740992'))).toBe(false);
  });

  it('strips and splits on exactly Python whitespace', () => {
    expect(pythonStrip('\u0085 x \u3000')).toBe('x');
    expect(pythonSplitWhitespace(' a\u2028b  c ')).toEqual(['a', 'b', 'c']);
  });
});

import { parsePythonDecimal, pythonDecimalEquals, type PythonDecimal } from './python-decimal';
import { pythonSplitWhitespace, pythonStrip } from './python-text';

export interface OutputComparison {
  equal: boolean;
  /** why they differ, one sentence; empty when equal */
  message: string;
}

function lineToDecimals(line: string): PythonDecimal[] | undefined {
  const values: PythonDecimal[] = [];
  for (const token of pythonSplitWhitespace(line)) {
    const value = parsePythonDecimal(token);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

/**
 * LiveCodeBench's stdin/stdout check (`grade_stdio`): strip both outputs, split on "\n", strip each
 * line; equal line counts; per line an exact match, else every whitespace token parsed as a Python
 * Decimal and the lists equal. No tolerance and no case folding (`YES` vs `Yes` is wrong).
 */
export function compareStdioOutput({ actual, expected }: { actual: string; expected: string }): OutputComparison {
  const actualLines = pythonStrip(actual).split('\n');
  const expectedLines = pythonStrip(expected).split('\n');
  if (actualLines.length !== expectedLines.length) {
    return {
      equal: false,
      message: `expected ${expectedLines.length} line(s), got ${actualLines.length}`,
    };
  }
  for (let index = 0; index < actualLines.length; index += 1) {
    const actualLine = pythonStrip(actualLines[index] as string);
    const expectedLine = pythonStrip(expectedLines[index] as string);
    if (actualLine === expectedLine) continue;
    const actualValues = lineToDecimals(actualLine);
    const expectedValues = lineToDecimals(expectedLine);
    const equal =
      actualValues !== undefined &&
      expectedValues !== undefined &&
      actualValues.length === expectedValues.length &&
      actualValues.every((value, position) => pythonDecimalEquals(value, expectedValues[position] as PythonDecimal));
    if (!equal) return { equal: false, message: `line ${index + 1} differs` };
  }
  return { equal: true, message: '' };
}

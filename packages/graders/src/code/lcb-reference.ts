import { AipoError } from '@aipo/core';

/** One LiveCodeBench test case, exactly as in `public_test_cases` / decoded `private_test_cases`. */
export interface LcbTest {
  /** stdin text, or for functional tests one JSON value per line (the positional arguments) */
  input: string;
  /** expected stdout, or for functional tests the JSON of the expected return value */
  output: string;
  testtype: 'stdin' | 'functional';
}

/**
 * The reference of a LiveCodeBench problem: public then private tests, and `fn_name` from the
 * problem's metadata for LeetCode-style problems. As in LiveCodeBench, `fn_name` decides the mode:
 * present → every test calls `Solution().<fn_name>`; absent → every test is stdin/stdout.
 */
export interface LcbReference {
  tests: LcbTest[];
  fn_name?: string;
}

/**
 * A HumanEval/MBPP-style reference: test code with asserts, appended to the program. With
 * `entryPoint`, `check(<entryPoint>)` is called after it (HumanEval's `check(candidate)` shape).
 * The program passes when the whole script finishes without an exception inside the time limit.
 */
export interface AssertReference {
  testCode: string;
  entryPoint?: string;
}

function invalid(message: string, details?: Record<string, unknown>): AipoError {
  return new AipoError({ code: 'INVALID_ARGUMENT', message, details });
}

/** Validate a list of LiveCodeBench tests (throws INVALID_ARGUMENT naming the bad index). */
export function parseLcbTests(value: unknown): LcbTest[] {
  if (!Array.isArray(value)) throw invalid('LiveCodeBench tests must be an array');
  return value.map((test: unknown, index) => {
    const record = test as Partial<LcbTest> | null;
    if (
      typeof record !== 'object' ||
      record === null ||
      typeof record.input !== 'string' ||
      typeof record.output !== 'string' ||
      (record.testtype !== 'stdin' && record.testtype !== 'functional')
    ) {
      throw invalid(`test ${index} must be {input: string, output: string, testtype: 'stdin' | 'functional'}`, {
        index,
      });
    }
    return { input: record.input, output: record.output, testtype: record.testtype };
  });
}

/** Validate a LiveCodeBench reference; an empty test list is refused (it would pass any program). */
export function parseLcbReference(value: unknown): LcbReference {
  if (typeof value !== 'object' || value === null) throw invalid('the reference must be {tests, fn_name?}');
  const record = value as { tests?: unknown; fn_name?: unknown };
  const tests = parseLcbTests(record.tests);
  if (tests.length === 0) throw invalid('the reference has no tests');
  if (record.fn_name !== undefined && record.fn_name !== null) {
    if (typeof record.fn_name !== 'string' || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(record.fn_name)) {
      throw invalid('fn_name must be an identifier');
    }
    return { tests, fn_name: record.fn_name };
  }
  if (tests.some((test) => test.testtype === 'functional')) {
    throw invalid('functional tests need fn_name (from the problem metadata)');
  }
  return { tests };
}

export function isAssertReference(value: unknown): value is AssertReference {
  return typeof value === 'object' && value !== null && typeof (value as AssertReference).testCode === 'string';
}

/** Validate an assert-style reference. */
export function parseAssertReference(value: unknown): AssertReference {
  if (!isAssertReference(value)) throw invalid('the reference must be {testCode: string, entryPoint?: string}');
  const { testCode, entryPoint } = value;
  if (entryPoint !== undefined && (typeof entryPoint !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(entryPoint))) {
    throw invalid('entryPoint must be an identifier');
  }
  return entryPoint === undefined ? { testCode } : { testCode, entryPoint };
}

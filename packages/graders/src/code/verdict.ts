import type { GradeResult } from '../grader';

/**
 * How a program ended, in the vocabulary of online judges. LiveCodeBench's result codes map onto it:
 * -2 wrong answer, -3 time limit, -4 runtime error, -1 global timeout (reported as `time_limit`).
 */
export type CodeVerdict =
  | 'accepted'
  | 'wrong_answer'
  | 'time_limit'
  | 'runtime_error'
  | 'compile_error'
  | 'output_limit'
  | 'memory_limit';

/**
 * The program ended by itself (passed, wrong output, raised, did not compile) rather than being killed
 * at a limit. Sandboxes are reused only after such runs: a run killed mid-way (deadline, output cap,
 * memory) may leave its sandbox in any state, so the pools replace it ("recycle after any failure").
 */
export function endedByItself(verdict: CodeVerdict): boolean {
  return (
    verdict === 'accepted' || verdict === 'wrong_answer' || verdict === 'runtime_error' || verdict === 'compile_error'
  );
}

/** The first test that did not pass, as reported in `details.failingTest`. */
export interface FailingTest {
  /** 0-based index into the reference's tests (public tests first, as LiveCodeBench concatenates them) */
  index: number;
  /** the test input, truncated for the report */
  input: string;
  /** the expected output, truncated */
  expected: string;
  /** what the program produced (stdout or the JSON of the returned value), truncated */
  actual?: string;
  /** why it failed, one sentence (the stderr tail for runtime errors) */
  message: string;
}

export interface TestFailureOptions {
  verdict: CodeVerdict;
  /** 0-based index of the failing test */
  index: number;
  test: { input: string; output: string };
  message: string;
  /** what the program produced, when there is something to show */
  actual?: string;
}

/** A failed test as graders report it: the verdict and the (truncated) failing test. */
export function testFailure(options: TestFailureOptions): { verdict: CodeVerdict; failingTest: FailingTest } {
  const { verdict, index, test, message, actual } = options;
  return {
    verdict,
    failingTest: {
      index,
      input: truncateForReport(test.input),
      expected: truncateForReport(test.output),
      ...(actual === undefined ? {} : { actual: truncateForReport(actual) }),
      message: truncateForReport(message, 500),
    },
  };
}

/** Longest string kept in a report field: reports are stored per sample and must stay small. */
const REPORT_CHARS = 2_000;

export function truncateForReport(text: string, limit = REPORT_CHARS): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more chars)`;
}

const REASONS: Record<CodeVerdict, string> = {
  accepted: 'all tests passed',
  wrong_answer: 'wrong answer',
  time_limit: 'time limit exceeded',
  runtime_error: 'runtime error',
  compile_error: 'compile error',
  output_limit: 'output limit exceeded',
  memory_limit: 'memory limit exceeded',
};

export interface CodeGradeResultOptions {
  verdict: CodeVerdict;
  /** tests run, including the failing one */
  testsRun: number;
  testsTotal: number;
  failingTest?: FailingTest;
  /** the program is empty / there was no fenced block */
  parseFailed?: boolean;
  /** extra facts (timings, sandbox ids) */
  extra?: Record<string, unknown>;
}

/** Build the GradeResult every code grader returns: binary score, verdict and first failing test in details. */
export function codeGradeResult(options: CodeGradeResultOptions): GradeResult {
  const { verdict, testsRun, testsTotal, failingTest, parseFailed, extra } = options;
  const pass = verdict === 'accepted';
  const where = failingTest === undefined ? '' : ` on test ${failingTest.index + 1} of ${testsTotal}`;
  const detail = failingTest === undefined ? '' : `: ${failingTest.message}`;
  return {
    pass,
    score: pass ? 1 : 0,
    reason: pass ? `${REASONS.accepted} (${testsTotal})` : `${REASONS[verdict]}${where}${detail}`,
    ...(parseFailed ? { parseFailed: true } : {}),
    details: {
      verdict,
      testsRun,
      testsTotal,
      ...(failingTest === undefined ? {} : { failingTest }),
      ...extra,
    },
  };
}

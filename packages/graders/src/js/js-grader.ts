import { availableParallelism } from 'node:os';
import { AipoError } from '@aipo/core';
import { compareStdioOutput } from '../code/compare-stdio-output';
import { extractProgram, lastFenceLanguage, type CodeExtraction } from '../code/extract-code';
import { parseLcbReference, type LcbReference } from '../code/lcb-reference';
import { parsePythonJson } from '../code/parse-python-json';
import { describePythonValue, pythonEquals, type PythonValue } from '../code/python-value';
import {
  codeGradeResult,
  testFailure,
  type TestFailureOptions,
  endedByItself,
  type CodeVerdict,
  type FailingTest,
} from '../code/verdict';
import type { GradeInput, GradeResult, Grader } from '../grader';
import { WorkerLostError, type JsWorker, type WorkerReply } from './js-worker';
import { JsWorkerPool } from './js-worker-pool';

/** isolated-vm waits up to 5 s for V8 to stop after a timeout; the host kill comes after that. */
const HOST_GRACE_MS = 6_000;

export interface JsGraderLimits {
  /** per-test wall clock (sync code via ivm `timeout`, promises via dispose); default 6000 */
  timeoutMs: number;
  /** CPU time per test, measured on the isolate (`isolate.cpuTime`); default 6000 */
  cpuTimeMs: number;
  /** isolate heap limit in MB (ivm: "a guideline", 2–3× overshoot possible); default 128 */
  memoryMb: number;
  /** output cap per test in bytes; past it the run ends as output_limit; default 8 MiB */
  outputBytes: number;
}

export interface JsGraderOptions {
  /** worker processes (one isolate at a time each); default one per core */
  poolSize?: number;
  /** replace a worker after this many jobs (default 200) */
  maxJobsPerWorker?: number;
  limits?: Partial<JsGraderLimits>;
  /** `auto` (default): TypeScript when the last fence says ts/typescript; types are stripped */
  language?: 'auto' | 'javascript' | 'typescript';
  /** default LiveCodeBench's last fenced block */
  extraction?: CodeExtraction;
}

export interface JsGrader extends Grader<LcbReference> {
  close(): Promise<void>;
}

const DEFAULT_LIMITS: JsGraderLimits = {
  timeoutMs: 6_000,
  cpuTimeMs: 6_000,
  memoryMb: 128,
  outputBytes: 8 * 1024 ** 2,
};

function resolveLimits(overrides: Partial<JsGraderLimits> = {}): JsGraderLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS) || typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new AipoError({
        code: 'INVALID_CONFIG',
        message: `JS grader limit ${key} must be a positive finite number`,
        details: { key, value },
      });
    }
    limits[key as keyof JsGraderLimits] = value;
  }
  if (limits.memoryMb < 8)
    throw new AipoError({ code: 'INVALID_CONFIG', message: 'memoryMb must be at least 8 (isolated-vm minimum)' });
  return limits;
}

type Outcome = { verdict: CodeVerdict; failingTest?: FailingTest };

function failure(reply: WorkerReply, timeoutMs: number): { verdict: CodeVerdict; message: string } | undefined {
  switch (reply.status) {
    case 'ok':
    case 'ready':
    case 'closed':
      return undefined;
    case 'timeout':
      return { verdict: 'time_limit', message: reply.message ?? `no result within ${timeoutMs} ms` };
    default:
      return { verdict: reply.status, message: reply.message ?? reply.status };
  }
}

/**
 * JavaScript/TypeScript code grader on isolated-vm with LiveCodeBench semantics: stdin tests (the
 * program reads `input`/`readline()`/`require('fs').readFileSync(0)` and prints) compared like
 * LiveCodeBench's grade_stdio, or functional tests (`new Solution()[fn_name]` or a top-level function,
 * JSON arguments, the result JSON-stringified inside the isolate and compared on the host).
 */
export function createJsGrader(options: JsGraderOptions = {}): JsGrader {
  const limits = resolveLimits(options.limits);
  const extraction = options.extraction ?? 'last-fenced-block';
  const pool = new JsWorkerPool(options.poolSize ?? availableParallelism(), options.maxJobsPerWorker ?? 200);
  const job = (timeoutMs: number) => ({
    timeoutMs,
    cpuTimeMs: limits.cpuTimeMs,
    memoryMb: limits.memoryMb,
    outputBytes: limits.outputBytes,
  });

  async function send(worker: JsWorker, message: Record<string, unknown>, timeoutMs: number): Promise<WorkerReply> {
    try {
      return await worker.request(message, timeoutMs + HOST_GRACE_MS);
    } catch (error) {
      if (!(error instanceof WorkerLostError)) throw error;
      // a host kill is the time limit; a worker that died is the memory limit when V8 said so on
      // stderr (its OOM abort, J5/J6), else a crash reported as a runtime error
      if (error.reason === 'deadline') return { status: 'timeout' };
      await new Promise((resolve) => setTimeout(resolve, 50)); // let the last stderr bytes arrive
      const oom = /out of memory|heap limit|allocation failed/i.test(worker.stderr);
      return {
        status: oom ? 'memory_limit' : 'runtime_error',
        message: `the isolate's process died: ${error.message}`,
      };
    }
  }

  async function runTests(worker: JsWorker, code: string, language: string, reference: LcbReference): Promise<Outcome> {
    const deadline = performance.now() + (limits.timeoutMs + 1_000) * reference.tests.length + 5_000;
    const functional = reference.fn_name !== undefined;
    const expected = functional ? reference.tests.map((test) => parsePythonJson(test.output)) : [];
    for (const [index, test] of reference.tests.entries()) {
      const timeoutMs = Math.max(1, Math.floor(Math.min(limits.timeoutMs, deadline - performance.now())));
      if (index === 0 && functional) {
        const opened = await send(
          worker,
          { op: 'open', code, language, fnName: reference.fn_name, ...job(timeoutMs) },
          timeoutMs,
        );
        const openFailure = failure(opened, timeoutMs);
        if (openFailure) return failed({ verdict: openFailure.verdict, index, test, message: openFailure.message });
      }
      const reply = functional
        ? await send(worker, { op: 'call', args: test.input, ...job(timeoutMs) }, timeoutMs)
        : await send(worker, { op: 'run', code, language, input: test.input, ...job(timeoutMs) }, timeoutMs);
      const runFailure = failure(reply, timeoutMs);
      if (runFailure)
        return failed({ verdict: runFailure.verdict, index, test, message: runFailure.message, actual: reply.stdout });
      if (functional) {
        let actual: PythonValue;
        try {
          actual = parsePythonJson(reply.value ?? '');
        } catch {
          return failed({ verdict: 'runtime_error', index, test, message: 'the result is not JSON' });
        }
        if (!pythonEquals(actual, expected[index] as PythonValue)) {
          return failed({
            verdict: 'wrong_answer',
            index,
            test,
            message: 'returned value differs',
            actual: describePythonValue(actual),
          });
        }
      } else {
        const comparison = compareStdioOutput({ actual: reply.stdout ?? '', expected: test.output });
        if (!comparison.equal)
          return failed({ verdict: 'wrong_answer', index, test, message: comparison.message, actual: reply.stdout });
      }
    }
    return { verdict: 'accepted' };
  }

  async function grade(input: GradeInput<LcbReference>): Promise<GradeResult> {
    if (typeof input?.output !== 'string') {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'grade input.output must be a string' });
    }
    const reference = parseLcbReference(input.reference);
    const code = extractProgram(input.output, extraction);
    const testsTotal = reference.tests.length;
    if (code.trim() === '') {
      return codeGradeResult({ verdict: 'compile_error', testsRun: 0, testsTotal, parseFailed: true });
    }
    const fence = lastFenceLanguage(input.output);
    const language =
      options.language === 'typescript' ||
      (options.language !== 'javascript' && (fence === 'ts' || fence === 'typescript'))
        ? 'typescript'
        : 'javascript';
    if (input.signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'grading was aborted' });
    const worker = await pool.acquire();
    const abort = () => worker.kill();
    input.signal?.addEventListener('abort', abort, { once: true });
    const started = performance.now();
    let healthy = false;
    try {
      const outcome = await runTests(worker, code, language, reference);
      healthy = endedByItself(outcome.verdict);
      if (input.signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'grading was aborted' });
      return codeGradeResult({
        verdict: outcome.verdict,
        testsRun: outcome.failingTest ? outcome.failingTest.index + 1 : testsTotal,
        testsTotal,
        failingTest: outcome.failingTest,
        extra: { language, elapsedMs: Math.round(performance.now() - started) },
      });
    } finally {
      input.signal?.removeEventListener('abort', abort);
      if (worker.alive && reference.fn_name !== undefined) await send(worker, { op: 'close' }, 1_000);
      pool.release(worker, { healthy });
    }
  }

  return {
    id: 'code-js',
    description: 'JavaScript/TypeScript programs in isolated-vm inside a disposable process, LiveCodeBench semantics',
    needsSandbox: true,
    grade,
    close: () => pool.close(),
  };
}

function failed(options: TestFailureOptions): Outcome {
  return testFailure(options);
}

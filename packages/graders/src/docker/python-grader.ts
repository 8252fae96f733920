import { AipoError } from '@aipo/core';
import { compareStdioOutput } from '../code/compare-stdio-output';
import { extractProgram, type CodeExtraction } from '../code/extract-code';
import {
  isAssertReference,
  parseAssertReference,
  parseLcbReference,
  type AssertReference,
  type LcbReference,
  type LcbTest,
} from '../code/lcb-reference';
import { parsePythonJson } from '../code/parse-python-json';
import { decodeTaggedValue, describePythonValue, pythonEquals, type PythonValue } from '../code/python-value';
import {
  codeGradeResult,
  testFailure,
  type TestFailureOptions,
  endedByItself,
  type CodeVerdict,
  type FailingTest,
} from '../code/verdict';
import type { GradeInput, GradeResult, Grader } from '../grader';
import { ContainerPool } from './container-pool';
import type { DockerEngine, DockerEngineOptions } from './docker-engine';
import { runFailure } from './run-outcome';
import { SandboxLostError, type RunnerReply, type SandboxContainer } from './sandbox-container';
import { resolveSandboxLimits, type SandboxLimits } from './sandbox-limits';

/** Default image name built by `scripts/build-sandbox-image.mjs`. */
export const DEFAULT_SANDBOX_IMAGE = 'aipo-sandbox-python:3';

/** Slack for the host-side kill past the runner's own deadline (the runner answers right after it). */
const HOST_GRACE_MS = 3_000;

export interface PythonGraderOptions {
  /** sandbox image with python3; default `aipo-sandbox-python:3` */
  image?: string;
  /** Docker engines (dockerode options or clients); default `DOCKER_HOST` / the local socket */
  engines?: Array<DockerEngineOptions | DockerEngine>;
  /** warm containers, default one per core */
  poolSize?: number;
  /** replace a container after this many programs even if all went well (default 100) */
  maxJobsPerContainer?: number;
  /** one fresh container per test, never reused (slow; for untrusted-at-scale runs) */
  paranoid?: boolean;
  /**
   * when a container is replaced after a program fails: `'any'` (default) after every verdict but
   * accepted; `'killed'` only after a run the sandbox had to kill (time, memory, output limits) or
   * one that left processes behind. Programs that end by themselves leave a clean container (the
   * runner kills leftovers and wipes /tmp, /dev/shm and SysV IPC), so `'killed'` is safe and about
   * 3× faster on HumanEval-style sets where most mutants raise.
   */
  recycleAfterFailure?: 'any' | 'killed';
  /** resource limits; `timeoutMs` is per test (LiveCodeBench: 6 s) */
  limits?: Partial<SandboxLimits>;
  /** how to get the program out of the model output; default LiveCodeBench's last fenced block */
  extraction?: CodeExtraction;
}

/** The Python grader: a Grader plus lifecycle control of its container pool. */
export interface PythonGrader extends Grader<LcbReference | AssertReference> {
  /** start the warm containers now instead of on the first grade */
  warmUp(): Promise<void>;
  /** destroy every container */
  close(): Promise<void>;
}

type TestOutcome = { verdict: CodeVerdict; failingTest?: FailingTest; healthy: boolean };

/**
 * Python code grader with LiveCodeBench semantics (eval.md §1.6), run in Docker: stdin/stdout tests
 * (strip, lines, exact or Decimal tokens) or functional tests (JSON arguments into
 * `Solution().<fn_name>`, the result compared on the host with Python `==` semantics, a top-level tuple
 * equal to a list); all tests must pass and the first failure stops; 6 s per test plus LiveCodeBench's
 * global deadline `(timeout + 1) · tests + 5 s`. HumanEval/MBPP assert programs take an
 * {@link AssertReference}. A failing program is a result; a missing engine or image throws
 * SANDBOX_UNAVAILABLE.
 */
export function createPythonGrader(options: PythonGraderOptions = {}): PythonGrader {
  const limits = resolveSandboxLimits(options.limits);
  const extraction = options.extraction ?? 'last-fenced-block';
  const pool = new ContainerPool({
    image: options.image ?? DEFAULT_SANDBOX_IMAGE,
    limits,
    engines: options.engines,
    size: options.poolSize,
    maxJobsPerContainer: options.maxJobsPerContainer,
    paranoid: options.paranoid,
  });

  const job = (timeoutMs: number, cpuSeconds: number) => ({
    timeout: timeoutMs / 1000,
    memory: Math.floor(limits.memoryBytes),
    cpu: Math.ceil(cpuSeconds),
    fsize: Math.floor(limits.fileBytes),
    output: Math.floor(limits.outputBytes),
  });

  async function grade(input: GradeInput<LcbReference | AssertReference>): Promise<GradeResult> {
    if (typeof input?.output !== 'string') {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'grade input.output must be a string' });
    }
    const reference = isAssertReference(input.reference)
      ? parseAssertReference(input.reference)
      : parseLcbReference(input.reference);
    const testsTotal = 'tests' in reference ? reference.tests.length : 1;
    const code = extractProgram(input.output, extraction);
    if (code.trim() === '') {
      return codeGradeResult({
        verdict: 'compile_error',
        testsRun: 0,
        testsTotal,
        parseFailed: true,
        extra: { message: extraction === 'raw' ? 'empty program' : 'no fenced code block in the output' },
      });
    }
    throwIfAborted(input.signal);
    const started = performance.now();
    let testsRun = 0;
    const session = new Session(pool, options.paranoid === true, input.signal);
    try {
      let outcome: TestOutcome;
      if ('testCode' in reference) {
        testsRun = 1;
        outcome = await runAssertProgram(session, code, reference);
      } else {
        // LiveCodeBench's global limit for one sample: (timeout + 1) * tests + 5 seconds
        const deadline = performance.now() + (limits.timeoutMs + 1_000) * reference.tests.length + 5_000;
        const run = reference.fn_name === undefined ? runStdinTests : runFunctionalTests;
        outcome = await run({ session, code, reference, deadline, onTest: (index) => (testsRun = index + 1) });
      }
      const recycleAnyFailure = (options.recycleAfterFailure ?? 'any') === 'any';
      session.healthy = session.healthy && outcome.healthy && !(recycleAnyFailure && outcome.verdict !== 'accepted');
      return codeGradeResult({
        verdict: outcome.verdict,
        testsRun,
        testsTotal,
        failingTest: outcome.failingTest,
        extra: { elapsedMs: Math.round(performance.now() - started) },
      });
    } finally {
      await session.end();
    }
  }

  async function runAssertProgram(session: Session, code: string, reference: AssertReference): Promise<TestOutcome> {
    const program = `${code}\n\n${reference.testCode}\n${reference.entryPoint ? `\ncheck(${reference.entryPoint})\n` : ''}`;
    const container = await session.container();
    const reply = await session.request(
      container,
      { op: 'exec', mode: 'script', code: program, input: '', ...job(limits.timeoutMs, limits.timeoutMs / 1000 + 1) },
      limits.timeoutMs,
    );
    const test = { input: '', output: '' };
    if (reply instanceof SandboxLostError) return lostOutcome(reply, 0, test);
    const leftovers = (reply.leftovers ?? 0) > 0;
    const failure = runFailure(reply, limits.timeoutMs);
    if (failure)
      return unhealthyIf(
        leftovers,
        failed({ verdict: failure.verdict, index: 0, test, message: failure.message, actual: reply.stdout }),
      );
    if (reply.completed !== true)
      return unhealthyIf(
        leftovers,
        failed({ verdict: 'runtime_error', index: 0, test, message: 'the program exited before its tests finished' }),
      );
    return { verdict: 'accepted', healthy: !leftovers };
  }

  interface RunTestsOptions {
    session: Session;
    code: string;
    reference: LcbReference;
    deadline: number;
    onTest: (index: number) => void;
  }

  async function runStdinTests(options: RunTestsOptions): Promise<TestOutcome> {
    return options.session.paranoid ? runStdinTestsOneByOne(options) : runStdinBatch(options);
  }

  /** All stdin tests in one job: the runner streams one reply per test, the host stops it at a wrong answer. */
  async function runStdinBatch({ session, code, reference, deadline, onTest }: RunTestsOptions): Promise<TestOutcome> {
    const container = await session.container();
    const budget = (deadline - performance.now()) / 1000;
    let outcome: TestOutcome | undefined;
    let healthy = true;
    let index = 0;
    const lost = await session.stream(
      container,
      {
        op: 'batch',
        mode: 'stdin',
        code,
        inputs: reference.tests.map((test) => test.input),
        budget,
        ...job(limits.timeoutMs, limits.timeoutMs / 1000 + 1),
      },
      limits.timeoutMs,
      (reply) => {
        if (reply.status === 'stopped') return false;
        index = reply.index ?? index;
        const test = reference.tests[index] as { input: string; output: string };
        onTest(index);
        healthy &&= (reply.leftovers ?? 0) === 0;
        if (reply.budget) {
          outcome = failed({ verdict: 'time_limit', index, test, message: 'global deadline of the sample exceeded' });
          return false;
        }
        const failure = runFailure(reply, limits.timeoutMs);
        if (failure) {
          outcome = failed({ verdict: failure.verdict, index, test, message: failure.message, actual: reply.stdout });
          return false;
        }
        const comparison = compareStdioOutput({ actual: reply.stdout ?? '', expected: test.output });
        if (!comparison.equal) {
          outcome = failed({ verdict: 'wrong_answer', index, test, message: comparison.message, actual: reply.stdout });
          return false;
        }
        index += 1;
        return true;
      },
    );
    if (outcome) return unhealthyIf(!healthy, outcome);
    if (lost) return lostOutcome(lost, index, reference.tests[index] ?? { input: '', output: '' });
    return { verdict: 'accepted', healthy };
  }

  async function runStdinTestsOneByOne({
    session,
    code,
    reference,
    deadline,
    onTest,
  }: RunTestsOptions): Promise<TestOutcome> {
    let healthy = true;
    for (const [index, test] of reference.tests.entries()) {
      onTest(index);
      const timeoutMs = Math.min(limits.timeoutMs, deadline - performance.now());
      if (timeoutMs <= 0)
        return failed({ verdict: 'time_limit', index, test, message: 'global deadline of the sample exceeded' });
      const container = await session.container();
      const reply = await session.request(
        container,
        { op: 'exec', mode: 'stdin', code, input: test.input, ...job(timeoutMs, timeoutMs / 1000 + 1) },
        timeoutMs,
      );
      if (reply instanceof SandboxLostError) return lostOutcome(reply, index, test);
      healthy &&= (reply.leftovers ?? 0) === 0;
      const failure = runFailure(reply, timeoutMs);
      if (failure)
        return unhealthyIf(
          !healthy,
          failed({ verdict: failure.verdict, index, test, message: failure.message, actual: reply.stdout }),
        );
      const comparison = compareStdioOutput({ actual: reply.stdout ?? '', expected: test.output });
      if (!comparison.equal)
        return unhealthyIf(
          !healthy,
          failed({ verdict: 'wrong_answer', index, test, message: comparison.message, actual: reply.stdout }),
        );
      session.release();
    }
    return { verdict: 'accepted', healthy };
  }

  /** The verdict of one returned value, or undefined when it equals the expected one. */
  function judgeCall(reply: RunnerReply, index: number, test: LcbTest, expected: PythonValue): TestOutcome | undefined {
    const failure = runFailure(reply, limits.timeoutMs);
    if (failure) return failed({ verdict: failure.verdict, index, test, message: failure.message });
    let actual: PythonValue;
    try {
      actual = decodeTaggedValue(JSON.parse(reply.value ?? ''));
    } catch {
      return failed({ verdict: 'runtime_error', index, test, message: 'the returned value could not be read' });
    }
    if (!pythonEquals(actual, expected)) {
      return failed({
        verdict: 'wrong_answer',
        index,
        test,
        message: 'returned value differs',
        actual: describePythonValue(actual),
      });
    }
    return undefined;
  }

  /** Load the program and bind Solution().<fn_name> (or the function) in a session process. */
  async function openSession(
    session: Session,
    container: SandboxContainer,
    code: string,
    fn: string,
    deadline: number,
    test: LcbTest,
  ) {
    const timeoutMs = Math.min(limits.timeoutMs, deadline - performance.now());
    const cpuSeconds = (deadline - performance.now()) / 1000 + 1;
    const reply = await session.request(container, { op: 'open', code, fn, ...job(timeoutMs, cpuSeconds) }, timeoutMs);
    if (reply instanceof SandboxLostError) return lostOutcome(reply, 0, test);
    if (reply.status !== 'ready') {
      const failure = runFailure(reply, timeoutMs) ?? {
        verdict: 'runtime_error' as const,
        message: `function ${fn} not found`,
      };
      return failed({ verdict: failure.verdict, index: 0, test, message: failure.message });
    }
    session.onEnd = () => session.request(container, { op: 'close', timeout: 5 }, 5_000);
    return undefined;
  }

  async function runFunctionalTests(options: RunTestsOptions): Promise<TestOutcome> {
    const { session, code, reference, deadline, onTest } = options;
    // a malformed expected output is a broken reference: refuse it before running anything
    const expected = reference.tests.map((test) => parsePythonJson(test.output));
    const fn = reference.fn_name as string;
    const first = reference.tests[0] as LcbTest;
    if (session.paranoid) {
      // a fresh container (and Solution instance) per test
      for (const [index, test] of reference.tests.entries()) {
        onTest(index);
        const timeoutMs = Math.min(limits.timeoutMs, deadline - performance.now());
        if (timeoutMs <= 0)
          return failed({ verdict: 'time_limit', index, test, message: 'global deadline of the sample exceeded' });
        const container = await session.container();
        const openFailure = await openSession(session, container, code, fn, deadline, test);
        if (openFailure)
          return { ...openFailure, failingTest: openFailure.failingTest && { ...openFailure.failingTest, index } };
        const reply = await session.request(
          container,
          { op: 'call', args: test.input, ...job(timeoutMs, 0) },
          timeoutMs,
        );
        if (reply instanceof SandboxLostError) return lostOutcome(reply, index, test);
        const verdict = judgeCall(reply, index, test, expected[index] as PythonValue);
        if (verdict) return verdict;
        session.release();
      }
      return { verdict: 'accepted', healthy: true };
    }
    onTest(0);
    const container = await session.container();
    const openFailure = await openSession(session, container, code, fn, deadline, first);
    if (openFailure) return openFailure;
    // every call in one streamed job; the host stops it at the first wrong value
    let outcome: TestOutcome | undefined;
    let index = 0;
    const lost = await session.stream(
      container,
      {
        op: 'calls',
        calls: reference.tests.map((test) => test.input),
        budget: (deadline - performance.now()) / 1000,
        ...job(limits.timeoutMs, 0),
      },
      limits.timeoutMs,
      (reply) => {
        if (reply.status === 'stopped') return false;
        index = reply.index ?? index;
        const test = reference.tests[index] as LcbTest;
        onTest(index);
        outcome = reply.budget
          ? failed({ verdict: 'time_limit', index, test, message: 'global deadline of the sample exceeded' })
          : judgeCall(reply, index, test, expected[index] as PythonValue);
        if (outcome) return false;
        index += 1;
        return true;
      },
    );
    if (outcome) return outcome;
    if (lost) return lostOutcome(lost, index, reference.tests[index] ?? first);
    return { verdict: 'accepted', healthy: true };
  }

  return {
    id: 'code-python',
    description:
      'Python programs in a Docker sandbox, LiveCodeBench semantics (stdin and functional tests) or assert programs',
    needsSandbox: true,
    grade,
    warmUp: () => pool.warmUp(),
    close: () => pool.close(),
  };
}

/** A failed test; a program that ended by itself leaves a clean container (the runner killed every
 * leftover process and wiped /tmp, /dev/shm and SysV IPC, and reports anything it had to clean). */
function failed(options: TestFailureOptions): TestOutcome {
  return { ...testFailure(options), healthy: endedByItself(options.verdict) };
}

function unhealthyIf(condition: boolean, outcome: TestOutcome): TestOutcome {
  return condition ? { ...outcome, healthy: false } : outcome;
}

function lostOutcome(error: SandboxLostError, index: number, test: { input: string; output: string }): TestOutcome {
  const outcome =
    error.reason === 'deadline'
      ? failed({ verdict: 'time_limit', index, test, message: 'killed by the host at the deadline' })
      : failed({ verdict: 'runtime_error', index, test, message: 'the sandbox container died' });
  return unhealthyIf(true, outcome);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'grading was aborted', cause: signal.reason });
}

/**
 * The containers one grade call uses: one leased container for the whole program, or in paranoid
 * mode a fresh one per test. Lost containers and failed runs are reported unhealthy (recycled).
 */
class Session {
  healthy = true;
  onEnd: (() => Promise<unknown>) | undefined;
  private current: SandboxContainer | undefined;

  constructor(
    private readonly pool: ContainerPool,
    readonly paranoid: boolean,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async container(): Promise<SandboxContainer> {
    throwIfAborted(this.signal);
    this.current ??= await this.pool.acquire();
    return this.current;
  }

  /** Send a job; a lost container (host kill, death) is returned, not thrown. */
  request(
    container: SandboxContainer,
    message: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<RunnerReply | SandboxLostError> {
    return this.guard(container, () => container.request(message, timeoutMs + HOST_GRACE_MS));
  }

  /** Stream a batch job; a lost container is returned, not thrown. */
  async stream(
    container: SandboxContainer,
    message: Record<string, unknown>,
    timeoutMs: number,
    onReply: (reply: RunnerReply) => boolean,
  ): Promise<SandboxLostError | undefined> {
    const result = await this.guard(container, () => container.stream(message, timeoutMs + HOST_GRACE_MS, onReply));
    return result instanceof SandboxLostError ? result : undefined;
  }

  /** Abort destroys the container; a lost container marks the session unhealthy and is returned. */
  private async guard<T>(container: SandboxContainer, run: () => Promise<T>): Promise<T | SandboxLostError> {
    const abort = () => void container.destroy();
    this.signal?.addEventListener('abort', abort, { once: true });
    try {
      return await run();
    } catch (error) {
      if (error instanceof SandboxLostError) {
        this.healthy = false;
        throwIfAborted(this.signal);
        return error;
      }
      throw error;
    } finally {
      this.signal?.removeEventListener('abort', abort);
    }
  }

  /** Paranoid mode hands each test's container back (destroyed) before the next test. */
  release(): void {
    if (!this.paranoid || this.current === undefined) return;
    this.pool.release(this.current, { healthy: false });
    this.current = undefined;
    this.onEnd = undefined;
  }

  async end(): Promise<void> {
    const container = this.current;
    this.current = undefined;
    if (container === undefined) return;
    if (this.onEnd && container.alive) {
      const reply = await this.onEnd().catch(() => undefined);
      if (reply === undefined || reply instanceof SandboxLostError || (reply as RunnerReply).leftovers)
        this.healthy = false;
    }
    this.pool.release(container, { healthy: this.healthy && container.alive });
  }
}

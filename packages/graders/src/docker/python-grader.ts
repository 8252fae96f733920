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
import { ContainerPool, type ContainerPoolStats } from './container-pool';
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
  /** pre-warmed standby containers that replace a recycled one at once; default one per pool slot */
  spares?: number;
  /** one fresh container per test, never reused (slow; for untrusted-at-scale runs) */
  paranoid?: boolean;
  /**
   * which failures recycle the container (README "Recycling"): `'unclean'` (default) after every
   * run that may have left state behind: killed at a limit (time, memory, output), the container
   * lost or killed by the host, a runner error, or the post-run check finding anything (escaped
   * processes, files outside the work dir, IPC objects, residue of the wipe); `'any'` also after
   * every other verdict but accepted (a wrong answer or an exception that ended cleanly)
   */
  recycleAfterFailure?: RecyclePolicy;
  /** resource limits; `timeoutMs` is per test (LiveCodeBench: 6 s) */
  limits?: Partial<SandboxLimits>;
  /** how to get the program out of the model output; default LiveCodeBench's last fenced block */
  extraction?: CodeExtraction;
}

export type RecyclePolicy = 'unclean' | 'any';

/** Why a container was retired after a program (in `details.sandbox.cause`). */
export type RecycleCause = 'killed' | 'leftovers' | 'lost' | 'runner' | 'failed' | 'max-jobs' | 'paranoid';

/** The Python grader: a Grader plus lifecycle control of its container pool. */
export interface PythonGrader extends Grader<LcbReference | AssertReference> {
  /** start the warm containers now instead of on the first grade */
  warmUp(): Promise<void>;
  /** the pool's counters (live, idle, spares, containers started and retired) */
  stats(): ContainerPoolStats;
  /** destroy every container */
  close(): Promise<void>;
}

type TestOutcome = { verdict: CodeVerdict; failingTest?: FailingTest; recycle?: RecycleCause };

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
  const policy = options.recycleAfterFailure ?? 'unclean';
  if (policy !== 'unclean' && policy !== 'any') {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `recycleAfterFailure must be 'unclean' or 'any', got ${String(policy)}` });
  }
  const pool = new ContainerPool({
    image: options.image ?? DEFAULT_SANDBOX_IMAGE,
    limits,
    engines: options.engines,
    size: options.poolSize,
    maxJobsPerContainer: options.maxJobsPerContainer,
    spares: options.spares,
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
    let result: GradeResult;
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
      session.flag(outcome.recycle);
      if (policy === 'any' && outcome.verdict !== 'accepted') session.flag('failed');
      result = codeGradeResult({
        verdict: outcome.verdict,
        testsRun,
        testsTotal,
        failingTest: outcome.failingTest,
        extra: { elapsedMs: Math.round(performance.now() - started) },
      });
    } finally {
      await session.end();
    }
    return { ...result, details: { ...result.details, sandbox: session.report() } };
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
    return leftovers ? { verdict: 'accepted', recycle: 'leftovers' } : { verdict: 'accepted' };
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
    let clean = true;
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
        clean &&= (reply.leftovers ?? 0) === 0;
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
    if (outcome) return unhealthyIf(!clean, outcome);
    if (lost) return lostOutcome(lost, index, reference.tests[index] ?? { input: '', output: '' });
    return unhealthyIf(!clean, { verdict: 'accepted' });
  }

  async function runStdinTestsOneByOne({
    session,
    code,
    reference,
    deadline,
    onTest,
  }: RunTestsOptions): Promise<TestOutcome> {
    let clean = true;
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
      clean &&= (reply.leftovers ?? 0) === 0;
      const failure = runFailure(reply, timeoutMs);
      if (failure)
        return unhealthyIf(
          !clean,
          failed({ verdict: failure.verdict, index, test, message: failure.message, actual: reply.stdout }),
        );
      const comparison = compareStdioOutput({ actual: reply.stdout ?? '', expected: test.output });
      if (!comparison.equal)
        return unhealthyIf(
          !clean,
          failed({ verdict: 'wrong_answer', index, test, message: comparison.message, actual: reply.stdout }),
        );
      session.release();
    }
    return { verdict: 'accepted' };
  }

  /** The verdict of one returned value, or undefined when it equals the expected one. */
  function judgeCall(reply: RunnerReply, index: number, test: LcbTest, expected: PythonValue): TestOutcome | undefined {
    const failure = runFailure(reply, limits.timeoutMs);
    if (failure)
      return unhealthyIf(
        (reply.leftovers ?? 0) > 0,
        failed({ verdict: failure.verdict, index, test, message: failure.message }),
      );
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
      return unhealthyIf(
        (reply.leftovers ?? 0) > 0,
        failed({ verdict: failure.verdict, index: 0, test, message: failure.message }),
      );
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
      return { verdict: 'accepted' };
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
    return { verdict: 'accepted' };
  }

  return {
    id: 'code-python',
    description:
      'Python programs in a Docker sandbox, LiveCodeBench semantics (stdin and functional tests) or assert programs',
    needsSandbox: true,
    grade,
    warmUp: () => pool.warmUp(),
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}

/** A failed test; a program that ended by itself leaves a clean container (the runner killed every
 * leftover process and wiped /tmp, /dev/shm and SysV IPC, and reports anything it had to clean). */
function failed(options: TestFailureOptions): TestOutcome {
  const outcome = testFailure(options);
  return endedByItself(options.verdict) ? outcome : { ...outcome, recycle: 'killed' };
}

/** The post-run check found something (escaped processes, stray files, IPC, residue): recycle. */
function unhealthyIf(condition: boolean, outcome: TestOutcome): TestOutcome {
  return condition && outcome.recycle === undefined ? { ...outcome, recycle: 'leftovers' } : outcome;
}

function lostOutcome(error: SandboxLostError, index: number, test: { input: string; output: string }): TestOutcome {
  const outcome =
    error.reason === 'deadline'
      ? failed({ verdict: 'time_limit', index, test, message: 'killed by the host at the deadline' })
      : failed({ verdict: 'runtime_error', index, test, message: 'the sandbox container died' });
  return { ...outcome, recycle: 'lost' };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'grading was aborted', cause: signal.reason });
}

/** Replies that mean the runner itself misbehaved: its container is not trusted any more. */
const RUNNER_TROUBLE = new Set<RunnerReply['status']>(['runner_error', 'bad_request', 'no_session']);

/** What `details.sandbox` reports: which container ran the program, and whether it was retired. */
export interface SandboxReport {
  /** the container's short id (its hostname inside) */
  container?: string;
  recycled: boolean;
  cause?: RecycleCause;
  /** what the runner's post-run check cleaned after the last job (all zero for a clean run) */
  cleanup?: RunnerReply['cleanup'];
}

/**
 * The containers one grade call uses: one leased container for the whole program, or in paranoid
 * mode a fresh one per test. The first recycle cause flagged decides the container's fate.
 */
class Session {
  onEnd: (() => Promise<unknown>) | undefined;
  private cause: RecycleCause | undefined;
  private current: SandboxContainer | undefined;
  private containerId: string | undefined;
  private recycled = false;
  private cleanup: RunnerReply['cleanup'];

  constructor(
    private readonly pool: ContainerPool,
    readonly paranoid: boolean,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Mark the container for recycling (the first cause is kept). */
  flag(cause: RecycleCause | undefined): void {
    this.cause ??= cause;
  }

  async container(): Promise<SandboxContainer> {
    throwIfAborted(this.signal);
    if (this.current === undefined) {
      this.current = await this.pool.acquire();
      this.containerId = this.current.container.id.slice(0, 12);
    }
    return this.current;
  }

  /** Send a job; a lost container (host kill, death) is returned, not thrown. */
  async request(
    container: SandboxContainer,
    message: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<RunnerReply | SandboxLostError> {
    const reply = await this.guard(container, () => container.request(message, timeoutMs + HOST_GRACE_MS));
    if (!(reply instanceof SandboxLostError)) this.inspect(reply);
    return reply;
  }

  /** Stream a batch job; a lost container is returned, not thrown. */
  async stream(
    container: SandboxContainer,
    message: Record<string, unknown>,
    timeoutMs: number,
    onReply: (reply: RunnerReply) => boolean,
  ): Promise<SandboxLostError | undefined> {
    const result = await this.guard(container, () =>
      container.stream(message, timeoutMs + HOST_GRACE_MS, (reply) => {
        this.inspect(reply);
        return onReply(reply);
      }),
    );
    return result instanceof SandboxLostError ? result : undefined;
  }

  private inspect(reply: RunnerReply): void {
    if (RUNNER_TROUBLE.has(reply.status)) this.flag('runner');
    if (reply.cleanup) this.cleanup = reply.cleanup;
  }

  /** Abort destroys the container; a lost container is flagged and returned. */
  private async guard<T>(container: SandboxContainer, run: () => Promise<T>): Promise<T | SandboxLostError> {
    const abort = () => void container.destroy();
    this.signal?.addEventListener('abort', abort, { once: true });
    try {
      return await run();
    } catch (error) {
      if (error instanceof SandboxLostError) {
        this.flag('lost');
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
      if (reply === undefined || reply instanceof SandboxLostError) this.flag('lost');
      else if (((reply as RunnerReply).leftovers ?? 0) > 0) this.flag('leftovers');
    }
    if (!container.alive) this.flag('lost');
    if (this.paranoid) this.flag('paranoid');
    this.recycled = this.pool.release(container, { healthy: this.cause === undefined });
    if (this.recycled) this.flag('max-jobs'); // retired with no other cause: its job count ran out
  }

  report(): SandboxReport {
    return {
      ...(this.containerId === undefined ? {} : { container: this.containerId }),
      recycled: this.recycled,
      ...(this.recycled && this.cause !== undefined ? { cause: this.cause } : {}),
      ...(this.cleanup === undefined ? {} : { cleanup: this.cleanup }),
    };
  }
}

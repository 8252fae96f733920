import { spawnSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMathEquivalent } from './math-equivalent';
import { MathPool } from './math-pool';
import { createMathGrader } from './math-grader';

const OPTIONS = { floatRounding: 6, relativeTolerance: 1e-9 };

describe('MathPool', () => {
  it('terminates a worker past its deadline, records "not equal (timeout)", and keeps serving', async () => {
    await using pool = new MathPool({ size: 1, timeoutMs: 300 });
    // ecosystem.md §1.5: compute-engine needs seconds for 100000!
    const slow = await pool.compare({ gold: '100000!', pred: '1', options: OPTIONS });
    expect(slow).toMatchObject({ equal: false, method: 'timeout', timedOut: true });
    expect(slow.reason).toContain('300 ms');
    const next = await pool.compare({ gold: '(x+1)^2', pred: 'x^2+2x+1', options: OPTIONS, timeoutMs: 10_000 });
    expect(next).toMatchObject({ equal: true, timedOut: false });
  });

  it('runs comparisons concurrently on several workers and answers each one', async () => {
    await using pool = new MathPool({ size: 2, timeoutMs: 10_000 });
    const pairs: Array<[string, string, boolean]> = [
      ['\\sqrt{8}', '2\\sqrt{2}', true],
      ['\\sqrt{8}', '3\\sqrt{2}', false],
      ['\\sin^2 x', '1-\\cos^2 x', true],
      ['(1,2)', '(2,1)', false],
    ];
    const verdicts = await Promise.all(pairs.map(([gold, pred]) => isMathEquivalent(gold, pred, { pool })));
    expect(verdicts).toEqual(pairs.map(([, , expected]) => expected));
  });

  it('rejects comparisons after close with ABORTED, and rejects bad options with INVALID_ARGUMENT', async () => {
    const pool = new MathPool();
    await pool.close();
    await expect(pool.compare({ gold: '1', pred: '1', options: OPTIONS })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(() => new MathPool({ size: 0 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new MathPool({ timeoutMs: Number.NaN })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(isMathEquivalent('1', '2', { floatRounding: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('an abort cancels a running comparison: ABORTED, worker terminated and replaced, no listener left', async () => {
    await using pool = new MathPool({ size: 1, timeoutMs: 120_000 });
    // a warm worker first, so the slow comparison below is running (not queued) when the abort comes
    expect(await pool.compare({ gold: '(x+1)^2', pred: 'x^2+2x+1', options: OPTIONS })).toMatchObject({ equal: true });
    const controller = new AbortController();
    const slow = pool.compare({ gold: '100000!', pred: '1', options: OPTIONS, signal: controller.signal });
    await until(() => pool.stats().busy === 1);
    controller.abort(new Error('run cancelled'));
    await expect(slow).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pool.stats()).toMatchObject({ busy: 0, queued: 0, terminated: 1 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // the replacement worker serves the next comparison
    expect(await pool.compare({ gold: '\\sqrt{8}', pred: '2\\sqrt{2}', options: OPTIONS })).toMatchObject({ equal: true });
  }, 60_000);

  it('an abort drops a queued comparison; a settled one leaves no listener behind', async () => {
    await using pool = new MathPool({ size: 1, timeoutMs: 120_000 });
    const first = new AbortController();
    const second = new AbortController();
    const running = pool.compare({ gold: '100000!', pred: '1', options: OPTIONS, signal: first.signal });
    const queued = pool.compare({ gold: 'x', pred: 'x', options: OPTIONS, signal: second.signal });
    await until(() => pool.stats().busy === 1 && pool.stats().queued === 1);
    second.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pool.stats()).toMatchObject({ busy: 1, queued: 0, terminated: 0 });
    first.abort();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    const kept = new AbortController();
    expect(await pool.compare({ gold: '2x', pred: 'x+x', options: OPTIONS, signal: kept.signal })).toMatchObject({ equal: true });
    expect(getEventListeners(kept.signal, 'abort')).toHaveLength(0);
    // already aborted: refused before any work
    await expect(pool.compare({ gold: 'x', pred: 'x', options: OPTIONS, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  }, 60_000);

  it('the math grader honours GradeInput.signal', async () => {
    await using pool = new MathPool({ size: 1, timeoutMs: 120_000 });
    const grader = createMathGrader({ pool });
    await expect(grader.grade({ output: '\\boxed{2}', reference: '2', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    const controller = new AbortController();
    const grading = grader.grade({ output: '\\boxed{100000!}', reference: '1', signal: controller.signal });
    await until(() => pool.stats().busy === 1);
    controller.abort();
    await expect(grading).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pool.stats()).toMatchObject({ busy: 0, terminated: 1 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  }, 60_000);

  it('a worker that cannot start is a typed SANDBOX_UNAVAILABLE error, not a hang', async () => {
    // a 4 MB heap cannot even load compute-engine: every start fails, and after three the pool gives up
    await using pool = new MathPool({ size: 1, maxMemoryMb: 4 });
    await expect(pool.compare({ gold: 'x', pred: 'y', options: OPTIONS })).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
  }, 30_000);

  it('an idle shared pool does not keep the process alive', () => {
    // a separate Node process uses the shared pool, never closes it, and must still exit by itself
    const script = [
      "import { isMathEquivalent } from './src/math/math-equivalent.ts';",
      "const equal = await isMathEquivalent('(x+1)^2', 'x^2+2x+1');",
      'process.stdout.write(String(equal));',
    ].join('\n');
    const result = spawnSync(process.execPath, ['--no-node-snapshot', '--conditions=@aipo/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      encoding: 'utf8',
      timeout: 25_000,
    });
    expect(result.error).toBeUndefined();
    expect(result.stderr).not.toContain('Error');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('true');
  }, 30_000);
});

/** Polls a condition (state, not time, is what the tests assert). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

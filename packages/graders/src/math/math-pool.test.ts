import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMathEquivalent } from './math-equivalent';
import { MathPool } from './math-pool';

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

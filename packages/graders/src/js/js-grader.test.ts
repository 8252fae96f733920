import { afterAll, describe, expect, it } from 'vitest';
import type { LcbReference } from '../code/lcb-reference';
import { createJsGrader } from './js-grader';

const stdin = (...pairs: Array<[string, string]>): LcbReference => ({
  tests: pairs.map(([input, output]) => ({ input, output, testtype: 'stdin' })),
});
const functional = (fn_name: string, ...pairs: Array<[string, string]>): LcbReference => ({
  fn_name,
  tests: pairs.map(([input, output]) => ({ input, output, testtype: 'functional' })),
});
const fenced = (code: string, language = 'js') => `Solution:\n\`\`\`${language}\n${code}\n\`\`\``;

describe('createJsGrader (isolated-vm in a worker process)', () => {
  const grader = createJsGrader({ poolSize: 2, limits: { timeoutMs: 1_000 } });
  afterAll(() => grader.close());
  const grade = (code: string, reference: LcbReference, language = 'js') =>
    grader.grade({ output: fenced(code, language), reference });
  const sum = stdin(['1 2\n', '3\n'], ['10 -4\n', '6\n']);

  it('runs stdin programs with readline, input, and the fs shim', async () => {
    for (const code of [
      'const [a, b] = readline().split(" ").map(Number); console.log(a + b);',
      'const [a, b] = input.trim().split(/\\s+/).map(Number); print(a + b);',
      'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(" ").map(Number); console.log(a + b);',
    ]) {
      expect((await grade(code, sum)).details, code).toMatchObject({ verdict: 'accepted', testsRun: 2 });
    }
  });

  it('strips TypeScript types when the fence says ts', async () => {
    const code =
      'const add = (x: number, y: number): number => x + y;\nconst [a, b]: number[] = readline().split(" ").map(Number);\nconsole.log(add(a, b));';
    expect((await grade(code, sum, 'ts')).details).toMatchObject({ verdict: 'accepted', language: 'typescript' });
    expect((await grade('enum E { A }', sum, 'typescript')).details).toMatchObject({ verdict: 'compile_error' });
  });

  it('stops at the first failing test with LiveCodeBench output comparison', async () => {
    const result = await grade(
      'const [a, b] = readline().split(" ").map(Number); console.log(a < 5 ? String(a + b) + ".0" : 0);',
      sum,
    );
    expect(result.details).toMatchObject({
      verdict: 'wrong_answer',
      testsRun: 2,
      failingTest: { index: 1, actual: '0\n' },
    });
  });

  it('calls Solution methods (one instance) and top-level functions, async included', async () => {
    const counter = 'class Solution { constructor() { this.n = 0 } tally(x) { this.n += x; return this.n } }';
    expect((await grade(counter, functional('tally', ['1', '1'], ['2', '3']))).details).toMatchObject({
      verdict: 'accepted',
    });
    expect(
      (
        await grade(
          'async function pair(a, b) { await null; return [a, b] }',
          functional('pair', ['1\n"x"', '[1, "x"]']),
        )
      ).pass,
    ).toBe(true);
    expect(
      (await grade('function pair(a, b) { return [b, a] }', functional('pair', ['1\n2', '[1, 2]']))).details,
    ).toMatchObject({
      verdict: 'wrong_answer',
      failingTest: { actual: '[2, 1]' },
    });
    expect((await grade('function other() {}', functional('pair', ['1', '1']))).details).toMatchObject({
      verdict: 'runtime_error',
    });
  });

  it('reports compile errors, runtime errors and missing code blocks', async () => {
    expect((await grade('let = ;', sum)).details).toMatchObject({ verdict: 'compile_error' });
    expect((await grade('null.x', sum)).details).toMatchObject({
      verdict: 'runtime_error',
      failingTest: { message: expect.stringContaining('null') },
    });
    expect(await grader.grade({ output: 'no code here', reference: sum })).toMatchObject({
      parseFailed: true,
      pass: false,
    });
  });

  it('an abort signal kills the running program and rejects with ABORTED', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await expect(
      grader.grade({ output: fenced('while (true) {}'), reference: sum, signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect((await grade('const [a, b] = readline().split(" ").map(Number); console.log(a + b);', sum)).pass).toBe(true);
  });

  it('holds a CPU budget apart from the wall clock', async () => {
    const cpuBound = createJsGrader({ poolSize: 1, limits: { timeoutMs: 20_000, cpuTimeMs: 300 } });
    try {
      const result = await cpuBound.grade({ output: fenced('while (true) {}'), reference: sum });
      expect(result.details).toMatchObject({ verdict: 'time_limit', failingTest: { message: 'CPU time limit' } });
    } finally {
      await cpuBound.close();
    }
  });

  it('rejects bad limits and bad references with codes', async () => {
    expect(() => createJsGrader({ limits: { timeoutMs: 0 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(() => createJsGrader({ limits: { memoryMb: 4 } })).toThrow(/at least 8/);
    await expect(grader.grade({ output: fenced('1'), reference: { tests: [] } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

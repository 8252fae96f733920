// reliability.md §4.2: every JavaScript bad input gets a verdict within its deadline (vitest's per-test
// timeout bounds it), the host process survives (a crashed worker is replaced), and no host file changes.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeVerdict } from '../code/verdict';
import { createCanaryDir, snapshotTree } from '../docker/host-snapshot';
import { createJsGrader } from './js-grader';

interface Case {
  id: string;
  code: string;
  verdicts: CodeVerdict[];
  expected?: string;
  actual?: string;
}

const canary = createCanaryDir();
const marker = join(canary, 'escaped');

const CASES: Case[] = [
  { id: 'J1 while(true)', code: 'while (true) {}', verdicts: ['time_limit'] },
  {
    id: 'J2 microtask loop',
    code: 'Promise.resolve().then(function f() { Promise.resolve().then(f); for (;;); })',
    verdicts: ['time_limit'],
  },
  {
    id: 'J3 a promise that never settles',
    code: '(async () => { await new Promise(() => {}) })()',
    verdicts: ['time_limit'],
  },
  { id: 'J3 awaiting in a loop', code: '(async () => { while (true) await null })()', verdicts: ['time_limit'] },
  {
    id: 'J4 growing arrays',
    code: 'const a = []; for (;;) a.push(new Array(1e6).fill(1))',
    verdicts: ['memory_limit'],
  },
  {
    id: 'J5 huge Array.fill',
    code: 'new Array(1024 * 1024 * 60).fill()',
    verdicts: ['memory_limit', 'time_limit', 'accepted', 'runtime_error'],
  },
  { id: 'J7 spreading a 1e9-char string', code: "[...'.'.repeat(1e9)]", verdicts: ['runtime_error', 'memory_limit'] },
  { id: 'J8 string too long', code: "'x'.repeat(2 ** 29)", verdicts: ['runtime_error'] },
  { id: 'J9 unbounded recursion', code: 'function f() { return f() + 1 } f()', verdicts: ['runtime_error'] },
  { id: 'J10 a stray @', code: 'const x = @;', verdicts: ['compile_error'] },
  { id: 'J11 eval of a 40M-char program', code: 'eval("1".repeat(4e7))', verdicts: ['runtime_error', 'memory_limit'] },
  { id: 'J12 catastrophic backtracking', code: "/(a+)+$/.test('a'.repeat(40) + 'b')", verdicts: ['time_limit'] },
  {
    id: 'J13 escapes through constructors, require and import',
    code: [
      'let reached = [];',
      'try { this.constructor.constructor("return process")().mainModule.require("fs").writeFileSync(MARK, "x"); reached.push("process"); } catch {}',
      'try { require("child_process").execSync("touch " + MARK); reached.push("require"); } catch {}',
      'import("node:fs").then((fs) => fs.writeFileSync(MARK, "x")).catch(() => {});',
      'console.log(reached.length === 0 ? "contained" : reached.join(","));',
    ].join('\n'),
    verdicts: ['accepted'],
    expected: 'contained',
  },
  {
    id: 'J14 polluted prototypes and JSON.stringify',
    code: 'Object.prototype.toString = () => "x"; JSON.stringify = () => "\\"expected\\""; globalThis.assert = () => {}; console.log("wrong");',
    verdicts: ['wrong_answer'],
    expected: 'expected',
  },
  { id: 'J16 log flood', code: 'for (;;) console.log("x".repeat(1e6))', verdicts: ['output_limit'] },
  {
    id: 'J17 Atomics.wait',
    code: 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)',
    verdicts: ['time_limit', 'runtime_error'],
  },
  {
    id: 'J17 WebAssembly infinite loop',
    code: 'const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,4,1,96,0,0,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,3,64,12,0,11,11]);\nnew WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f();',
    verdicts: ['time_limit'],
  },
  {
    id: 'J18 probing the global object for expected outputs',
    code: [
      'const seen = new Set(); let found = "not found";',
      'const visit = (v, depth) => { if (depth > 3 || v === null || seen.has(v)) return; seen.add(v);',
      '  for (const k of Object.getOwnPropertyNames(v)) { let x; try { x = v[k]; } catch { continue; }',
      '    if (typeof x === "string" && x.includes("aipo-expected-7f3a")) found = "found";',
      '    if (typeof x === "object" || typeof x === "function") visit(x, depth + 1); } };',
      'visit(globalThis, 0); console.log(found, typeof ivm);',
    ].join('\n'),
    verdicts: ['wrong_answer'],
    expected: 'aipo-expected-7f3a',
    actual: 'not found undefined\n',
  },
];

describe('JavaScript bad inputs (reliability.md §4.2)', () => {
  const grader = createJsGrader({ poolSize: 2, limits: { timeoutMs: 1_000, memoryMb: 64 } });
  // only this package's sandbox code: other folders are edited by other people while tests run
  const ownSource = fileURLToPath(new URL('../code/', import.meta.url));
  let before: { canary: string[]; source: string[] };

  beforeAll(() => {
    before = { canary: snapshotTree(canary), source: snapshotTree(ownSource) };
  });

  afterAll(async () => {
    await grader.close();
    rmSync(canary, { recursive: true, force: true });
  });

  it.each(CASES)(
    '$id',
    async ({ code, verdicts, expected, actual }) => {
      const program = code.replaceAll('MARK', JSON.stringify(marker));
      const result = await grader.grade({
        output: `\`\`\`js\n${program}\n\`\`\``,
        reference: { tests: [{ input: '', output: expected ?? 'unreachable', testtype: 'stdin' }] },
      });
      expect(verdicts).toContain(result.details.verdict);
      if (actual !== undefined) expect(result.details.failingTest).toMatchObject({ actual });
    },
    30_000,
  );

  it('J15 a result whose getters loop forever, and a thenable that never settles', async () => {
    const reference = { fn_name: 'f', tests: [{ input: '1', output: '1', testtype: 'functional' as const }] };
    const proxy = 'function f() { return new Proxy({}, { get() { for (;;); } }) }';
    const looping = await grader.grade({ output: `\`\`\`js\n${proxy}\n\`\`\``, reference });
    expect(looping.details, JSON.stringify(looping.details)).toMatchObject({ verdict: 'time_limit' });
    const thenable = 'function f() { return { then() {} } }';
    const late = await grader.grade({ output: `\`\`\`js\n${thenable}\n\`\`\``, reference });
    expect(late.details, JSON.stringify(late.details)).toMatchObject({ verdict: 'time_limit' });
  }, 30_000);

  it('J6 a fatal V8 out-of-memory abort kills only the worker, which is replaced', async () => {
    // isolated-vm #457: an 8 MB isolate and an object with 1e6 keys ends in a fatal OOM
    const tiny = createJsGrader({ poolSize: 1, limits: { timeoutMs: 5_000, memoryMb: 8 } });
    try {
      const reference = { tests: [{ input: '', output: 'done', testtype: 'stdin' as const }] };
      const bomb = 'const o = {}; for (let i = 0; i < 1e7; i++) o["k" + i] = i; console.log("done")';
      const result = await tiny.grade({ output: `\`\`\`js\n${bomb}\n\`\`\``, reference });
      expect(['memory_limit', 'runtime_error']).toContain(result.details.verdict);
      const after = await tiny.grade({ output: '```js\nconsole.log("done")\n```', reference });
      expect(after.details.verdict).toBe('accepted');
    } finally {
      await tiny.close();
    }
  }, 60_000);

  it('after all of that the host is intact, nothing outside changed, and grading still works', async () => {
    expect(existsSync(marker)).toBe(false);
    expect(snapshotTree(canary)).toEqual(before.canary);
    expect(snapshotTree(ownSource)).toEqual(before.source);
    const result = await grader.grade({
      output: '```js\nconsole.log(2 + 3)\n```',
      reference: { tests: [{ input: '', output: '5', testtype: 'stdin' }] },
    });
    expect(result.details.verdict).toBe('accepted');
  });
});

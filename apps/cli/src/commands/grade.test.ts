import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { run } from '../run';

describe('aipo grade', () => {
  it('grades a math batch in input order, one verdict per line, bad lines included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-grade-'));
    const lines = [
      { id: 'a', pred: 'so $\\boxed{\\frac{1}{2}}$', gold: '0.5' },
      'not json',
      { id: 'c', pred: 'The answer is \\boxed{3}', gold: '4' },
      { id: 'd', pred: 'no answer here', gold: '4' },
      { id: 'e', pred: 'x' },
      { id: 'f', pred: '\\boxed{025}', gold: 25 },
    ];
    writeFileSync(join(dir, 'in.jsonl'), `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`);
    expect(await run(['grade', 'math', '--input', join(dir, 'in.jsonl'), '--output', join(dir, 'out.jsonl'), '--concurrency', '3'])).toBe(0);
    const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: unknown; pass: boolean; verdict: string });
    expect(out.map(({ id, pass, verdict }) => [id, pass, verdict])).toEqual([
      ['a', true, 'pass'],
      [null, false, 'invalid-input'],
      ['c', false, 'fail'],
      ['d', false, 'parse-failed'],
      ['e', false, 'invalid-input'],
      ['f', true, 'pass'],
    ]);
  });

  it('grades one multiple-choice answer from flags and explains missing flags', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const error = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['grade', 'mc', '--pred', 'Thinking... Answer: C', '--gold', 'C'])).toBe(0);
    expect(JSON.parse(String(write.mock.calls.at(-1)?.[0]))).toMatchObject({ pass: true, score: 1, details: { extracted: 'C' } });
    expect(await run(['grade', 'mc', '--pred', 'x'])).toBe(1);
    expect(error.mock.calls.join('')).toContain('needs --pred and --gold');
    write.mockRestore();
    error.mockRestore();
  });

  it('grades JavaScript programs in isolated-vm: stdin and functional tests, in input order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-grade-'));
    const records = [
      { id: 'sum', language: 'javascript', code: "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(' ').map(Number);\nconsole.log(a + b);", tests: [{ input: '1 2\n', output: '3\n', testtype: 'stdin' }] },
      { id: 'pair', language: 'javascript', fn_name: 'pair', code: 'function pair(a, b) { return [b, a]; }', tests: [{ input: '1\n2', output: '[2, 1]', testtype: 'functional' }] },
      { id: 'wrong', language: 'javascript', fn_name: 'pair', code: 'function pair(a, b) { return [a, b]; }', tests: [{ input: '1\n2', output: '[2, 1]', testtype: 'functional' }] },
    ];
    writeFileSync(join(dir, 'in.jsonl'), `${records.map((record) => JSON.stringify(record)).join('\n')}\n`);
    expect(await run(['grade', 'code', '--input', join(dir, 'in.jsonl'), '--output', join(dir, 'out.jsonl')])).toBe(0);
    const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: unknown; pass: boolean });
    expect(out.map(({ id, pass }) => [id, pass])).toEqual([
      ['sum', true],
      ['pair', true],
      ['wrong', false],
    ]);
  });

  it('rejects code records that are not in LiveCodeBench test format before touching a sandbox', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-grade-'));
    writeFileSync(join(dir, 'in.jsonl'), `${JSON.stringify({ id: 1, code: 'print(1)', language: 'ruby', tests: [] })}\n${JSON.stringify({ id: 2, code: 'x', language: 'python', tests: [{ input: '', output: '' }] })}\n`);
    expect(await run(['grade', 'code', '--input', join(dir, 'in.jsonl'), '--output', join(dir, 'out.jsonl')])).toBe(0);
    const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: unknown; verdict: string; reason: string });
    expect(out.map(({ id, verdict }) => [id, verdict])).toEqual([
      [1, 'invalid-input'],
      [2, 'invalid-input'],
    ]);
    expect(out[0]?.reason).toContain('language');
  });
});

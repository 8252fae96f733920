import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePrivateTestCases, readStringPickle } from './decode-private-test-cases';
import { extractLastFencedBlock, lastFenceLanguage } from './extract-code';
import { parseLcbReference } from './lcb-reference';

// eval.md §1.2: Codeforces 1873_A
const VECTOR =
  'eJxrYJmaz8gABhEZQEZ0tVJmXkFpiZKVgpJhTF5iUnJMnpKOglJ+aQlUNNI1GCJUklpcUlJZkAoSLC5JycxTqtVRQNJuDNWOILAYhCCIMdI0Ji85MQloWjKQSE5KjMlLSgSam5SciG64nz+y2WACJESMJWYY7ibFG8T5KnaKHgAcinnp';

const encode = (pickle: number[]) => deflateSync(Buffer.from(pickle)).toString('base64');
const short = (text: string) => [0x80, 0x04, 0x8c, Buffer.byteLength(text), ...Buffer.from(text), 0x94, 0x2e];

describe('decodePrivateTestCases', () => {
  it('decodes the LiveCodeBench test vector', () => {
    expect(decodePrivateTestCases(VECTOR)).toEqual([
      { input: '1\nabc\n', output: 'YES\n', testtype: 'stdin' },
      { input: '3\nabc\nabc\nabc\n', output: 'YES\nYES\nYES\n', testtype: 'stdin' },
      { input: '5\ncab\nacb\ncba\nbac\nbca\n', output: 'NO\nYES\nYES\nYES\nNO\n', testtype: 'stdin' },
      { input: '6\nabc\nabc\nabc\nabc\nabc\nabc\n', output: 'YES\nYES\nYES\nYES\nYES\nYES\n', testtype: 'stdin' },
    ]);
  });

  it('accepts plain JSON (the loader tries json.loads first) and SHORT_BINUNICODE', () => {
    const tests = '[{"input": "1", "output": "2", "testtype": "functional"}]';
    expect(decodePrivateTestCases(tests)).toHaveLength(1);
    expect(decodePrivateTestCases(encode(short(tests)))).toEqual([{ input: '1', output: '2', testtype: 'functional' }]);
  });

  it('rejects every pickle opcode beyond a single string', () => {
    // GLOBAL 'os system' + REDUCE: what a malicious pickle uses to run code
    const evil = [0x80, 0x02, 0x63, ...Buffer.from('os\nsystem\n'), 0x8c, 2, 0x69, 0x64, 0x85, 0x52, 0x2e];
    expect(() => decodePrivateTestCases(encode(evil))).toThrow(/opcode 0x63 is not allowed/);
    expect(() => readStringPickle(Buffer.from([0x80, 0x04, 0x4b, 0x01, 0x2e]))).toThrow(/opcode 0x4b/); // BININT1
    expect(() => readStringPickle(Buffer.from([...short('a').slice(0, -1), 0x8c, 1, 0x62, 0x2e]))).toThrow(
      /more than one string/,
    );
    expect(() => readStringPickle(Buffer.from([0x80, 0x04, 0x58, 0xff, 0xff, 0, 0]))).toThrow(/truncated/);
    expect(() => readStringPickle(Buffer.from([0x80, 0x04, 0x2e]))).toThrow(/no string/);
  });

  it('fails with INVALID_DATASET on garbage, never a crash', () => {
    for (const bad of ['', 'not base64 !', 'AAAA', encode(short('not json')), encode(short('[{"input": 1}]'))]) {
      expect(() => decodePrivateTestCases(bad)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/INVALID_DATASET|INVALID_ARGUMENT/) }),
      );
    }
  });
});

describe('extractLastFencedBlock (LiveCodeBench extract_code)', () => {
  it('takes the lines between the last two fence lines', () => {
    const output = '<think>try ```python\nx=1\n```</think>\nanswer:\n```python\nprint(1)\nprint(2)\n```\ndone';
    expect(extractLastFencedBlock(output)).toBe('print(1)\nprint(2)');
    expect(lastFenceLanguage('```ts\nlet a = 1\n```')).toBe('ts');
  });

  it('returns "" with fewer than two fence lines', () => {
    expect(extractLastFencedBlock('print(1)')).toBe('');
    expect(extractLastFencedBlock('```python\nprint(1)')).toBe('');
  });
});

describe('parseLcbReference', () => {
  it('validates the reference shape with clear codes', () => {
    expect(() => parseLcbReference({ tests: [] })).toThrow(/no tests/);
    expect(() => parseLcbReference({ tests: [{ input: '1', output: '2', testtype: 'functional' }] })).toThrow(
      /fn_name/,
    );
    expect(() => parseLcbReference({ tests: [{ input: 1 }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => parseLcbReference({ tests: [{ input: '', output: '', testtype: 'stdin' }], fn_name: 'a b' })).toThrow(
      /identifier/,
    );
    expect(
      parseLcbReference({ tests: [{ input: '1', output: '2', testtype: 'functional' }], fn_name: 'f' }).fn_name,
    ).toBe('f');
  });
});

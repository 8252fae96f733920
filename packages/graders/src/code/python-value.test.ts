import { describe, expect, it } from 'vitest';
import { parsePythonJson } from './parse-python-json';
import { decodeTaggedValue, describePythonValue, pythonEquals } from './python-value';

const loads = parsePythonJson;
const tagged = (value: unknown) => decodeTaggedValue(value);

describe('parsePythonJson (json.loads)', () => {
  it('keeps integers exact and tells ints from floats', () => {
    expect(loads('9007199254740993')).toEqual({ kind: 'int', value: 9007199254740993n });
    expect(loads('1.0')).toEqual({ kind: 'float', value: 1 });
    expect(loads('-2e3')).toEqual({ kind: 'float', value: -2000 });
    expect(describePythonValue(loads('[1, "a", null, true, {"k": [2.5]}]'))).toBe('[1, "a", None, True, {"k": [2.5]}]');
  });

  it('accepts NaN and Infinity like Python and rejects malformed JSON with a code', () => {
    expect(describePythonValue(loads('[NaN, -Infinity]'))).toBe('[nan, -inf]');
    for (const bad of ['', '[1,]', '{"a" 1}', '01', '"\u0001"', '[1] x', 'tru']) {
      expect(() => loads(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(() => loads(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('pythonEquals (Python ==)', () => {
  it.each([
    ['1 == 1.0', tagged({ i: '1' }), loads('1.0'), true],
    ['True == 1', tagged(true), loads('1'), true],
    ['big ints exact', tagged({ i: '9007199254740993' }), loads('9007199254740992'), false],
    ['list == list', tagged([{ i: '1' }, 'a']), loads('[1, "a"]'), true],
    ['nested tuple != list', tagged([{ t: [{ i: '1' }] }]), loads('[[1]]'), false],
    [
      'dict order free',
      tagged({
        d: [
          ['b', { i: '2' }],
          ['a', { i: '1' }],
        ],
      }),
      loads('{"a": 1, "b": 2}'),
      true,
    ],
    ['int key != str key', tagged({ d: [[{ i: '1' }, { i: '2' }]] }), loads('{"1": 2}'), false],
    ['nan != nan', tagged({ f: 'nan' }), loads('NaN'), false],
    ['other object never equal', tagged({ o: 'X' }), loads('true'), false],
    ['None == None', tagged(null), loads('null'), true],
    ['0.1+0.2 != 0.3', tagged({ f: '0.30000000000000004' }), loads('0.3'), false],
  ])('%s', (_name, actual, expected, result) => {
    expect(pythonEquals(actual, expected)).toBe(result);
  });

  it('rejects malformed tagged values with a code', () => {
    expect(() => tagged({ x: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => tagged({ i: '1.5' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

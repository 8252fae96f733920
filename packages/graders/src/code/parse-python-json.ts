import { AipoError } from '@aipo/core';
import type { PythonValue } from './python-value';

const MAX_DEPTH = 5_000;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * `json.loads` as Python sees it: integers stay arbitrary-precision ints, numbers with a fraction or
 * exponent are floats, `NaN`/`Infinity`/`-Infinity` are accepted, duplicate keys keep the last value.
 * LiveCodeBench compares a returned value with `json.loads(expected_output)`, so this is the gold side.
 * Malformed JSON throws INVALID_ARGUMENT (a broken reference, not a wrong answer).
 */
export function parsePythonJson(text: string): PythonValue {
  let position = 0;

  const fail = (message: string): never => {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `invalid JSON in test case at offset ${position}: ${message}`,
      details: { offset: position },
    });
  };
  const skip = () => {
    WHITESPACE.lastIndex = position;
    WHITESPACE.exec(text);
    position = WHITESPACE.lastIndex;
  };
  const literal = (word: string, value: PythonValue): PythonValue => {
    if (!text.startsWith(word, position)) fail(`unexpected ${JSON.stringify(text.slice(position, position + 10))}`);
    position += word.length;
    return value;
  };

  const parseString = (): string => {
    position += 1;
    let result = '';
    for (;;) {
      const char = text[position];
      if (char === undefined) return fail('unterminated string');
      if (char === '"') {
        position += 1;
        return result;
      }
      if (char < ' ') return fail('control character in string');
      if (char !== '\\') {
        let end = position + 1;
        while (end < text.length) {
          const next = text.charCodeAt(end);
          if (next === 0x22 || next === 0x5c || next < 0x20) break;
          end += 1;
        }
        result += text.slice(position, end);
        position = end;
        continue;
      }
      const escaped = text[position + 1];
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (escaped !== undefined && escaped in simple) {
        result += simple[escaped];
        position += 2;
      } else if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(position + 2, position + 6))) {
        result += String.fromCharCode(Number.parseInt(text.slice(position + 2, position + 6), 16));
        position += 6;
      } else {
        return fail('bad escape');
      }
    }
  };

  const parseValue = (depth: number): PythonValue => {
    if (depth > MAX_DEPTH) return fail('nested too deeply');
    skip();
    const char = text[position];
    switch (char) {
      case '{': {
        position += 1;
        const entries: Array<[PythonValue, PythonValue]> = [];
        skip();
        if (text[position] === '}') {
          position += 1;
          return { kind: 'dict', entries };
        }
        for (;;) {
          skip();
          if (text[position] !== '"') return fail('expected a string key');
          const key = parseString();
          skip();
          if (text[position] !== ':') return fail("expected ':'");
          position += 1;
          entries.push([{ kind: 'str', value: key }, parseValue(depth + 1)]);
          skip();
          if (text[position] === ',') position += 1;
          else if (text[position] === '}') {
            position += 1;
            return { kind: 'dict', entries };
          } else return fail("expected ',' or '}'");
        }
      }
      case '[': {
        position += 1;
        const items: PythonValue[] = [];
        skip();
        if (text[position] === ']') {
          position += 1;
          return { kind: 'list', items };
        }
        for (;;) {
          items.push(parseValue(depth + 1));
          skip();
          if (text[position] === ',') position += 1;
          else if (text[position] === ']') {
            position += 1;
            return { kind: 'list', items };
          } else return fail("expected ',' or ']'");
        }
      }
      case '"':
        return { kind: 'str', value: parseString() };
      case 't':
        return literal('true', { kind: 'bool', value: true });
      case 'f':
        return literal('false', { kind: 'bool', value: false });
      case 'n':
        return literal('null', { kind: 'none' });
      case 'N':
        return literal('NaN', { kind: 'float', value: Number.NaN });
      case 'I':
        return literal('Infinity', { kind: 'float', value: Number.POSITIVE_INFINITY });
      default: {
        if (text.startsWith('-Infinity', position)) {
          position += 9;
          return { kind: 'float', value: Number.NEGATIVE_INFINITY };
        }
        NUMBER.lastIndex = position;
        const match = NUMBER.exec(text);
        if (!match) return fail(`unexpected ${JSON.stringify(text.slice(position, position + 10))}`);
        position = NUMBER.lastIndex;
        if (match[1] === undefined && match[2] === undefined) return { kind: 'int', value: BigInt(match[0]) };
        return { kind: 'float', value: Number(match[0]) };
      }
    }
  };

  const value = parseValue(0);
  skip();
  if (position !== text.length) fail('extra data after the value');
  return value;
}

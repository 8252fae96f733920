import { inflateSync } from 'node:zlib';
import { AipoError } from '@aipo/core';
import { parseLcbTests, type LcbTest } from './lcb-reference';

/** Inflated payloads above this are refused: a zlib bomb must not exhaust the host. */
const MAX_INFLATED_BYTES = 512 * 1024 * 1024;

function corrupt(message: string, cause?: unknown): AipoError {
  return new AipoError({ code: 'INVALID_DATASET', message: `private_test_cases: ${message}`, cause });
}

/**
 * Read a pickle that holds exactly one `str` and nothing else. LiveCodeBench stores
 * `private_test_cases` as base64(zlib(pickle.dumps(json_text))); a general unpickler would execute
 * arbitrary code, so only PROTO, FRAME, the three unicode opcodes, MEMOIZE and STOP are accepted
 * (eval.md §1.2) and every other opcode is rejected.
 */
export function readStringPickle(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  let value: string | undefined;
  const need = (count: number) => {
    if (position + count > bytes.length) throw corrupt('truncated pickle');
  };
  const readText = (length: number) => {
    if (value !== undefined) throw corrupt('pickle holds more than one string');
    need(length);
    value = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(position, position + length));
    position += length;
  };
  for (;;) {
    need(1);
    const opcode = bytes[position] as number;
    position += 1;
    switch (opcode) {
      case 0x80: // PROTO
        need(1);
        position += 1;
        break;
      case 0x95: // FRAME: u64 length, framing only
        need(8);
        position += 8;
        break;
      case 0x8c: // SHORT_BINUNICODE: u8 length
        need(1);
        position += 1;
        readText(bytes[position - 1] as number);
        break;
      case 0x58: // BINUNICODE 'X': u32 LE length
        need(4);
        position += 4;
        readText(view.getUint32(position - 4, true));
        break;
      case 0x8d: {
        // BINUNICODE8: u64 LE length
        need(8);
        const length = view.getBigUint64(position, true);
        position += 8;
        if (length > BigInt(bytes.length)) throw corrupt('truncated pickle');
        readText(Number(length));
        break;
      }
      case 0x94: // MEMOIZE
        break;
      case 0x2e: // STOP
        if (value === undefined) throw corrupt('pickle holds no string');
        if (position !== bytes.length) throw corrupt('bytes after STOP');
        return value;
      default:
        throw corrupt(
          `pickle opcode 0x${opcode.toString(16).padStart(2, '0')} is not allowed (only a single str is accepted)`,
        );
    }
  }
}

/**
 * Decode LiveCodeBench's `private_test_cases` field: plain JSON when it parses (the loader tries
 * `json.loads` first), else base64 → zlib → string-only pickle → JSON list of tests.
 */
export function decodePrivateTestCases(encoded: string): LcbTest[] {
  if (typeof encoded !== 'string') throw corrupt('expected a string');
  const trimmed = encoded.trim();
  if (trimmed.startsWith('[')) {
    try {
      return parseLcbTests(JSON.parse(trimmed));
    } catch (error) {
      if (AipoError.isInstance(error)) throw error;
      // not JSON after all: fall through to the base64 path, as LiveCodeBench's loader does
    }
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 === 1) throw corrupt('not base64');
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.from(trimmed, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw corrupt('not zlib data (or larger than 512 MiB inflated)', error);
  }
  const text = readStringPickle(inflated);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt('the pickled string is not JSON', error);
  }
  return parseLcbTests(parsed);
}

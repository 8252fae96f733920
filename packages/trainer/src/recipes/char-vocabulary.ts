import { AipoError } from '@aipo/core';

/**
 * Character vocabulary of the demo model: id 0 ends a response, then newline and printable ASCII.
 * One token per character keeps the arithmetic task's digits, operators, `\boxed{}` and
 * consultation tags exactly aligned with the token-source mask.
 */
export const END_TOKEN_ID = 0;

const ALPHABET = ['\n', ...Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index))];
const IDS = new Map(ALPHABET.map((character, index) => [character, index + 1]));

/** Number of token ids (end token + alphabet). */
export const CHAR_VOCABULARY_SIZE = ALPHABET.length + 1;

/** Encode text; a character outside newline + printable ASCII is INVALID_ARGUMENT. */
export function encodeChars(text: string): number[] {
  const ids: number[] = [];
  for (const character of text) {
    const id = IDS.get(character);
    if (id === undefined) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `character ${JSON.stringify(character)} is not in the demo vocabulary (newline + printable ASCII)`,
      });
    }
    ids.push(id);
  }
  return ids;
}

/** Decode ids; the end token decodes to nothing, unknown ids to U+FFFD. */
export function decodeChars(tokenIds: readonly number[]): string {
  let text = '';
  for (const id of tokenIds) {
    if (id === END_TOKEN_ID) continue;
    text += ALPHABET[id - 1] ?? '\uFFFD';
  }
  return text;
}

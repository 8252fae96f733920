import { describe, expect, it } from 'vitest';
import { createRng } from '../random/create-rng';
import { countNonZero } from './count-non-zero';

function bruteForce(mask: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let index = from; index < to; index++) if (mask[index] !== 0) count++;
  return count;
}

describe('countNonZero', () => {
  it('equals a byte loop for every alignment, length and byte value', () => {
    const rng = createRng(7);
    const backing = new Uint8Array(4096 + 3);
    // every byte value appears, including 0x80 and 0x7f (the SWAR carry edge cases), and long 0/255 runs
    for (let index = 0; index < backing.length; index++) {
      const pick = rng.next();
      backing[index] = pick < 0.3 ? 0 : pick < 0.5 ? 255 : Math.floor(rng.next() * 256);
    }
    backing.fill(0x80, 100, 700);
    backing.fill(0x7f, 900, 1500);
    for (const shift of [0, 1, 2, 3]) {
      const mask = backing.subarray(shift);
      for (const [from, to] of [
        [0, mask.length],
        [0, 0],
        [5, 5],
        [1, 66],
        [3, 3 + 4 * 16],
        [2, 2 + 4 * 127 * 3 + 1],
        [17, 4000],
      ] as const) {
        expect(countNonZero(mask, from, to), `shift ${shift} [${from}, ${to})`).toBe(bruteForce(mask, from, to));
      }
    }
  });

  it('counts all-ones runs that fill every lane to its 127-word block limit', () => {
    const mask = new Uint8Array(4 * 127 * 5 + 9).fill(1);
    expect(countNonZero(mask, 0, mask.length)).toBe(mask.length);
    mask.fill(255);
    expect(countNonZero(mask, 1, mask.length - 1)).toBe(mask.length - 2);
  });
});

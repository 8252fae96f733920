import { describe, expect, it } from 'vitest';
import { expInRange, fastExp } from './fast-exp';

function relativeError(x: number): number {
  const exact = Math.exp(x);
  return Math.abs(fastExp(x) - exact) / exact;
}

describe('fastExp', () => {
  it('matches Math.exp within 1e-7 relative (in fact a few float64 ulps) over a dense sweep of [-20, 20]', () => {
    let worst = 0;
    // 4M points: step 1e-5 puts ~1000 samples in every ln2/64-wide table interval
    for (let step = 0; step <= 4_000_000; step++) worst = Math.max(worst, relativeError(-20 + step * 1e-5));
    expect(worst).toBeLessThan(1e-7);
    // the bound the implementation documents: within a handful of float64 ulps
    expect(worst).toBeLessThan(8 * Number.EPSILON);
  });

  it('is accurate at the edges, at table-interval boundaries and around zero', () => {
    const points: number[] = [-20, 20, 0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-300, -1e-12, 1e-12];
    for (const edge of [-20, 20]) {
      let below = edge;
      let above = edge;
      for (let ulp = 0; ulp < 64; ulp++) {
        below = nextDown(below);
        above = nextUp(above);
        points.push(below, above);
      }
    }
    // x = n·ln2/64 exactly where the rounding of x·64/ln2 switches table entry
    for (let n = -1848; n <= 1848; n += 7) {
      const boundary = ((n + 0.5) * Math.LN2) / 64;
      points.push(boundary, nextDown(boundary), nextUp(boundary), (n * Math.LN2) / 64);
    }
    for (const x of points) expect(relativeError(x), `x=${x}`).toBeLessThan(8 * Number.EPSILON);
    expect(fastExp(0)).toBe(1);
  });

  it('defers to Math.exp outside its table range and for non-finite input', () => {
    for (const x of [-745.2, -700, 700, 709.7, 710, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(fastExp(x)).toBe(Math.exp(x));
    expect(fastExp(Number.NaN)).toBeNaN();
    // inside the table range but far from [-20, 20]: still accurate, including large results
    for (const x of [-699.9, -300.5, -80, 80, 300.25, 699.9]) expect(relativeError(x)).toBeLessThan(8 * Number.EPSILON);
  });

  it('expInRange is bit-identical to fastExp where it applies (the fused kernel uses it)', () => {
    let differing = 0;
    for (let x = -80; x <= 80; x += 0.0137) if (!Object.is(expInRange(x), fastExp(x))) differing++;
    expect(differing).toBe(0);
  });

  it('is monotone across table-interval boundaries to within one ulp', () => {
    // the PPO clip compares the ratio with 1 ± eps; a non-monotone exp could flip a clip decision
    let previous = fastExp(-1);
    let violations = 0;
    for (let step = 1; step <= 2_000_000; step++) {
      const value = fastExp(-1 + step * 1e-6);
      if (!(value >= previous * (1 - Number.EPSILON))) violations++;
      previous = value;
    }
    expect(violations).toBe(0);
  });
});

const view = new DataView(new ArrayBuffer(8));
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  view.setFloat64(0, x);
  view.setBigInt64(0, view.getBigInt64(0) + (x > 0 ? 1n : -1n));
  return view.getFloat64(0);
}
function nextDown(x: number): number {
  return -nextUp(-x);
}

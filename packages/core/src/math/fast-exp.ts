/**
 * exp(x) by table-driven range reduction (Tang, "Table-driven implementation of the exponential
 * function in IEEE floating-point arithmetic", ACM TOMS 15(2), 1989), written so V8 inlines it into
 * a hot loop: `Math.exp` is an out-of-line C call (~6 ns here), which alone exceeds the 12 ms budget
 * of issue 2's 2M-token step.
 *
 * x = (64k + j)·ln2/64 + r with |r| <= ln2/128, so exp(x) = 2^k · 2^(j/64) · e^r. e^r comes from a
 * degree-5 Taylor polynomial (truncation r^6/720 < 4e-17), 2^(j/64) and 2^k from two small tables,
 * and ln2/64 is split in a hi part with trailing zero bits so n·hi is exact (Cody–Waite). The
 * result is within a few float64 ulps of `Math.exp`, far inside the 1e-7 relative contract, so a
 * float32 output rounds the same except in astronomically rare ties. Outside |x| < 700 (including
 * NaN and ±Infinity) it defers to `Math.exp`, which handles overflow and subnormals.
 */
export function fastExp(x: number): number {
  if (!(x > -FAST_LIMIT && x < FAST_LIMIT)) return Math.exp(x);
  return expInRange(x);
}

/**
 * The table-driven body of `fastExp` without its range guard, for kernels that have already bounded
 * x (a clamped log-ratio, |x| < 80); bit-identical to `fastExp` there. Requires |x| < 700 and finite.
 */
export function expInRange(x: number): number {
  // round-to-nearest of x·64/ln2 through the 1.5·2^52 shifter: exact for |x·64/ln2| < 2^51
  const n = x * INV_LN2_64 + SHIFTER - SHIFTER;
  const r = x - n * LN2_64_HI - n * LN2_64_LO;
  const integer = n | 0;
  // 1 + r + r²/2 + r³/6 + r⁴/24 + r⁵/120 in Estrin form: a shorter dependency chain than Horner
  const r2 = r * r;
  const p = 1 + r + r2 * (0.5 + r * (1 / 6) + r2 * (1 / 24 + r * (1 / 120)));
  return (POW2_K[(integer >> 6) + POW2_K_OFFSET] as number) * (POW2_J[integer & 63] as number) * p;
}

const FAST_LIMIT = 700;
const INV_LN2_64 = 64 / Math.LN2;
const SHIFTER = 6755399441055744; // 1.5 * 2^52
// ln2/64 = hi + lo with fdlibm's split of ln2 (e_exp.c): hi has 32 significant bits, so n·hi is
// exact for |n| < 2^21, and lo carries the rest to ~2^-85; a lo derived from the double Math.LN2 would
// lose ~4e-14 relative at |x| ≈ 700
// biome-ignore lint/correctness/noPrecisionLoss: fdlibm's literal, kept digit for digit (it rounds to the intended double)
const LN2_64_HI = 6.93147180369123816490e-1 / 64;
// biome-ignore lint/correctness/noPrecisionLoss: fdlibm's literal, kept digit for digit (it rounds to the intended double)
const LN2_64_LO = 1.90821492927058770002e-10 / 64;
// k ranges over floor(±700/ln2) ≈ ±1010; the positive side needs 2^k with the mantissa table ≤ 2
const POW2_K_OFFSET = 1075;
const POW2_K = buildPowersOfTwo();
/** 2^(j/64), j < 64: the table step of `expInRange` (also copied into the SIMD kernel's memory) */
export const POW2_J = Float64Array.from({ length: 64 }, (_unused, j) => 2 ** (j / 64));

function buildPowersOfTwo(): Float64Array {
  const table = new Float64Array(2 * POW2_K_OFFSET + 1);
  for (let index = 0; index < table.length; index++) table[index] = 2 ** (index - POW2_K_OFFSET);
  return table;
}

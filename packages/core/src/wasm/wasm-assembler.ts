/**
 * Just enough of the WebAssembly binary format (core spec §5, SIMD proposal opcodes) to assemble a
 * kernel in the source: core ships no binary and no toolchain, and stays dependency-free.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A length-prefixed vector of encoded items. */
export const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
/** A module section: its id, then its size-prefixed content. */
export const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
/** A UTF-8 (here ASCII) name. */
export const name = (text: string): number[] => vector([...text].map((c) => [c.charCodeAt(0)]));
const simd = (code: number, ...immediates: number[]): number[] => [0xfd, ...uleb(code), ...immediates];
const bytesOf = (array: Float64Array | BigInt64Array): number[] => [...new Uint8Array(array.buffer)];

/** The instructions the kernels use; memory immediates are (align log2, offset). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32Load: [0x28, 0x02, 0x00],
  i32: (value: number) => [0x41, ...sleb(value)],
  i32Eqz: [0x45],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  v128Load: simd(0x00, 0x04, 0x00),
  v128Load32Zero: simd(0x5c, 0x02, 0x00),
  /** v128.load64_zero at `offset` bytes past the address (align 8) */
  v128Load64Zero: (offset: number) => simd(0x5d, 0x03, ...uleb(offset)),
  /** replace one 64-bit lane from memory: (address, vector) → vector */
  v128Load64Lane: (offset: number, lane: number) => [...simd(0x57, 0x03, ...uleb(offset)), lane],
  v128StoreAt: (offset: number) => simd(0x0b, 0x04, ...uleb(offset)),
  f64x2: (a: number, b = a) => simd(0x0c, ...bytesOf(Float64Array.of(a, b))),
  i64x2: (a: bigint, b = a) => simd(0x0c, ...bytesOf(BigInt64Array.of(a, b))),
  /** a → (a.lanes[2], a.lanes[3], ...): the upper two floats moved down */
  f32x4High: simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15),
  /** (a, b) → (a.f32[0], a.f32[1], b.f32[0], b.f32[1]) */
  f32x4LowPairs: simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
  f64x2Splat: simd(0x14),
  i32x4ExtractLane: (lane: number) => [...simd(0x1b), lane],
  i32x4Splat: simd(0x11),
  i32x4Eq: simd(0x37),
  v128Not: simd(0x4d),
  f64x2Lt: simd(0x49),
  f64x2Gt: simd(0x4a),
  v128And: simd(0x4e),
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  v128Bitselect: simd(0x52),
  f32x4DemoteZero: simd(0x5e),
  f64x2PromoteLow: simd(0x5f),
  i16x8ExtendLowU8: simd(0x89),
  i32x4ExtendLowU16: simd(0xa9),
  i32x4ShrS: simd(0xac),
  i64x2ExtendLowS32: simd(0xc7),
  i64x2ExtendHighS32: simd(0xc8),
  i64x2Shl: simd(0xcb),
  i64x2Sub: simd(0xd1),
  f64x2Abs: simd(0xec),
  f64x2Neg: simd(0xed),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
  /** pseudo-min b < a ? b : a (one minpd; wasm's f64x2.min also orders ±0 and NaN, ~7 instructions on x64) */
  f64x2Pmin: simd(0xf6),
  f64x2Pmax: simd(0xf7),
  i32x4Add: simd(0xae),
  i32x4Shl: simd(0xab),
};

export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  /** extra locals after the params, as [count, type] runs */
  locals: Array<[number, number]>;
  code: number[];
}

/** A module importing `env.memory` and exporting each function under its name. */
export function assembleModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const body = (fn: WasmFunction) => {
    const content = [...vector(fn.locals.map(([count, type]) => [...uleb(count), type])), ...fn.code, ...op.end];
    return [...uleb(content.length), ...content];
  };
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(functions.map((fn) => [0x60, ...vector(fn.params.map((t) => [t])), ...vector(fn.results.map((t) => [t]))]))),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vector(functions.map((_fn, index) => uleb(index)))),
    ...section(7, vector(functions.map((fn, index) => [...name(fn.name), 0x00, ...uleb(index)]))),
    ...section(10, vector(functions.map(body))),
  ]);
}

import { readFile, writeFile } from 'node:fs/promises';
import { AipoError } from '@aipo/core';

/**
 * safetensors, written by hand (the format is tiny; npm has no maintained reader, see
 * shared/reference/tfjs-perf.md Q6): an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`, then raw LE data.
 * https://github.com/huggingface/safetensors#format
 */
export interface NamedTensor {
  /** row-major shape */
  shape: number[];
  /** values, always widened to f32 on read */
  data: Float32Array;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8 };

/** Parse a safetensors buffer; F32/F16/BF16 (and F64/I32/I64) are converted to Float32Array. */
export function parseSafetensors(buffer: Uint8Array, source = 'safetensors'): Map<string, NamedTensor> {
  const corrupt = (message: string) => new AipoError({ code: 'CORRUPT_STATE', message: `${source}: ${message}`, details: { source } });
  if (buffer.byteLength < 8) throw corrupt('file shorter than its 8-byte header length');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > buffer.byteLength - 8) throw corrupt(`header length ${headerLength} exceeds file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buffer.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (cause) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `${source}: header is not JSON`, cause });
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(entry.dtype);
    const shape = entry.shape;
    const offsets = entry.data_offsets;
    const bytes = DTYPE_BYTES[dtype];
    if (bytes === undefined) throw corrupt(`tensor ${name} has unsupported dtype ${dtype}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw corrupt(`tensor ${name} has a bad shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2) throw corrupt(`tensor ${name} has bad data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * bytes || dataStart + end > buffer.byteLength || begin < 0) {
      throw corrupt(`tensor ${name}: data_offsets [${begin}, ${end}] disagree with shape ${JSON.stringify(shape)} ${dtype}`);
    }
    tensors.set(name, { shape: shape as number[], data: decode(dtype, view, dataStart + begin, count) });
  }
  return tensors;
}

function decode(dtype: string, view: DataView, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, true);
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, true);
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(offset + 8 * i, true));
      break;
    case 'BF16': {
      // bf16 is the top half of an f32: shift the 16 bits up.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(offset + 2 * i, true) << 16;
      break;
    }
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
      break;
  }
  return out;
}

/** IEEE 754 binary16 → number (subnormals, inf and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** number → IEEE 754 binary16 bits (round to nearest even), for writing F16 files in tests. */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | half;
}

/** number → bf16 bits, rounding to nearest even (as torch does), NaN kept quiet. */
export function floatToBf16(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface SerializeSafetensorsOptions {
  /** tensors in write order */
  tensors: Map<string, NamedTensor>;
  /** storage dtype (default F32) */
  dtype?: SafetensorsDtype;
  /** string metadata (HF writes `{ format: 'pt' }`) */
  metadata?: Record<string, string>;
}

/** Serialize tensors to the safetensors byte layout (data aligned to 8 bytes as the spec recommends). */
export function serializeSafetensors({ tensors, dtype = 'F32', metadata = { format: 'pt' } }: SerializeSafetensorsOptions): Uint8Array {
  const bytes = DTYPE_BYTES[dtype]!;
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const size = tensor.data.length * bytes;
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  headerBytes = new TextEncoder().encode(JSON.stringify(header).padEnd(padded, ' '));
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors.values()) {
    for (let i = 0; i < tensor.data.length; i++) {
      const value = tensor.data[i]!;
      if (dtype === 'F32') view.setFloat32(position, value, true);
      else if (dtype === 'F16') view.setUint16(position, floatToHalf(value), true);
      else view.setUint16(position, floatToBf16(value), true);
      position += bytes;
    }
  }
  return out;
}

/** Read one safetensors file. */
export async function readSafetensors(path: string): Promise<Map<string, NamedTensor>> {
  let buffer: Uint8Array;
  try {
    buffer = await readFile(path);
  } catch (cause) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read ${path}`, cause, details: { path } });
  }
  return parseSafetensors(buffer, path);
}

/** Write one safetensors file. */
export async function writeSafetensors(path: string, options: SerializeSafetensorsOptions): Promise<void> {
  try {
    await writeFile(path, serializeSafetensors(options));
  } catch (cause) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot write ${path}`, cause, details: { path } });
  }
}

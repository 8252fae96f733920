import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import { applyKernelPatchesWithStatus } from './kernel-patches';

/** Backends the trainer can run on, fastest first. */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface SelectBackendOptions {
  /** force a backend; `auto` (default) picks the fastest available */
  backend?: BackendName | 'auto';
  /**
   * kernel patches: `true` (default) = all; `'segment-sum-only'` keeps the stock wasm BatchMatMul
   * (to measure it; the segment sum is needed for gather gradients); `false` = none
   */
  kernelPatches?: boolean | 'segment-sum-only';
  /** wasm BatchMatMul through the optional native AVX2/FMA sgemm when built (default true) */
  nativeMatMul?: boolean;
}

export interface BackendChoice {
  /** the active tfjs backend */
  name: BackendName;
  /** why it was chosen (and why faster ones were skipped), for the caller to print */
  reason: string;
  /** kernels replaced by the patches */
  patchedKernels: string[];
  /** what runs wasm BatchMatMul: the native sgemm, or why it is not used ('not applicable' elsewhere) */
  matMul: string;
}

// Optional peers are imported by a computed name so neither bundlers nor tsc require them.
async function optionalImport(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name);
}

/**
 * Pick and initialise the tfjs backend: tfjs-node-gpu / tfjs-node when installed (libtensorflow),
 * webgpu when the `webgpu` package finds an adapter, else wasm with the kernel patches, else cpu.
 * Rationale and measurements: shared/reference/tfjs-perf.md ("Recommendation").
 */
export async function selectBackend({ backend = 'auto', kernelPatches = true, nativeMatMul = true }: SelectBackendOptions = {}): Promise<BackendChoice> {
  const skipped: string[] = [];
  const attempt = async (name: BackendName): Promise<BackendChoice | undefined> => {
    const problem = await initialise(name);
    if (problem !== undefined) {
      skipped.push(`${name}: ${problem}`);
      return undefined;
    }
    const patches = kernelPatches === false ? { replaced: [], nativeMatMul: 'stock kernels' } : applyKernelPatchesWithStatus(name, { batchMatMul: kernelPatches === true, nativeMatMul });
    const why = backend === 'auto' ? (skipped.length > 0 ? `auto: ${skipped.join('; ')}` : 'auto: fastest available') : 'requested';
    const reason = name === 'wasm' ? `${why}; matmul: ${patches.nativeMatMul}` : why;
    return { name, reason, patchedKernels: patches.replaced, matMul: patches.nativeMatMul };
  };
  if (backend !== 'auto') {
    const choice = await attempt(backend);
    if (choice === undefined) {
      throw new AipoError({ code: 'MISSING_DEPENDENCY', message: `backend ${backend} is unavailable (${skipped.join('; ')})`, details: { backend } });
    }
    return choice;
  }
  for (const name of ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const) {
    const choice = await attempt(name);
    if (choice !== undefined) return choice;
  }
  throw new AipoError({ code: 'MISSING_DEPENDENCY', message: `no tfjs backend could start (${skipped.join('; ')})` });
}

async function initialise(name: BackendName): Promise<string | undefined> {
  try {
    if (name === 'tensorflow') {
      const loaded = await optionalImport('@tensorflow/tfjs-node-gpu').then(
        () => true,
        () => optionalImport('@tensorflow/tfjs-node').then(() => true, () => false),
      );
      if (!loaded) return '@tensorflow/tfjs-node(-gpu) not installed';
    } else if (name === 'webgpu') {
      const webgpu = (await optionalImport('webgpu').catch(() => undefined)) as { create?: (flags: string[]) => unknown; globals?: object } | undefined;
      if (webgpu?.create === undefined) return 'the webgpu package is not installed';
      const gpu = webgpu.create([]) as { requestAdapter(): Promise<unknown> };
      if ((await gpu.requestAdapter()) === null) return 'no GPU adapter';
      if (webgpu.globals !== undefined) Object.assign(globalThis, webgpu.globals);
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
      const loaded = await optionalImport('@tensorflow/tfjs-backend-webgpu').then(() => true, () => false);
      if (!loaded) return '@tensorflow/tfjs-backend-webgpu not installed';
      // Small ops would otherwise run on the CPU through readSync, which Node's webgpu lacks (tfjs-perf.md Q1).
      tf.env().set('WEBGPU_CPU_FORWARD', false);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    }
    if (tf.findBackend(name) === null && tf.findBackendFactory(name) === null) return 'backend not registered';
    const ok = await tf.setBackend(name);
    if (!ok) return 'initialisation failed';
    await tf.ready();
    // The cpu backend prints an "install tfjs-node" banner on first write; libraries do not print,
    // and the choice's `reason` already says why tfjs-node is not used.
    if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

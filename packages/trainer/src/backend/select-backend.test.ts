import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadNativeMatMul } from './native-matmul';
import { selectBackend } from './select-backend';

describe('selectBackend', () => {
  it('auto picks wasm here and says why faster backends were skipped', async () => {
    const choice = await selectBackend();
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.reason).toMatch(/tensorflow: .*not installed/);
    expect(choice.reason).toMatch(/webgpu: /);
    expect(choice.reason).toMatch(/matmul: (native AVX2\/FMA sgemm|wasm XNNPACK)/);
    const native = loadNativeMatMul().available ? ['_FusedMatMul'] : [];
    expect(choice.patchedKernels).toEqual(['UnsortedSegmentSum', 'Identity', 'Cast', 'GatherV2', 'BatchMatMul', ...native]);
  });
});

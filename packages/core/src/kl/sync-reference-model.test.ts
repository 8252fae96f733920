import { describe, expect, it } from 'vitest';
import { expectAipoError } from '../batch/testing/expect-aipo-error';
import { createRng } from '../random/create-rng';
import { isReferenceSyncStep, mixReferenceWeights, syncReferenceModel } from './sync-reference-model';

describe('TR-DPO reference sync (TRL sync_ref_model)', () => {
  it('golden: ref <- alpha*pi + (1 - alpha)*ref, per tensor, rounded once to float32', () => {
    const policy = [Float32Array.from([1, -2, 0.5]), Float32Array.from([4])];
    const reference = [Float32Array.from([0, 2, 0.5]), Float32Array.from([-4])];
    const result = syncReferenceModel({ step: 3, syncSteps: 3, alpha: 0.25, policy, reference });
    expect(result.synced).toBe(true);
    // 0.25*1 + 0.75*0 = 0.25; 0.25*-2 + 0.75*2 = 1; 0.5 stays; 0.25*4 + 0.75*-4 = -2
    expect(result.reference.map((tensor) => Array.from(tensor))).toEqual([[0.25, 1, 0.5], [-2]]);
    // inputs untouched, outputs are new arrays
    expect(Array.from(reference[0] as Float32Array)).toEqual([0, 2, 0.5]);
    expect(result.reference[0]).not.toBe(reference[0]);
    // 0.1 is not a float32: the float64 mix rounds once
    const single = mixReferenceWeights({ policy: Float32Array.of(0.1), reference: Float32Array.of(0.7), alpha: 0.3 });
    expect(single[0]).toBe(Math.fround(0.3 * Math.fround(0.1) + 0.7 * Math.fround(0.7)));
  });

  it('alpha = 1 is a hard copy, alpha = 0 leaves the reference as it was', () => {
    const rng = createRng(3);
    const policy = [Float32Array.from({ length: 50 }, () => rng.next() - 0.5)];
    const reference = [Float32Array.from({ length: 50 }, () => rng.next() * 2)];
    const hard = syncReferenceModel({ step: 512, policy, reference, alpha: 1 });
    expect(Array.from(hard.reference[0] as Float32Array)).toEqual(Array.from(policy[0] as Float32Array));
    const frozen = syncReferenceModel({ step: 512, policy, reference, alpha: 0 });
    expect(Array.from(frozen.reference[0] as Float32Array)).toEqual(Array.from(reference[0] as Float32Array));
  });

  it('syncs only on multiples of tau (TRL defaults alpha 0.6, tau 512), counting steps from 1', () => {
    const synced = [];
    for (let step = 0; step <= 12; step++) if (isReferenceSyncStep({ step, syncSteps: 4 })) synced.push(step);
    expect(synced).toEqual([4, 8, 12]);
    const policy = [Float32Array.of(1)];
    const reference = [Float32Array.of(0)];
    expect(syncReferenceModel({ step: 511, policy, reference })).toEqual({ synced: false, reference });
    expect(Array.from(syncReferenceModel({ step: 1024, policy, reference }).reference[0] as Float32Array)).toEqual([
      Math.fround(0.6),
    ]);
  });

  it('repeated soft syncs close the gap to a fixed policy geometrically: (1 - alpha)^n', () => {
    const policy = [Float32Array.of(2, -1)];
    let reference: readonly Float32Array[] = [Float32Array.of(0, 3)];
    for (let step = 1; step <= 10; step++) {
      reference = syncReferenceModel({ step, syncSteps: 2, alpha: 0.5, policy, reference }).reference;
    }
    // five syncs: gap 2 -> 2/32, gap -4 -> -4/32
    expect(Array.from(reference[0] as Float32Array)).toEqual([2 - 2 / 32, -1 + 4 / 32]);
  });

  it('inPlace mixes into the reference arrays themselves', () => {
    const reference = [Float32Array.of(1, 1)];
    const result = syncReferenceModel({ step: 2, syncSteps: 1, alpha: 0.5, policy: [Float32Array.of(3, -1)], reference, inPlace: true });
    expect(result.reference).toBe(reference);
    expect(Array.from(reference[0] as Float32Array)).toEqual([2, 0]);
  });

  it('bad input is a typed error and never half-writes an in-place reference', () => {
    const policy = [Float32Array.of(1, 2)];
    const reference = [Float32Array.of(0, 0)];
    expectAipoError(() => syncReferenceModel({ step: 1, syncSteps: 1, alpha: 1.5, policy, reference }), 'INVALID_ARGUMENT');
    expectAipoError(() => syncReferenceModel({ step: 1, syncSteps: 0, policy, reference }), 'INVALID_ARGUMENT');
    expectAipoError(() => syncReferenceModel({ step: -1, syncSteps: 1, policy, reference }), 'INVALID_ARGUMENT');
    expectAipoError(() => syncReferenceModel({ step: 1, syncSteps: 1, policy, reference: [] }), 'SHAPE_MISMATCH');
    expectAipoError(
      () => syncReferenceModel({ step: 1, syncSteps: 1, policy, reference: [Float32Array.of(0)] }),
      'SHAPE_MISMATCH',
    );
    const bad = [Float32Array.of(1, Number.NaN)];
    const target = [Float32Array.of(5, 5)];
    const error = expectAipoError(
      () => syncReferenceModel({ step: 1, syncSteps: 1, alpha: 0.5, policy: bad, reference: target, inPlace: true }),
      'NON_FINITE_INPUT',
    );
    expect(error.message).toContain('policy[1]');
    expect(Array.from(target[0] as Float32Array)).toEqual([5, 5]);
  });
});

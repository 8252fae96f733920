import { describe, expect, it } from 'vitest';
import { AipoError } from '../errors/aipo-error';
import { createRegistry } from './create-registry';

describe('createRegistry', () => {
  it('registers, lists and looks up entries in insertion order', () => {
    const registry = createRegistry<number>('thing', [['a', 1]]).register('b', 2);
    expect(registry.list()).toEqual(['a', 'b']);
    expect(registry.get('b')).toBe(2);
    expect(registry.has('c')).toBe(false);
  });

  it('rejects duplicates unless overridden', () => {
    const registry = createRegistry<number>('thing', [['a', 1]]);
    expect(() => registry.register('a', 2)).toThrowError(/already registered/);
    registry.register('a', 3, { override: true });
    expect(registry.get('a')).toBe(3);
  });

  it('names the available entries when a lookup fails', () => {
    const registry = createRegistry<number>('advantage estimator', [['grpo', 1]]);
    try {
      registry.get('grpp');
      expect.unreachable();
    } catch (error) {
      expect(AipoError.isInstance(error)).toBe(true);
      expect((error as AipoError).code).toBe('UNKNOWN_ENTRY');
      expect((error as AipoError).message).toContain('available: grpo');
    }
  });
});

import { AipoError } from '../errors/aipo-error';

/** A named collection of extension entries (estimators, losses, graders, benchmarks, ...). */
export interface Registry<T> {
  /** what the registry holds, used in error messages ("advantage estimator") */
  readonly kind: string;
  /** add an entry; a duplicate name throws DUPLICATE_ENTRY unless `override` is set */
  register(name: string, entry: T, options?: { override?: boolean }): Registry<T>;
  /** look an entry up; an unknown name throws UNKNOWN_ENTRY listing the available names */
  get(name: string): T;
  has(name: string): boolean;
  /** registered names, in insertion order */
  list(): string[];
  entries(): Array<[string, T]>;
}

/**
 * Registries are instances, never import-time side effects: each package lists its built-ins in
 * one `builtin.ts`, and users may build their own registry from scratch (zod's design, not verl's).
 */
export function createRegistry<T>(kind: string, initial: Iterable<readonly [string, T]> = []): Registry<T> {
  const map = new Map<string, T>();
  const registry: Registry<T> = {
    kind,
    register(name, entry, options = {}) {
      if (typeof name !== 'string' || name.length === 0) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `${kind} name must be a non-empty string` });
      }
      if (map.has(name) && !options.override) {
        throw new AipoError({
          code: 'DUPLICATE_ENTRY',
          message: `${kind} "${name}" is already registered (pass { override: true } to replace it)`,
          details: { name },
        });
      }
      map.set(name, entry);
      return registry;
    },
    get(name) {
      const entry = map.get(name);
      if (entry === undefined) {
        throw new AipoError({
          code: 'UNKNOWN_ENTRY',
          message: `unknown ${kind} "${name}" (available: ${[...map.keys()].join(', ') || 'none'})`,
          details: { name, available: [...map.keys()] },
        });
      }
      return entry;
    },
    has: (name) => map.has(name),
    list: () => [...map.keys()],
    entries: () => [...map.entries()],
  };
  for (const [name, entry] of initial) registry.register(name, entry);
  return registry;
}

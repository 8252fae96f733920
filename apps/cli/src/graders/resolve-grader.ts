import { AipoError } from '@aipo/core';
import { builtinGraders, type Grader } from '@aipo/graders';

/** A grader plus the cleanup it needs (code graders hold containers or isolates). */
export interface ResolvedGrader {
  grader: Grader;
  close(): Promise<void>;
}

/**
 * Look a grader up by id. Light graders come from `builtinGraders()`; code graders are loaded
 * from their subpaths only when asked for, so `aipo grade math` never loads dockerode.
 */
export async function resolveGrader(id: string, options: { sandboxImage?: string; extraction?: 'last-fenced-block' | 'raw' } = {}): Promise<ResolvedGrader> {
  const registry = builtinGraders();
  if (registry.has(id)) return { grader: registry.get(id), close: async () => {} };
  if (id === 'code-python') {
    const { createPythonGrader } = await import('@aipo/graders/docker');
    const grader = createPythonGrader({
      ...(options.sandboxImage === undefined ? {} : { image: options.sandboxImage }),
      ...(options.extraction === undefined ? {} : { extraction: options.extraction }),
    });
    return { grader, close: () => grader.close() };
  }
  if (id === 'code-javascript') {
    const { createJsGrader } = await import('@aipo/graders/js');
    const grader = createJsGrader(options.extraction === undefined ? {} : { extraction: options.extraction });
    return { grader, close: () => grader.close() };
  }
  throw new AipoError({ code: 'UNKNOWN_ENTRY', message: `unknown grader "${id}" (available: ${[...registry.list(), 'code-python', 'code-javascript'].join(', ')})`, details: { id } });
}

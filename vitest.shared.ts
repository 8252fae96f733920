import type { UserWorkspaceConfig } from 'vitest/config';

/**
 * Shared settings for every package's vitest project.
 * - `@aipo/source` resolves workspace packages to their TypeScript source, so tests never need a build.
 * - forks with `--no-node-snapshot`: isolated-vm requires it on Node >= 20 (its README).
 */
export function sharedProject(name: string, overrides: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return {
    resolve: { conditions: ['@aipo/source', 'module', 'node', 'import', 'default'] },
    ssr: { resolve: { conditions: ['@aipo/source', 'node', 'import', 'default'], externalConditions: ['@aipo/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts', '*.test.ts'],
      pool: 'forks',
      execArgv: ['--no-node-snapshot'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...overrides,
    },
  };
}

import { defineProject } from 'vitest/config';
import { sharedProject } from '../vitest.shared.ts';

// End-to-end tests spawn the CLI, HTTP servers and Docker containers on a shared 2-core machine:
// generous deadlines so a busy machine slows them down instead of failing them.
export default defineProject(
  sharedProject('e2e', { include: ['**/*.test.ts'], exclude: ['**/node_modules/**'], testTimeout: 240_000, hookTimeout: 120_000 }),
);

import { defineProject } from 'vitest/config';
import { sharedProject } from '../vitest.shared.ts';

export default defineProject(sharedProject('e2e', { include: ['**/*.test.ts'], exclude: ['**/node_modules/**'] }));

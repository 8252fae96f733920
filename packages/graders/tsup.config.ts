import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/js/index.ts', 'src/docker/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
});

import { defineConfig } from 'tsup';

export default defineConfig({
  // the wasm assembler is on its own subpath: kernels in other packages (the trainer's decode) use it
  entry: { index: 'src/index.ts', 'wasm/index': 'src/wasm/index.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
});

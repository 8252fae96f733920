// `@aipo/core/wasm`: the small WebAssembly assembler core's SIMD kernels are written with, for kernels
// in other packages (the trainer's decode path). No runtime dependency.
export { assembleModule, F32, F64, I32, name, op, section, sleb, uleb, V128, vector, type WasmFunction } from './wasm-assembler';
export { type WasmApi, type WasmMemory, webAssembly } from './web-assembly';

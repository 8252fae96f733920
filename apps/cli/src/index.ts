export { buildProgram, type CliContext, EXIT, run } from './run';
export { benchConfigSchema, type BenchConfig, loadConfig } from './config/cli-config';

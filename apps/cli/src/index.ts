export { buildProgram, EXIT, run } from './run';

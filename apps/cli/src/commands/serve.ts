import { AipoError } from '@aipo/core';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../run';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('a port is an integer 0..65535');
  return port;
}

/** `aipo serve --model DIR`: an OpenAI-compatible server over a trained policy (@aipo/trainer). */
export function registerServe(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('serve a model folder (Hugging Face layout) over an OpenAI-compatible HTTP API')
    .requiredOption('--model <dir>', 'model folder: config.json, *.safetensors, tokenizer.json')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', parsePort, 8000)
    .option('--backend <name>', 'tfjs backend: auto, tensorflow (tfjs-node or tfjs-node-gpu), webgpu, wasm, cpu', 'auto')
    .option('--max-batch-size <n>', 'most sequences per model batch', (value) => Number.parseInt(value, 10), 32)
    .action(async (options: { model: string; host: string; port: number; backend: string; maxBatchSize: number }) => {
      // loaded lazily: tfjs is heavy and only this command needs it
      const { startServer } = await import('@aipo/trainer');
      const backends = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
      if (!backends.includes(options.backend)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `unknown backend "${options.backend}" (one of ${backends.join(', ')})` });
      }
      const server = await startServer({
        modelDir: options.model,
        host: options.host,
        port: options.port,
        backend: options.backend as Parameters<typeof startServer>[0]['backend'],
        maxBatchSize: options.maxBatchSize,
      });
      const backend = server.backend ? `${server.backend.name} (${server.backend.reason})` : 'given policy';
      process.stderr.write(`aipo serve: ${server.modelId} on ${server.url}/v1, backend ${backend}; Ctrl-C stops\n`);
      await new Promise<void>((resolve) => {
        if (context.signal.aborted) resolve();
        context.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await server.close();
    });
}

import { AipoError } from '@aipo/core';
import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench';
import { registerDatasets } from './commands/datasets';
import { registerDemo } from './commands/demo';
import { registerGrade } from './commands/grade';
import { registerSandbox } from './commands/sandbox';
import { registerServe } from './commands/serve';
import { registerTrain } from './commands/train';

/** Exit codes: 0 ok, 1 error, 100 a score below its --min-score threshold, 128 + n after signal n. */
export const EXIT = { ok: 0, error: 1, belowThreshold: 100, interrupted: 130, terminated: 143 } as const;

/**
 * The exit code after the CLI's signal fired (its abort reason is the signal's name), whatever the
 * command did next: a stopped run is neither a success nor an ordinary failure.
 */
function interruptedExitCode(signal: AbortSignal): number | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}

/** What commands share: the exit code they want and the Ctrl-C signal. */
export interface CliContext {
  exitCode: number;
  signal: AbortSignal;
}

export function buildProgram(context: CliContext = { exitCode: 0, signal: new AbortController().signal }): Command {
  const program = new Command('aipo')
    .description('Train and evaluate LLM reasoning with RL from verifiable rewards (AIPO, ILR, LUFFY).')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .addHelpText('after', '\nExit codes: 0 ok, 1 error, 100 a benchmark scored below its --min-score, 130 Ctrl-C, 143 SIGTERM.');

  registerDemo(program, context);
  registerTrain(program, context);
  registerBench(program, context);
  registerGrade(program, context);
  registerDatasets(program, context);
  registerSandbox(program, context);
  registerServe(program, context);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Run the CLI in-process (tests call this) and return the exit code instead of exiting. */
export async function run(argv: string[], options: { signal?: AbortSignal } = {}): Promise<number> {
  const context: CliContext = { exitCode: EXIT.ok, signal: options.signal ?? new AbortController().signal };
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return interruptedExitCode(context.signal) ?? context.exitCode;
  } catch (error) {
    const interrupted = interruptedExitCode(context.signal);
    if (interrupted !== undefined) {
      process.stderr.write('aipo: stopped; the results written so far are saved (continue with --resume)\n');
      return interrupted;
    }
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    if (AipoError.isInstance(error)) {
      process.stderr.write(`aipo: ${error.message} [${error.code}]\n`);
      return EXIT.error;
    }
    process.stderr.write(`aipo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.error;
  }
}

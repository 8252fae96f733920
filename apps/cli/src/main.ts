#!/usr/bin/env node
import { run } from './run';

// Ctrl-C (SIGINT) or SIGTERM aborts in-flight requests and grading; the results file is flushed
// and fsync'd before the process ends, so `--resume` continues the run. The exit code follows the
// shell convention 128 + signal number (130, 143), which `run` returns once the signal has fired.
// A second signal exits at once.
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (controller.signal.aborted) return;
    process.stderr.write(`\naipo: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}, saving results (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again to exit now)\n`);
    controller.abort(signal);
    for (const again of ['SIGINT', 'SIGTERM'] as const) process.once(again, () => process.exit(again === 'SIGINT' ? 130 : 143));
  });
}

process.exitCode = await run(process.argv.slice(2), { signal: controller.signal });

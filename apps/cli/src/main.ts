#!/usr/bin/env node
import { run } from './run';

// Ctrl-C aborts in-flight requests and grading; results already written stay (resume with --resume).
// A second Ctrl-C exits at once.
const controller = new AbortController();
process.once('SIGINT', () => {
  process.stderr.write('\naipo: interrupted, stopping (Ctrl-C again to exit now)\n');
  controller.abort(new Error('interrupted'));
  process.once('SIGINT', () => process.exit(130));
});

process.exitCode = await run(process.argv.slice(2), { signal: controller.signal });

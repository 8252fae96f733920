import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '@aipo/bench';
import { type OpenAiServer, startOpenAiServer } from '@aipo/bench/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS, expectedCorrect, math500Recordings, readMath500 } from './helpers/math500-recordings';
import { runCli, spawnCli } from './helpers/run-cli';
import { datasetsAvailable } from './helpers/shared-datasets';

const available = datasetsAvailable();
const PROBLEMS = 30;
const N = 2;
const SEED = 7;

function countSamples(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.includes('"type":"sample"')).length;
}

/**
 * Start `aipo …`, poll its results file (it grows line by line) and send `signal` once it holds
 * `atSamples` samples. Resolves with how the process ended and what it printed on stderr.
 */
async function interruptAt({ args, resultsPath, atSamples, signal }: { args: string[]; resultsPath: string; atSamples: number; signal: NodeJS.Signals }) {
  const child = spawnCli(args);
  child.stdin?.end();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, by) => resolve({ code, signal: by })));
  let sent = false;
  const timer = setInterval(() => {
    if (!sent && countSamples(resultsPath) >= atSamples) {
      sent = true;
      child.kill(signal);
    }
  }, 20);
  const ended = await exited;
  clearInterval(timer);
  if (!sent) throw new Error(`the run ended before it could be interrupted: ${stderr}`);
  return { ...ended, stderr };
}

/** The parts of a summary that must not depend on interruptions (latencies naturally differ). */
function scores(summary: RunSummary) {
  const { latencyMs: _latency, ...rest } = summary;
  return rest;
}

describe.skipIf(!available)('SIGKILL mid-run, then --resume', () => {
  const records = available ? readMath500(PROBLEMS) : [];
  let server: OpenAiServer;
  beforeAll(async () => {
    // A little latency per request so the run is reliably caught mid-way.
    server = await startOpenAiServer({ respond: math500Recordings(records), delayMs: 40 });
  });
  afterAll(() => server.close());

  const args = (output: string) => [
    'bench', 'run', 'math500', '--model', 'recorded', '--base-url', server.url, '--data-dir', DATASETS, '--limit', String(PROBLEMS),
    '-n', String(N), '--seed', String(SEED), '--concurrency', '2', '--output', output, '--format', 'json',
  ];

  it('finishes with exactly the results of an uninterrupted run, without re-asking finished samples', async () => {
    const killedDir = mkdtempSync(join(tmpdir(), 'aipo-e2e-kill-'));
    const resultsPath = join(killedDir, 'math500.results.jsonl');
    const killed = await interruptAt({ args: args(killedDir), resultsPath, atSamples: (PROBLEMS * N) / 3, signal: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    const savedAtKill = countSamples(resultsPath);
    expect(savedAtKill).toBeLessThan(PROBLEMS * N);
    const requestsBeforeResume = server.stats.reply;

    const resumed = await runCli([...args(killedDir), '--resume']);
    expect(resumed.stderr).not.toMatch(/CORRUPT|Error/);
    expect(resumed.code).toBe(0);
    // Only the samples missing from the file were asked again.
    expect(server.stats.reply - requestsBeforeResume).toBe(PROBLEMS * N - savedAtKill);
    expect(countSamples(resultsPath)).toBe(PROBLEMS * N);

    const cleanDir = mkdtempSync(join(tmpdir(), 'aipo-e2e-clean-'));
    const clean = await runCli(args(cleanDir));
    expect(clean.code).toBe(0);
    const read = (dir: string) => (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { summaries: RunSummary[] }).summaries[0] as RunSummary;
    expect(scores(read(killedDir))).toEqual(scores(read(cleanDir)));
    expect(read(killedDir).perProblem.map((problem) => problem.correct)).toEqual(expectedCorrect({ records, n: N, seed: SEED }));
  });

  it.each([
    { signal: 'SIGINT' as const, code: 130, said: 'interrupted' },
    { signal: 'SIGTERM' as const, code: 143, said: 'terminated' },
  ])('$signal stops the run with exit code $code after saving what was written; --resume completes it', async ({ signal, code, said }) => {
    const dir = mkdtempSync(join(tmpdir(), `aipo-e2e-${signal.toLowerCase()}-`));
    const resultsPath = join(dir, 'math500.results.jsonl');
    const requestsBefore = server.stats.reply;
    const interrupted = await interruptAt({ args: args(dir), resultsPath, atSamples: 10, signal });
    expect(interrupted.signal).toBeNull();
    expect(interrupted.code).toBe(code);
    expect(interrupted.stderr).toContain(said);
    expect(interrupted.stderr).toContain('continue with --resume');
    // Flushed before exit: the file ends with a whole line, so resume drops nothing.
    const text = readFileSync(resultsPath, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const saved = countSamples(resultsPath);
    expect(saved).toBeGreaterThanOrEqual(10);
    expect(saved).toBeLessThan(PROBLEMS * N);
    const requestsAtStop = server.stats.reply;
    const resumed = await runCli([...args(dir), '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).not.toMatch(/CORRUPT|torn/);
    expect(countSamples(resultsPath)).toBe(PROBLEMS * N);
    // Requests answered before the stop but not saved are the only ones asked twice: at most the
    // in-flight ones (--concurrency 2).
    expect(server.stats.reply - requestsAtStop).toBe(PROBLEMS * N - saved);
    expect(requestsAtStop - requestsBefore - saved).toBeLessThanOrEqual(2);
    const summary = (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { summaries: RunSummary[] }).summaries[0] as RunSummary;
    expect(summary.perProblem.map((problem) => problem.correct)).toEqual(expectedCorrect({ records, n: N, seed: SEED }));
  });
});

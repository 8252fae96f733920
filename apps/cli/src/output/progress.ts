import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** Progress callbacks for the runner: one bar for sampling and one for grading. */
export interface Progress {
  update(event: { phase: 'sampling' | 'grading'; done: number; total: number }): void;
  stop(): void;
}

/**
 * Progress bars on stderr (stdout stays clean for pipes), drawn only on a terminal: in CI logs or
 * when redirected they would be noise, so they switch off by themselves.
 */
export function createProgress({ label, enabled }: { label: string; enabled: boolean }): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const multibar = new MultiBar(
    { stream: process.stderr, hideCursor: true, clearOnComplete: false, format: `{phase} ${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}` },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  return {
    update({ phase, done, total }) {
      let bar = bars.get(phase);
      if (bar === undefined) {
        bar = multibar.create(total, done, { phase: phase.padEnd(8) });
        bars.set(phase, bar);
      }
      bar.setTotal(total);
      bar.update(done, { phase: phase.padEnd(8) });
    },
    stop: () => multibar.stop(),
  };
}

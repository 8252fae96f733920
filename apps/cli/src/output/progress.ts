import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** Progress callbacks for the runner: one bar for sampling and one for grading. */
export interface Progress {
  update(event: { phase: 'sampling' | 'grading'; done: number; total: number }): void;
  stop(): void;
}

/** How often the bars are redrawn at most: the runner reports every sample, up to thousands a second. */
const REDRAW_MS = 100;

/**
 * Progress bars on stderr (stdout stays clean for pipes), drawn only on a terminal: in CI logs or
 * when redirected they would be noise, so they switch off by themselves. Events only record the
 * latest count; the bars are updated from it at most every 100 ms, so per-sample progress costs
 * the runner nothing.
 */
export function createProgress({ label, enabled }: { label: string; enabled: boolean }): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const multibar = new MultiBar(
    { stream: process.stderr, hideCursor: true, clearOnComplete: false, format: `{phase} ${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}` },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  const latest = new Map<string, { done: number; total: number }>();
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    timer = undefined;
    for (const [phase, { done, total }] of latest) {
      let bar = bars.get(phase);
      if (bar === undefined) {
        bar = multibar.create(total, done, { phase: phase.padEnd(8) });
        bars.set(phase, bar);
      }
      bar.setTotal(total);
      bar.update(done, { phase: phase.padEnd(8) });
    }
    latest.clear();
  };
  return {
    update({ phase, done, total }) {
      latest.set(phase, { done, total });
      timer ??= setTimeout(draw, REDRAW_MS).unref();
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      draw();
      multibar.stop();
    },
  };
}

import { SingleBar, Presets } from 'cli-progress';

/**
 * One progress bar per phase on a terminal; in CI logs (not a TTY) one plain line each time a
 * phase starts and at every 25%, so long runs still show they are alive without flooding the log.
 */
export function createPhaseProgress(): { update(phase: string, step: number, total: number): void; stop(): void } {
  let bar: SingleBar | undefined;
  let current = '';
  let lastQuarter = -1;
  const tty = process.stderr.isTTY === true;
  return {
    update(phase, step, total) {
      if (phase !== current) {
        bar?.stop();
        current = phase;
        lastQuarter = -1;
        if (tty) {
          bar = new SingleBar({ stream: process.stderr, format: `${phase.padEnd(28)} [{bar}] {value}/{total} eta {eta_formatted}`, hideCursor: true }, Presets.shades_classic);
          bar.start(total, step);
        }
      }
      if (bar) {
        bar.setTotal(total);
        bar.update(step);
        return;
      }
      const quarter = total > 0 ? Math.floor((4 * step) / total) : 4;
      if (quarter !== lastQuarter) {
        lastQuarter = quarter;
        process.stderr.write(`${phase}: ${step}/${total}\n`);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

// A second, real Docker engine for the multi-engine tests (not exported). In order:
// AIPO_SECOND_DOCKER_HOST (unix:///path.sock, an engine CI provides), an engine already answering on
// /tmp/aipo-d2.sock, or a dockerd started here (needs root and dockerd on PATH), stopped again by
// `stop()`. Like the main test engine it runs with --bridge=none --iptables=false.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createDockerEngine, type DockerEngine } from '../docker-engine';

const SOCKET = '/tmp/aipo-d2.sock';
const LOG = '/tmp/aipo-d2.log';
const START_TIMEOUT_MS = 60_000;

export interface SecondEngine {
  engine: DockerEngine;
  /** for the docker CLI: `unix:///…` */
  dockerHost: string;
  /** true when this process started the daemon (and `stop()` ends it) */
  started: boolean;
  stop(): Promise<void>;
}

async function answers(engine: DockerEngine): Promise<boolean> {
  try {
    await engine.ping();
    return true;
  } catch {
    return false;
  }
}

/** A second engine, or the reason there is none. */
export async function startSecondEngine(): Promise<SecondEngine | string> {
  const given = process.env.AIPO_SECOND_DOCKER_HOST;
  if (given !== undefined) {
    if (!given.startsWith('unix://')) return `AIPO_SECOND_DOCKER_HOST must be unix:///path.sock, got ${given}`;
    const engine = createDockerEngine({ socketPath: given.slice('unix://'.length) });
    if (!(await answers(engine))) return `no engine answers at AIPO_SECOND_DOCKER_HOST=${given}`;
    return { engine, dockerHost: given, started: false, stop: async () => undefined };
  }
  const engine = createDockerEngine({ socketPath: SOCKET });
  const dockerHost = `unix://${SOCKET}`;
  if (await answers(engine)) return { engine, dockerHost, started: false, stop: async () => undefined };
  if (process.getuid?.() !== 0) return 'starting a second dockerd needs root';
  if (spawnSync('dockerd', ['--version']).error) return 'dockerd is not on PATH';

  const log = openSync(LOG, 'w');
  const daemon: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root=/tmp/aipo-d2',
      '--exec-root=/tmp/aipo-d2-exec',
      '--pidfile=/tmp/aipo-d2.pid',
      `-H=unix://${SOCKET}`,
      '--bridge=none',
      '--iptables=false',
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const stop = async () => {
    if (daemon.exitCode !== null || daemon.signalCode !== null) return;
    daemon.kill('SIGTERM');
    const forced = setTimeout(() => daemon.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(forced);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && daemon.exitCode === null) {
    if (await answers(engine)) return { engine, dockerHost, started: true, stop };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  const tail = readFileSync(LOG, 'utf8').trim().split('\n').slice(-3).join(' | ');
  return `the second dockerd did not start: ${tail}`;
}

import type { CodeVerdict } from '../code/verdict';
import type { RunnerReply } from './sandbox-container';

const SIGKILL = 9;
const SIGXCPU = 24;
const SIGXFSZ = 25;

/** The verdict of a run that did not finish normally, or undefined when its output should be compared. */
export function runFailure(
  reply: RunnerReply,
  timeoutMs: number,
): { verdict: CodeVerdict; message: string } | undefined {
  const stderr = (reply.stderr ?? '').trim();
  const tail = stderr === '' ? '' : `: ${stderr.split('\n').slice(-3).join(' | ')}`;
  switch (reply.status) {
    case 'exited':
    case 'ready':
    case 'returned':
    case 'closed':
      if (reply.exit === undefined || reply.exit === 0) return undefined;
      if (reply.exit === 3) return { verdict: 'compile_error', message: `the program does not compile${tail}` };
      if (reply.exit === 4) return { verdict: 'memory_limit', message: 'MemoryError (address-space limit)' };
      return { verdict: 'runtime_error', message: `exit status ${reply.exit}${tail}` };
    case 'timeout':
      return { verdict: 'time_limit', message: `no result within ${Math.round(timeoutMs)} ms` };
    case 'output_limit':
      return { verdict: 'output_limit', message: 'output past the cap; the program was killed' };
    case 'signaled':
      if (reply.signal === SIGXCPU) return { verdict: 'time_limit', message: 'CPU time limit (SIGXCPU)' };
      // the runner reads the memory cgroup's oom_kill counter: a plain 137 is not proof of OOM
      if (reply.signal === SIGKILL && reply.oomKilled)
        return { verdict: 'memory_limit', message: 'killed by the OOM killer' };
      if (reply.signal === SIGXFSZ) return { verdict: 'runtime_error', message: 'file size limit (SIGXFSZ)' };
      return { verdict: 'runtime_error', message: `killed by signal ${reply.signal ?? '?'}${tail}` };
    case 'raised':
      return { verdict: 'runtime_error', message: `exception${tail}` };
    default:
      return { verdict: 'runtime_error', message: `sandbox runner: ${reply.status}${tail}` };
  }
}

// HumanEval and MBPP through the assert-program path: every canonical solution must pass and a
// mutated one (its return value perturbed) must fail. Data: ../shared/datasets (read-only).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { AssertReference } from '../code/lcb-reference';
import { dockerSkipReason, TEST_SANDBOX_IMAGE } from './docker-test-support';
import { createPythonGrader } from './python-grader';

const datasets = fileURLToPath(new URL('../../../../../shared/datasets/', import.meta.url));
const present = existsSync(`${datasets}humaneval/HumanEval.jsonl.gz`) && existsSync(`${datasets}mbpp/mbpp.jsonl`);
if (!present && process.env.CI) throw new Error(`CI is set but the shared datasets are missing at ${datasets}`);
if (!present) process.stderr.write(`skipping HumanEval/MBPP tests: no datasets at ${datasets}\n`);
const dockerSkip = present ? await dockerSkipReason() : 'no datasets';

interface Task {
  id: string;
  solution: string;
  reference: AssertReference;
  entryPoint: string;
}

/** Rebinds the entry point to a wrapper that perturbs every returned value, so any assert on it fails. */
function mutate(solution: string, entryPoint: string): string {
  return `${solution}

def _aipo_perturb(value):
    if isinstance(value, bool): return not value
    if isinstance(value, int): return value + 1
    if isinstance(value, float): return value * 1.5 + 1.5
    if isinstance(value, str): return value + "~"
    if isinstance(value, list): return value + [None]
    if isinstance(value, tuple): return value + (None,)
    if isinstance(value, dict): return {**value, "~": None}
    if isinstance(value, set): return value | {None}
    if value is None: return 0
    return object()

_aipo_original = ${entryPoint}
def ${entryPoint}(*args, **kwargs):
    return _aipo_perturb(_aipo_original(*args, **kwargs))
`;
}

function loadHumanEval(): Task[] {
  const lines = gunzipSync(readFileSync(`${datasets}humaneval/HumanEval.jsonl.gz`))
    .toString('utf8')
    .trim()
    .split('\n');
  return lines.map((line) => {
    const row = JSON.parse(line) as {
      task_id: string;
      prompt: string;
      canonical_solution: string;
      test: string;
      entry_point: string;
    };
    return {
      id: row.task_id,
      solution: row.prompt + row.canonical_solution,
      reference: { testCode: row.test, entryPoint: row.entry_point },
      entryPoint: row.entry_point,
    };
  });
}

function loadMbpp(): Task[] {
  const lines = readFileSync(`${datasets}mbpp/mbpp.jsonl`, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const row = JSON.parse(line) as { task_id: number; code: string; test_setup_code: string; test_list: string[] };
    const entryPoint =
      /assert\s+(?:not\s+)?\(?\s*(?:set\(|math\.isclose\(|round\()?\s*([A-Za-z_]\w*)\s*\(/.exec(
        row.test_list[0] ?? '',
      )?.[1] ?? '';
    return {
      id: `MBPP/${row.task_id}`,
      solution: row.code,
      reference: { testCode: `${row.test_setup_code}\n${row.test_list.join('\n')}\n` },
      entryPoint,
    };
  });
}

async function gradeAll(grader: ReturnType<typeof createPythonGrader>, tasks: Task[], mutated: boolean) {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++] as Task;
      const solution = mutated ? mutate(task.solution, task.entryPoint) : task.solution;
      const result = await grader.grade({ output: solution, reference: task.reference });
      if (result.pass === mutated) failures.push(`${task.id}: ${result.reason}`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return failures;
}

describe.skipIf(dockerSkip !== undefined)('assert programs: HumanEval and MBPP', () => {
  // MBPP/123 (amicable numbers below 10 000) takes seconds of pure CPU even on the host: a generous
  // limit keeps "every canonical solution passes" independent of machine load
  const grader = createPythonGrader({
    image: TEST_SANDBOX_IMAGE,
    poolSize: 2,
    extraction: 'raw',
    // the default policy ('unclean') reuses the container of a mutant that raised and ended by itself
    // once the post-run check found it clean: this keeps the test ~3× faster than 'any'
    limits: { timeoutMs: 60_000 },
  });
  afterAll(() => grader.close());

  it('HumanEval: all 164 canonical solutions pass, all 164 mutants fail', async () => {
    const tasks = loadHumanEval();
    expect(tasks).toHaveLength(164);
    expect(await gradeAll(grader, tasks, false)).toEqual([]);
    expect(await gradeAll(grader, tasks, true)).toEqual([]);
  }, 240_000);

  it('MBPP: all canonical solutions pass, all mutants fail', async () => {
    const tasks = loadMbpp();
    expect(tasks.length).toBeGreaterThan(900);
    expect(tasks.every((task) => task.entryPoint !== '')).toBe(true);
    expect(await gradeAll(grader, tasks, false)).toEqual([]);
    expect(await gradeAll(grader, tasks, true)).toEqual([]);
  }, 600_000);
});

import { REFUSED } from '../recipes/consultation-rollout';
import type { DemoSettings } from './demo-settings';
import type { DemoMethod, DemoRun } from './run-demo';
import { type DemoTable, formatDemoTable, passAtKCurve } from './summarize-demo';
import { escapeXml, renderLineChart } from './svg-line-chart';

const COLORS: Record<DemoMethod, string> = {
  warmup: '#888888',
  grpo: '#1f77b4',
  luffy: '#ff7f0e',
  aipo: '#2ca02c',
  ilr: '#d62728',
  'ilr-peer': '#9467bd',
};

/** The demo's HTML report: one self-contained file, charts as inline SVG. */
export function renderDemoReport(options: {
  runs: readonly DemoRun[];
  table: DemoTable;
  settings: DemoSettings;
  seeds: number;
  ilr: boolean;
  backend: string;
  wallMs: number;
}): string {
  const { runs, table, settings, seeds, ilr, backend, wallMs } = options;
  const passCharts = table.difficulties.map((difficulty) =>
    renderLineChart({
      title: `pass@k, difficulty ${difficulty} (${difficulty} operation${difficulty === 1 ? '' : 's'})`,
      xLabel: 'k (log scale)',
      yLabel: 'pass@k',
      logX: true,
      yRange: [0, 1],
      series: table.methods.map((method) => ({
        label: method,
        color: COLORS[method],
        dashed: method === 'warmup',
        points: passAtKCurve(runs, method, difficulty).map((value, index): [number, number] => [index + 1, value]),
      })),
    }),
  );
  const trained = table.methods.filter((method) => method !== 'warmup');
  const trainingSeries = (field: 'rewardMean' | 'entropy' | 'klOldNew') =>
    trained.flatMap((method) =>
      runs
        .filter((run) => run.method === method)
        .map((run) => ({
          label: seeds > 1 ? `${method} s${run.seed}` : method,
          color: COLORS[method],
          points: smooth(run.metrics.map((metric): [number, number] => [metric.sampledTokensTotal, metric[field]])),
        })),
    );
  const trainingCharts = [
    renderLineChart({ title: 'training reward (own rollouts, smoothed)', xLabel: 'policy-sampled tokens', yLabel: 'mean reward', series: trainingSeries('rewardMean'), yRange: [0, 1] }),
    renderLineChart({ title: 'entropy of policy tokens', xLabel: 'policy-sampled tokens', yLabel: 'nats', series: trainingSeries('entropy') }),
  ];
  const aipoRuns = runs.filter((run) => run.method === 'aipo');
  const agentNames = [...new Set(aipoRuns.flatMap((run) => run.metrics.flatMap((metric) => Object.keys(metric.consultations))))].sort();
  const consultationChart =
    aipoRuns.length > 0
      ? renderLineChart({
          title: 'AIPO consultations per rollout, by agent (smoothed)',
          xLabel: 'policy-sampled tokens',
          yLabel: 'consultations / rollout',
          series: agentNames.flatMap((agent, index) =>
            aipoRuns.map((run) => ({
              label: seeds > 1 ? `${agent} s${run.seed}` : agent,
              color: ['#2ca02c', '#17becf', '#bcbd22', '#e377c2'][index % 4] as string,
              points: smooth(run.metrics.map((metric): [number, number] => [metric.sampledTokensTotal, (metric.consultations[agent] ?? 0) / Math.max(1, metric.trainedSequences)])),
            })),
          ),
        })
      : '';
  const tokenRows = trained.map((method) => {
    const methodRuns = runs.filter((run) => run.method === method);
    const sum = (pick: (run: DemoRun) => number) => methodRuns.reduce((total, run) => total + pick(run), 0) / Math.max(1, methodRuns.length);
    const tokens = (source: 'policy' | 'offPolicy' | 'agent') => sum((run) => run.metrics.reduce((total, metric) => total + metric.tokensBySource[source], 0));
    const count = (refused: boolean) =>
      sum((run) =>
        run.metrics.reduce(
          (total, metric) => total + Object.entries(metric.consultations).reduce((a, [agent, value]) => a + ((agent === REFUSED) === refused ? value : 0), 0),
          0,
        ),
      );
    const consultations = count(false);
    const refused = count(true);
    return `<tr><td>${method}</td><td>${sum((run) => run.steps).toFixed(0)}</td><td>${tokens('policy').toFixed(0)}</td><td>${tokens('offPolicy').toFixed(0)}</td><td>${tokens('agent').toFixed(0)}</td><td>${consultations.toFixed(0)}</td><td>${refused.toFixed(0)}</td><td>${(sum((run) => run.wallMs) / 1000).toFixed(0)}</td></tr>`;
  });
  const question = ilr
    ? 'Does co-training two policies with ILR (Dynamic Interaction, Idea Sharing/Fusion, Perception Calibration) raise each policy’s pass@k, evaluated alone, beyond single-agent GRPO?'
    : 'Does learning from active interaction (AIPO: consult Verify / Knowledge / Reasoning agents during RL, evaluate alone) expand pass@k at large k on the hardest problems beyond GRPO, and beyond trajectory-level guidance (LUFFY)?';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aipo demo report</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:24px auto;padding:0 12px;color:#222}pre{background:#f6f6f6;padding:8px;overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:8px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style></head>
<body>
<h1>aipo demo: ${ilr ? 'GRPO vs ILR' : 'GRPO vs LUFFY vs AIPO'}</h1>
<p><b>Question.</b> ${escapeXml(question)}</p>
<p>Task: chains of single-digit additions/subtractions, difficulty = number of operations, graded by the math grader on the final <code>\\boxed{}</code>.
Model: character-level GRU (embedding ${settings.recipe.model?.embeddingSize}, hidden ${settings.recipe.model?.hiddenSize}). Warm-up: ${settings.warmupSteps} supervised steps on difficulties ${settings.warmupDifficulties.join(', ')}.
Each RL method: ${settings.sampledTokenBudget.toLocaleString('en')} policy-sampled tokens${ilr ? ' per policy' : ''} from the warm-up checkpoint. Evaluation: each policy alone (no agents), ${settings.evaluationSamples} samples per held-out problem, temperature 1.
Seeds: ${seeds}. Backend: ${escapeXml(backend)}. Wall time: ${(wallMs / 1000).toFixed(0)} s.</p>
<h2>Held-out pass@k (mean [95% bootstrap interval over problems, seeds pooled])</h2>
<pre>${escapeXml(formatDemoTable(table))}</pre>
${seeds > 1 ? `<p>Per-seed values are in results.json (<code>table.rows[].cells[k].perSeed</code>).</p>` : '<p>One seed: the interval covers problem sampling only, not training noise; run with 3 seeds for that.</p>'}
<h2>pass@k curves (k = 1…${settings.evaluationSamples})</h2><div class="charts">${passCharts.join('')}</div>
<h2>Training curves</h2><div class="charts">${trainingCharts.join('')}</div>
${consultationChart ? `<h2>Consultations</h2><div class="charts">${consultationChart}</div>` : ''}
<h2>Budget and tokens by source (mean per seed)</h2>
<table><tr><th>method</th><th>steps</th><th>policy tokens</th><th>off-policy tokens</th><th>agent tokens</th><th>consultations</th><th>refused requests</th><th>wall s</th></tr>${tokenRows.join('')}</table>
</body></html>
`;
}

/** Moving average over 5 points, so step-to-step noise does not hide the trend. */
function smooth(points: Array<[number, number]>): Array<[number, number]> {
  return points.map(([x], index) => {
    const window = points.slice(Math.max(0, index - 4), index + 1);
    return [x, window.reduce((sum, [, y]) => sum + y, 0) / window.length];
  });
}

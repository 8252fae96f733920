import type { StepMetrics } from './run-recipe';

/** One terminal line per step and policy: reward, advantage, ratio, clipping, KL, entropy, consultations, tokens by source. */
export function formatStepLine(metrics: StepMetrics): string {
  const fixed = (value: number | null, digits = 3) => (value === null ? '-' : value.toFixed(digits));
  const consultations = Object.entries(metrics.consultations)
    .map(([agent, count]) => `${agent}:${count}`)
    .join(',');
  const { policy, offPolicy, agent } = metrics.tokensBySource;
  return [
    `${metrics.recipe}${metrics.policyId === 'a' ? '' : `[${metrics.policyId}]`} step ${metrics.step}`,
    `reward ${fixed(metrics.rewardMean)}`,
    `adv ${fixed(metrics.advantageMean)}±${fixed(metrics.advantageStd)}`,
    `ratio ${fixed(metrics.ratioMean)} max ${fixed(metrics.ratioMax, 2)}`,
    `clip ${fixed(metrics.clipFractionLow)}/${fixed(metrics.clipFractionHigh)}`,
    `kl ${metrics.klOldNew.toExponential(2)}${metrics.klReference === null ? '' : ` ref ${metrics.klReference.toExponential(2)}`}`,
    `H ${fixed(metrics.entropy)}`,
    `consult ${consultations || '0'}`,
    ...(metrics.analysisAccuracy === null ? [] : [`analysis ${fixed(metrics.analysisAccuracy)}`]),
    `tokens p${policy} o${offPolicy} a${agent}`,
    `${(metrics.stepMs / 1000).toFixed(1)}s`,
  ].join(' | ');
}

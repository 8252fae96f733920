import type { Agent } from '@aipo/agents';
import type { Registry } from '@aipo/core';
import type { TagSyntax } from '@aipo/agents';
import { type ArithmeticProblem, formatStep } from './arithmetic-task';

export interface ConsultationTraceOptions {
  /** the problem */
  problem: ArithmeticProblem;
  /** the agents (their real replies are inserted) */
  agents: Registry<Agent>;
  /** request / result syntax */
  syntax: TagSyntax;
  /** chance that a step is preceded (knowledge, reasoning) or followed (verify) by a consultation */
  consultProbability: number;
  /** consultations per trace at most */
  maxConsultations: number;
  /** uniform random numbers in [0, 1) */
  random: () => number;
}

/**
 * A reference solution written with consultations, for the SFT warm-up: it teaches a tiny model the
 * tag syntax so that AIPO's rollouts can consult at all (a real LLM gets this from the training
 * prompt, algorithms.md §1.3). Examples, for step `8-2=6` of `3+5-2+7`:
 *   knowledge: `<knowledge>8-2</knowledge><result>6</result>\n8-2=6\n`
 *   reasoning: `<reasoning>8-2+7</reasoning><result>8-2=6</result>\n8-2=6\n`
 *   verify:    `8-2=6<verify>8-2=6</verify><result>correct</result>\n`
 */
export async function buildConsultationTrace(options: ConsultationTraceOptions): Promise<string> {
  const { problem, agents, syntax, consultProbability, maxConsultations, random } = options;
  const names = agents.list();
  let text = '';
  let used = 0;
  for (const [index, step] of problem.steps.entries()) {
    const line = formatStep(step);
    const ask = used < maxConsultations && random() < consultProbability;
    const agent = ask ? names[Math.floor(random() * names.length)] : undefined;
    if (agent === undefined) {
      text += `${line}\n`;
      continue;
    }
    used += 1;
    const rest = problem.steps.slice(index).map((later) => `${later.operator}${later.right}`).join('');
    const query = agent === 'verify' ? line : agent === 'reasoning' ? `${step.left}${rest}` : `${step.left}${step.operator}${step.right}`;
    const reply = await agents.get(agent).consult({ query, question: problem.expression });
    const exchange = `${syntax.formatRequest(agent, query)}${syntax.formatResult(reply.text)}`;
    text += agent === 'verify' ? `${line}${exchange}\n` : `${exchange}\n${line}\n`;
  }
  return `${text}\\boxed{${problem.answer}}`;
}

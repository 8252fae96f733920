// Run: npx tsx --conditions=@aipo/source packages/agents/examples/programmatic-rollout.ts
import {
  buildTrainingMessages,
  createAgentRegistry,
  createArithmeticVerifier,
  createKnowledgeTable,
  createStepOracle,
  createTagSyntax,
  plainChatTemplate,
  runAipoRollout,
} from '@aipo/agents';
import { createScriptedTokenPolicy } from '@aipo/agents/testing';

export async function main() {
  // 1. agents with no external model: a verifier, a fact table and a step oracle
  const agents = createAgentRegistry([
    createArithmeticVerifier(),
    createKnowledgeTable({ entries: { 'order of operations': 'multiply before adding' } }),
    createStepOracle({ nextStep: () => 'compute 12*7 first' }),
  ]);

  // 2. a policy: any TokenPolicy (the trainer's); here a scripted one over a character codec
  const codec = {
    encode: (text: string) => [...text].map((c) => c.codePointAt(0) as number),
    decode: (ids: number[]) => String.fromCodePoint(...ids),
  };
  const policy = createScriptedTokenPolicy({
    codec,
    turns: ['12*7 = 84. <query agent="verify">is 12*7 = 84?</query>', ' Then 84+1 = 85, so \\boxed{85}.'],
  });

  // 3. the training prompt (interaction on), rendered and encoded by the policy's codec
  const syntax = createTagSyntax({ kind: 'single', defaultAgent: 'reasoning' });
  const messages = buildTrainingMessages({
    question: 'What is 12*7+1?',
    agents: [...agents.entries()].map(([, agent]) => agent),
    syntax,
    maxConsultations: 3,
  });
  const promptTokenIds = policy.encode(plainChatTemplate(messages));

  // 4. one rollout: stops at </query>, asks the verifier, inserts <result>…</result>, resumes
  const trajectory = await runAipoRollout({
    policy,
    agents,
    promptTokenIds,
    question: 'What is 12*7+1?',
    config: { syntax, maxConsultations: 3 },
  });
  return trajectory;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const trajectory = await main();
  process.stdout.write(
    `${trajectory.text}\n${JSON.stringify(trajectory.tokensBySource)} finish=${trajectory.finish}\n`,
  );
}

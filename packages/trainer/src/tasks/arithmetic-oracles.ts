import { formatStep } from './arithmetic-task';

/**
 * Exact answers of AIPO's Knowledge and Reasoning roles (arXiv 2605.08401) for the embedded
 * arithmetic task, so the demo and CI need no external model (the Verify role is the agents
 * package's generic arithmetic verifier). Each takes the request text the policy wrote inside its
 * consultation tags and returns the short reply inserted into the trajectory (the prototype inserts
 * only the helper's final answer, algorithms.md §1.3, so replies stay short). An unparsable request
 * gets the reply `?`, never an exception.
 */

/** Reply for a request the oracle cannot parse. */
export const UNPARSABLE_REPLY = '?';

const CHAIN = /^(-?\d+)([+-])(\d)([+-]\d)*$/;
const FACT = /^\s*(-?\d+)\s*([+-])\s*(\d+)\s*(=\s*)?$/;

/** Knowledge agent: a table of single-operation facts; `8-2` → `6`. */
export function lookupArithmeticFact(request: string): string {
  const match = FACT.exec(request);
  if (match === null) return UNPARSABLE_REPLY;
  const [, left, operator, right] = match;
  return String(operator === '+' ? Number(left) + Number(right) : Number(left) - Number(right));
}

/**
 * Reasoning agent: given the rest of the chain (`6+7-1`, the running value first), replies with
 * the next step only (`6+7=13`): a hint for the stuck sub-problem, not the full solution.
 */
export function nextArithmeticStep(request: string): string {
  const match = CHAIN.exec(request.replace(/\s+/g, ''));
  if (match === null) return UNPARSABLE_REPLY;
  const [, left, operator, right] = match;
  const value = operator === '+' ? Number(left) + Number(right) : Number(left) - Number(right);
  return formatStep({ left: Number(left), operator: operator === '+' ? '+' : '-', right: Number(right), result: value });
}

import { AipoError } from '../errors/aipo-error';
import { assertNumber } from '../batch/assert-finite';
import { IRT_SCALE } from './interaction-mode';

export interface FitRaschOptions {
  /** [P,Q] row-major correctness: 1 = model/person p solved question q, 0 = not */
  correct: ArrayLike<number>;
  /** P: persons (models, or model checkpoints) */
  persons: number;
  /** Q: items (questions) */
  items: number;
  /** [P,Q] 1 = observed; unobserved cells are ignored (default: all observed) */
  observed?: Uint8Array;
  /** logistic scale s in P = σ(s·(θ − b)) (default 1.7, so the result plugs into `irtProbability`) */
  scale?: number;
  /** λ of the Gaussian prior −λ/2·(Σθ² + Σb²): keeps perfect rows/columns finite and pins the origin (default 0.1) */
  regularization?: number;
  /** Newton sweeps (default 200) */
  maxIterations?: number;
  /** stop when no parameter moves more than this in a sweep (default 1e-8) */
  tolerance?: number;
}

export interface RaschFit {
  /** [P] θ_p */
  abilities: Float64Array;
  /** [Q] b_q */
  difficulties: Float64Array;
  /** sweeps run */
  iterations: number;
  /** true when the last sweep moved every parameter less than `tolerance` */
  converged: boolean;
  /** penalised log-likelihood at the solution */
  logLikelihood: number;
}

/**
 * Fit a Rasch (1PL) model P(correct) = σ(s·(θ_p − b_q)) by penalised maximum likelihood, giving
 * the abilities γ and difficulties D that ILR's interaction rule compares (algorithms.md §2.2 leaves
 * the fit open; this is the standard joint-ML choice, e.g. Baker & Kim 2004 ch. 5). Alternating
 * Newton: each sweep updates every θ_p with b fixed, then every b_q with θ fixed; each of those is
 * a 1-D concave problem, so one Newton step each (capped at ±1 logit as a trust region) converges
 * quickly. The L2 prior is what keeps a model that solved everything, or a question nobody
 * solved, at a finite value (plain ML diverges there) and fixes the scale's free origin.
 */
export function fitRasch(options: FitRaschOptions): RaschFit {
  const { correct, persons, items, observed, scale = IRT_SCALE, regularization = 0.1, maxIterations = 200, tolerance = 1e-8 } = options;
  validate(options);
  assertNumber('scale', scale, (value) => value > 0, 'a positive number');
  assertNumber('regularization', regularization, (value) => value > 0, 'a positive number (it keeps perfect rows finite)');
  assertNumber('maxIterations', maxIterations, (value) => Number.isInteger(value) && value >= 1, 'a positive integer');
  assertNumber('tolerance', tolerance, (value) => value > 0, 'a positive number');
  const abilities = new Float64Array(persons);
  const difficulties = new Float64Array(items);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && !converged) {
    iterations++;
    let largest = 0;
    for (let p = 0; p < persons; p++) {
      const step = newtonStep({ value: abilities[p] as number, scale, regularization, cells: cellsOfPerson(p), sign: 1 });
      abilities[p] = (abilities[p] as number) + step;
      largest = Math.max(largest, Math.abs(step));
    }
    for (let q = 0; q < items; q++) {
      const step = newtonStep({ value: difficulties[q] as number, scale, regularization, cells: cellsOfItem(q), sign: -1 });
      difficulties[q] = (difficulties[q] as number) + step;
      largest = Math.max(largest, Math.abs(step));
    }
    // The likelihood depends only on θ − b, so (θ + c, b + c) is a ridge that only the weak prior
    // bends; coordinate steps crawl along it. Jump straight to the prior's optimum on the ridge:
    // c = −(Σθ + Σb)/(P + Q) minimises λ/2·(Σ(θ+c)² + Σ(b+c)²) and leaves the likelihood unchanged.
    const shift = -(sum(abilities) + sum(difficulties)) / (persons + items);
    for (let p = 0; p < persons; p++) abilities[p] = (abilities[p] as number) + shift;
    for (let q = 0; q < items; q++) difficulties[q] = (difficulties[q] as number) + shift;
    converged = Math.max(largest, Math.abs(shift)) < tolerance;
  }
  return { abilities, difficulties, iterations, converged, logLikelihood: penalisedLogLikelihood() };

  // Each cell yields (y, θ − b) for the person's or item's observed answers.
  function* cellsOfPerson(p: number): Generator<[number, number]> {
    for (let q = 0; q < items; q++) {
      const index = p * items + q;
      if (observed === undefined || observed[index] !== 0) yield [correct[index] as number, (abilities[p] as number) - (difficulties[q] as number)];
    }
  }
  function* cellsOfItem(q: number): Generator<[number, number]> {
    for (let p = 0; p < persons; p++) {
      const index = p * items + q;
      if (observed === undefined || observed[index] !== 0) yield [correct[index] as number, (abilities[p] as number) - (difficulties[q] as number)];
    }
  }
  function penalisedLogLikelihood(): number {
    let total = 0;
    for (let p = 0; p < persons; p++) {
      for (const [y, gap] of cellsOfPerson(p)) total += y * logSigmoid(scale * gap) + (1 - y) * logSigmoid(-scale * gap);
      total -= 0.5 * regularization * (abilities[p] as number) ** 2;
    }
    for (let q = 0; q < items; q++) total -= 0.5 * regularization * (difficulties[q] as number) ** 2;
    return total;
  }
}

/**
 * One Newton step on a single parameter x of the penalised log-likelihood. `sign` is +1 for θ
 * (∂gap/∂θ = 1) and −1 for b (∂gap/∂b = −1): gradient = sign·s·Σ(y − π) − λx, Hessian = −s²Σπ(1−π) − λ.
 */
function newtonStep(options: { value: number; scale: number; regularization: number; cells: Iterable<[number, number]>; sign: 1 | -1 }): number {
  const { value, scale, regularization, cells, sign } = options;
  let gradient = -regularization * value;
  let curvature = regularization;
  for (const [y, gap] of cells) {
    const probability = sigmoid(scale * gap);
    gradient += sign * scale * (y - probability);
    curvature += scale * scale * probability * (1 - probability);
  }
  return Math.max(-1, Math.min(1, gradient / curvature));
}

function sum(values: Float64Array): number {
  let total = 0;
  for (let index = 0; index < values.length; index++) total += values[index] as number;
  return total;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function logSigmoid(z: number): number {
  return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
}

function validate(options: FitRaschOptions): void {
  const { correct, persons, items, observed } = options;
  if (!Number.isInteger(persons) || persons < 1 || !Number.isInteger(items) || items < 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `persons and items must be positive integers (got ${persons}, ${items})` });
  }
  for (const [name, array] of [['correct', correct], ['observed', observed]] as const) {
    if (array !== undefined && array.length !== persons * items) {
      throw new AipoError({
        code: 'SHAPE_MISMATCH',
        message: `${name} has ${array.length} entries, expected persons·items = ${persons * items}`,
        details: { name, length: array.length, expected: persons * items },
      });
    }
  }
  for (let index = 0; index < correct.length; index++) {
    if (observed !== undefined && observed[index] === 0) continue;
    const value = correct[index];
    if (value !== 0 && value !== 1) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `correct[${Math.floor(index / items)},${index % items}] is ${value}; the Rasch fit needs 0/1 outcomes`,
        details: { index, value },
      });
    }
  }
}

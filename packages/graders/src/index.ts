export type { GradeInput, GradeResult, Grader, GraderRegistry } from './grader';
export { builtinGraders } from './builtin';

// --- math ---
export { extractBoxed } from './math/extract-boxed';
export { stripThinking } from './math/strip-thinking';
export {
  extractMathAnswer,
  type ExtractMathAnswerOptions,
  type ExtractedMathAnswer,
  type MathAnswerSource,
  type MathFallback,
} from './math/extract-math-answer';
export { normalizeLatex } from './math/normalize-latex';
export { isMathEquivalent } from './math/math-equivalent';
export { compareMathAnswers, type MathEquivalence, type MathEquivalenceOptions } from './math/compare-math-answers';
export { MathPool, getMathPool, closeMathPool, type MathPoolOptions, type MathPoolStats, type PoolVerdict } from './math/math-pool';
export { createMathGrader, mathGrader, type MathGraderOptions, type MathReference } from './math/math-grader';

// --- multiple choice ---
export {
  shuffleChoices,
  simpleEvalsPermutations,
  type PerItemShuffleOptions,
  type PermutationShuffleOptions,
  type ShuffleChoicesOptions,
  type ShuffledChoices,
  type SimpleEvalsPermutationsOptions,
} from './multiple-choice/shuffle-choices';
export { PythonRandom } from './multiple-choice/python-random';
export { formatMultipleChoicePrompt } from './multiple-choice/format-multiple-choice-prompt';
export { extractChoice, type ExtractChoiceOptions, type ExtractedChoice } from './multiple-choice/extract-choice';
export { multipleChoiceGrader } from './multiple-choice/multiple-choice-grader';

// --- code (light, shared by the sandboxes on /js and /docker) ---
export {
  codeGradeResult,
  compareStdioOutput,
  decodePrivateTestCases,
  extractLastFencedBlock,
  parseLcbReference,
  testFailure,
  type AssertReference,
  type CodeVerdict,
  type FailingTest,
  type LcbReference,
  type LcbTest,
} from './code/index';

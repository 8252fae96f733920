export { createJsGrader, type JsGrader, type JsGraderLimits, type JsGraderOptions } from './js-grader';
export {
  codeGradeResult,
  compareStdioOutput,
  decodePrivateTestCases,
  extractLastFencedBlock,
  type CodeVerdict,
  type FailingTest,
  type LcbReference,
  type LcbTest,
} from '../code/index';

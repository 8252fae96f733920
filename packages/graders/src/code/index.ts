export {
  codeGradeResult,
  testFailure,
  type TestFailureOptions,
  endedByItself,
  truncateForReport,
  type CodeGradeResultOptions,
  type CodeVerdict,
  type FailingTest,
} from './verdict';
export { extractLastFencedBlock, extractProgram, lastFenceLanguage, type CodeExtraction } from './extract-code';
export { compareStdioOutput, type OutputComparison } from './compare-stdio-output';
export { parsePythonDecimal, pythonDecimalEquals, type PythonDecimal } from './python-decimal';
export { pythonSplitWhitespace, pythonStrip } from './python-text';
export { decodeTaggedValue, describePythonValue, pythonEquals, type PythonValue } from './python-value';
export { parsePythonJson } from './parse-python-json';
export { decodePrivateTestCases, readStringPickle } from './decode-private-test-cases';
export {
  isAssertReference,
  parseAssertReference,
  parseLcbReference,
  parseLcbTests,
  type AssertReference,
  type LcbReference,
  type LcbTest,
} from './lcb-reference';

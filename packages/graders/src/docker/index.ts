export {
  createPythonGrader,
  DEFAULT_SANDBOX_IMAGE,
  type PythonGrader,
  type PythonGraderOptions,
  type RecycleCause,
  type RecyclePolicy,
  type SandboxReport,
} from './python-grader';
export { checkDockerSandbox, type CheckDockerSandboxOptions } from './check-docker-sandbox';
export { ContainerPool, type ContainerPoolOptions, type ContainerPoolStats } from './container-pool';
export { createDockerEngine, type DockerContainer, type DockerEngine, type DockerEngineOptions } from './docker-engine';
export { SANDBOX_LABEL, sweepOrphanContainers } from './sandbox-container';
export { DEFAULT_SANDBOX_LIMITS, resolveSandboxLimits, type SandboxLimits } from './sandbox-limits';
// the light, shared LiveCodeBench pieces, also on the main entry
export {
  codeGradeResult,
  compareStdioOutput,
  decodePrivateTestCases,
  extractLastFencedBlock,
  parseLcbReference,
  type AssertReference,
  type CodeVerdict,
  type FailingTest,
  type LcbReference,
  type LcbTest,
} from '../code/index';

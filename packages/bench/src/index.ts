// --- benchmarks ---
export type { Benchmark, BenchItem, BenchmarkRegistry, ChatMessage, LoadOptions, PromptTemplate } from './benchmark';
export { BUILTIN_BENCHMARKS, builtinBenchmarks } from './benchmarks/builtin';
export { aime2024, aime2025 } from './benchmarks/aime';
export { math500 } from './benchmarks/math500';
export { GPQA_ZIP_PASSWORD, gpqaDiamond } from './benchmarks/gpqa-diamond';
export { livecodebench, livecodebenchFiles, type LiveCodeBenchReference, type LiveCodeBenchTest } from './benchmarks/livecodebench';

// --- datasets ---
export { defaultCacheDir, downloadHubFile, type DownloadHubFileOptions, type HubFile } from './datasets/download-hub-file';
export { readRecords, type SourcedRecord } from './datasets/read-records';
export { validateRecords } from './datasets/validate-records';
export { parseCsv } from './datasets/parse-csv';
export { readZipEntry } from './datasets/read-zip-entry';

// --- prompts ---
export { fillTemplate, renderPrompt } from './prompts/render-template';
export { applyChatTemplate, type ApplyChatTemplateOptions } from './prompts/apply-chat-template';
export { MATH_BOXED_SUFFIX, mathTemplate } from './prompts/math-template';

// --- runner ---
export { createSampler, type SampleOutcome, type Sampler, type SamplerOptions, type SampleRequest, type SamplingSettings } from './run/create-sampler';
export { AdaptiveLimiter, type AdaptiveLimiterOptions } from './run/adaptive-limiter';
export { backoffDelay, classifyStatus, type FailureKind, parseDuration, retryAfterMs } from './run/retry-policy';
export { runBenchmark, type ProgressEvent, type RunBenchmarkOptions, type RunOutcome } from './run/run-benchmark';
export { regradeResults, readResultsHeader } from './run/regrade-results';
export { openResultsFile, parseResults, type ResultsFile } from './run/results-file';
export type { GradeRecord, ResultRecord, RunHeader, SampleRecord } from './run/result-records';
export { sampleKey, sampleSeed } from './run/sample-key';
export type { SampleVerdict } from './run/sample-verdict';

// --- metrics and reports ---
export { summarizeRun, type GroupSummary, type ProblemSummary, type RunSummary, type ScoreWithInterval } from './metrics/summarize-run';
export { percentiles, type Percentiles } from './metrics/percentiles';
export { type AnswerEquivalence, clusterAnswers, type ClusterAnswersOptions, mathAnswerKey } from './metrics/cluster-answers';
export { type AnswerVoting, mathAnswerVoting, voteByEquivalence } from './metrics/vote-by-equivalence';
export { markdownReport } from './report/markdown-report';
export { junitReport } from './report/junit-report';
export { htmlReport } from './report/html-report';
export { REPORT_FILES, type ReportFormat, writeReports } from './report/write-reports';
export { checkThresholds, type ThresholdFailure } from './report/check-thresholds';

import { readFile } from 'node:fs/promises';
import { AipoError } from '@aipo/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const templateSchema = z.object({ system: z.string().optional(), user: z.string().min(1) }).strict();

/**
 * Everything `aipo bench run` flags can set, as a YAML or JSON file (`--config`). Flags win over
 * the file. Unknown keys are errors, so a typo never silently falls back to a default.
 */
export const benchConfigSchema = z
  .object({
    /** benchmark ids to run */
    benchmarks: z.array(z.string().min(1)).min(1).optional(),
    /** model name sent to the endpoint */
    model: z.string().min(1).optional(),
    /** OpenAI-compatible base URL */
    baseUrl: z.string().url().optional(),
    /** name of the environment variable holding the API key (default OPENAI_API_KEY) */
    apiKeyEnv: z.string().min(1).optional(),
    samples: z.number().int().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    maxTokens: z.number().int().min(1).optional(),
    stop: z.array(z.string()).optional(),
    /** extra request body fields (vLLM top_k, min_p, ...) */
    extraBody: z.record(z.string(), z.unknown()).optional(),
    seed: z.number().int().optional(),
    timeoutMs: z.number().int().min(1).optional(),
    concurrency: z.number().int().min(1).optional(),
    maxAttempts: z.number().int().min(1).optional(),
    gradeConcurrency: z.number().int().min(1).optional(),
    /** a directory holding one folder per benchmark (e.g. ../shared/datasets) */
    dataDir: z.string().optional(),
    /** an explicit local file or folder per benchmark id */
    datasets: z.record(z.string(), z.string()).optional(),
    release: z.string().optional(),
    since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    /** only the first N problems of each benchmark (smoke runs) */
    limit: z.number().int().min(1).optional(),
    /** a named template of the benchmark (e.g. livecodebench "reasoning") */
    template: z.string().optional(),
    /** a custom prompt template with {placeholders}; overrides `template` */
    prompt: templateSchema.optional(),
    /** path to a Jinja chat template: switches to the completions endpoint */
    chatTemplate: z.string().optional(),
    /** output directory for results and reports */
    output: z.string().optional(),
    formats: z.array(z.enum(['json', 'markdown', 'junit', 'html'])).optional(),
    /** one minimum pass@1 for all, or one per benchmark id */
    minScore: z.union([z.number().min(0).max(1), z.record(z.string(), z.number().min(0).max(1))]).optional(),
    /** Docker sandbox image for code benchmarks */
    sandboxImage: z.string().optional(),
    /** continue from existing results files */
    resume: z.boolean().optional(),
    /** replace existing results files */
    overwrite: z.boolean().optional(),
    /** with resume, ask again for samples that ended as API errors */
    retryErrors: z.boolean().optional(),
    /** progress bars on a terminal (default true) */
    progress: z.boolean().optional(),
  })
  .strict();

export type BenchConfig = z.infer<typeof benchConfigSchema>;

/** Read and validate a config file; errors name the file and the offending key. */
export async function loadConfig(path: string): Promise<BenchConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read config file ${path}`, cause: error, details: { path } });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${error instanceof Error ? error.message : String(error)})`, cause: error });
  }
  const parsed = benchConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
    throw new AipoError({ code: 'INVALID_CONFIG', message: `${path}${where}: ${issue?.message ?? 'invalid config'}`, details: { path, issues: parsed.error.issues } });
  }
  return parsed.data;
}

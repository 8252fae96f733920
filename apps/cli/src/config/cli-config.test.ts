import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMinScores } from '../commands/bench-options';
import { loadConfig } from './cli-config';

describe('config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aipo-config-'));

  it('reads YAML and JSON with the same schema', async () => {
    writeFileSync(join(dir, 'a.yaml'), 'benchmarks: [math500, aime2024]\nmodel: qwen\nbaseUrl: http://127.0.0.1:8000/v1\nsamples: 4\nminScore: {math500: 0.42}\n');
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ benchmarks: ['math500'], temperature: 0.6, prompt: { user: '{problem}' } }));
    expect(await loadConfig(join(dir, 'a.yaml'))).toEqual({ benchmarks: ['math500', 'aime2024'], model: 'qwen', baseUrl: 'http://127.0.0.1:8000/v1', samples: 4, minScore: { math500: 0.42 } });
    expect(await loadConfig(join(dir, 'a.json'))).toMatchObject({ temperature: 0.6, prompt: { user: '{problem}' } });
  });

  it('rejects unknown keys, wrong types and broken syntax, naming file and key', async () => {
    writeFileSync(join(dir, 'typo.yaml'), 'sampels: 4\n');
    await expect(loadConfig(join(dir, 'typo.yaml'))).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringContaining('typo.yaml') });
    writeFileSync(join(dir, 'type.yaml'), 'samples: -1\n');
    await expect(loadConfig(join(dir, 'type.yaml'))).rejects.toThrow(/type\.yaml at "samples"/);
    writeFileSync(join(dir, 'broken.json'), '{"model": ');
    await expect(loadConfig(join(dir, 'broken.json'))).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(loadConfig(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'IO_ERROR' });
  });

  it('parses --min-score for all benchmarks or per benchmark, over the config', () => {
    expect(parseMinScores(['0.3', 'math500=0.42'], { aime2024: 0.1 })).toEqual({ '*': 0.3, math500: 0.42, aime2024: 0.1 });
    expect(parseMinScores([], 0.5)).toEqual({ '*': 0.5 });
    expect(() => parseMinScores(['math500=high'], undefined)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => parseMinScores(['1.5'], undefined)).toThrow(/\[0, 1\]/);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDatasets } from '../test/shared-datasets';
import { AIME2024_FILES, AIME2025_FILES } from './aime';
import { GPQA_DIAMOND_HUB_FILE, GPQA_DIAMOND_ZIP_ENTRY } from './gpqa-diamond';
import { LIVECODEBENCH_REPO, livecodebenchFiles } from './livecodebench';
import { MATH500_FILES } from './math500';

// The hub cannot be reached from here, so every dataset id, file and release mapping the loaders
// use is checked against what the reference notes state (eval.md and each SOURCE.md). What the
// notes do not state is listed as unverified in the README instead of being asserted here.
const shared = sharedDatasets();
const read = (path: string) => readFileSync(join(shared.dir, path), 'utf8');

describe.skipIf(!shared.available)('dataset ids against the reference notes', () => {
  const evalNotes = shared.available ? readFileSync(join(shared.dir, '../reference/eval.md'), 'utf8') : '';

  it('MATH-500: the hub repo is the one eval.md and SOURCE.md name, and the local name is the shared file', () => {
    const [file] = MATH500_FILES.hub;
    expect(evalNotes).toContain(`\`${file?.repo}\``);
    expect(read('math500/SOURCE.md')).toContain(`${file?.repo} (used by lm-eval`);
    expect(MATH500_FILES.localNames).toContain('test.jsonl');
    expect(read('math500/SOURCE.md')).toContain('`test.jsonl` (500 lines');
  });

  it('LiveCodeBench: the repo and every release tag match eval.md §1.3 (cumulative files), and SOURCE.md names the same repo', () => {
    expect(evalNotes).toContain(`\`${LIVECODEBENCH_REPO}\``);
    expect(read('livecodebench/SOURCE.md')).toContain(`\`${LIVECODEBENCH_REPO}\``);
    const rows = [...evalNotes.matchAll(/^\| (release_v\d) \| [^|]+\| (\d+) \| (?:\+ )?(test\d*\.jsonl) \|$/gm)];
    expect(rows.map((row) => row[1])).toEqual(['release_v1', 'release_v2', 'release_v3', 'release_v4', 'release_v5', 'release_v6']);
    const cumulative: string[] = [];
    for (const [, tag, , file] of rows) {
      cumulative.push(file as string);
      expect(livecodebenchFiles(tag), tag).toEqual(cumulative);
    }
    // "release_latest is the default and equals v6"
    expect(evalNotes).toContain('`release_latest` is the default and equals v6');
    expect(livecodebenchFiles()).toEqual(cumulative);
    expect(livecodebenchFiles('v5')).toEqual(['test5.jsonl']);
  });

  it('GPQA-Diamond: the zip member is the one SOURCE.md lists (198 rows) and the hub file is the same CSV', () => {
    const source = read('gpqa/SOURCE.md');
    expect(source).toContain(`\`${GPQA_DIAMOND_ZIP_ENTRY}\`: 198 rows`);
    expect(GPQA_DIAMOND_HUB_FILE.path).toBe(basename(GPQA_DIAMOND_ZIP_ENTRY));
    // the hub account is the paper author's (github.com/idavidrein/gpqa in SOURCE.md); ids are case-insensitive there
    expect(source.toLowerCase()).toContain(GPQA_DIAMOND_HUB_FILE.repo.toLowerCase());
  });

  it('AIME: every local name the loaders accept is a file SOURCE.md describes, present in the shared folder', () => {
    for (const [folder, files] of [['aime2024', AIME2024_FILES], ['aime2025', AIME2025_FILES]] as const) {
      const source = read(`${folder}/SOURCE.md`);
      const described = files.localNames.filter((name) => source.includes(`\`${name}\``));
      expect(described.length, folder).toBeGreaterThan(0);
      for (const name of described) expect(existsSync(join(shared.dir, folder, name)), `${folder}/${name}`).toBe(true);
    }
  });
});

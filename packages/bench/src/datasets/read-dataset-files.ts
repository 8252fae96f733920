import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import type { LoadOptions } from '../benchmark';
import { downloadHubFile, type HubFile, hubOptionsFrom } from './download-hub-file';
import { readRecords, type SourcedRecord } from './read-records';

/** How a benchmark finds its files: on the hub, or by name inside a local directory. */
export interface DatasetFiles {
  /** hub files read when no local path is given */
  hub: HubFile[];
  /** file names accepted inside a local directory, first match wins (e.g. ["test.jsonl", "aime24.jsonl"]) */
  localNames: string[];
}

/**
 * Load raw records from a local file, a local directory (the first of `localNames` present), or
 * the hub cache. Local paths make the loaders usable offline and in tests.
 */
export async function readDatasetFiles({ files, options }: { files: DatasetFiles; options: LoadOptions }): Promise<SourcedRecord[]> {
  if (options.path !== undefined) {
    const path = await resolveLocal(options.path, files.localNames);
    return readRecords({ file: path, bytes: await readFile(path) });
  }
  const records: SourcedRecord[] = [];
  for (const hubFile of files.hub) {
    const { path, bytes } = await downloadHubFile(hubFile, hubOptionsFrom(options));
    records.push(...(await readRecords({ file: path, bytes })));
  }
  return records;
}

/** Resolve a local file or directory to one readable file. */
export async function resolveLocal(path: string, names: readonly string[]): Promise<string> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `dataset path ${path} does not exist`, cause: error, details: { path } });
  }
  if (!info.isDirectory()) return path;
  const present = new Set(await readdir(path));
  const name = names.find((candidate) => present.has(candidate));
  if (name === undefined) {
    throw new AipoError({
      code: 'IO_ERROR',
      message: `dataset directory ${path} holds none of ${names.join(', ')}`,
      details: { path, expected: names },
    });
  }
  return join(path, name);
}

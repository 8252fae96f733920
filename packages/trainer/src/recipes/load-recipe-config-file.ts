import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AipoError } from '@aipo/core';
import { parseRecipeConfig, type RecipeConfig } from './recipe-config';

/** The built-in recipe files shipped in `packages/trainer/recipes/`. */
export const BUILTIN_RECIPES = ['grpo', 'dr-grpo', 'dapo', 'luffy', 'aipo', 'ilr'] as const;

/** Path of a built-in recipe file (`grpo`, `dr-grpo`, `dapo`, `luffy`, `aipo`, `ilr`). */
export function builtinRecipeConfigPath(name: (typeof BUILTIN_RECIPES)[number]): string {
  if (!BUILTIN_RECIPES.includes(name)) {
    throw new AipoError({ code: 'UNKNOWN_ENTRY', message: `unknown recipe "${name}" (available: ${BUILTIN_RECIPES.join(', ')})` });
  }
  // from source (src/recipes/) the folder is two levels up, from the bundle (dist/) one
  const candidates = [`../../recipes/${name}.json`, `../recipes/${name}.json`].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return candidates.find((path) => existsSync(path)) ?? (candidates[0] as string);
}

/** Read and validate a recipe JSON file; `overrides` are merged on top (shallow per section). */
export async function loadRecipeConfigFile(path: string, overrides: Record<string, unknown> = {}): Promise<RecipeConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read recipe config ${path}`, cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `recipe config ${path} is not valid JSON`, cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `recipe config ${path} must be a JSON object` });
  }
  const merged: Record<string, unknown> = { ...(parsed as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const base = merged[key];
    merged[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof base === 'object' && base !== null && !Array.isArray(base)
        ? { ...(base as Record<string, unknown>), ...(value as Record<string, unknown>) }
        : value;
  }
  return parseRecipeConfig(merged);
}

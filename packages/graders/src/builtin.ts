import { createRegistry } from '@aipo/core';
import type { GraderRegistry } from './grader';
import { mathGrader } from './math/math-grader';
import { multipleChoiceGrader } from './multiple-choice/multiple-choice-grader';

/**
 * A fresh registry holding the light built-in graders. The code graders live on subpaths
 * (`@aipo/graders/js`, `@aipo/graders/docker`) and are registered by the caller, so importing
 * `@aipo/graders` never loads isolated-vm or dockerode.
 */
export function builtinGraders(): GraderRegistry {
  return createRegistry('grader', [
    ['math', mathGrader],
    ['multiple-choice', multipleChoiceGrader],
  ]) as GraderRegistry;
}

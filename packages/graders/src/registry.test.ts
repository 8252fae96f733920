import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// README-EXAMPLE-START
import { builtinGraders, type Grader } from '@aipo/graders';

// A grader: an id, a description, and one async function returning a GradeResult.
const containsGrader: Grader<string> = {
  id: 'contains',
  description: 'passes when the output contains the reference text (case-insensitive)',
  async grade({ output, reference }) {
    const pass = output.toLowerCase().includes(reference.toLowerCase());
    return { pass, score: pass ? 1 : 0, reason: pass ? 'reference found' : 'reference missing', details: {} };
  },
};

const graders = builtinGraders().register('contains', containsGrader);
const result = await graders.get('contains').grade({ output: 'The capital is Paris.', reference: 'paris' });
// result.pass === true
// README-EXAMPLE-END

describe('builtinGraders', () => {
  it('holds math and multiple-choice, and each call returns a fresh registry', () => {
    expect(builtinGraders().list()).toEqual(['math', 'multiple-choice']);
    expect(builtinGraders().get('math').id).toBe('math');
    expect(builtinGraders().get('multiple-choice').id).toBe('multiple-choice');
    expect(builtinGraders().has('contains')).toBe(false);
  });

  it('names the available graders on an unknown id and refuses duplicates', () => {
    expect(() => builtinGraders().get('maths')).toThrowError(expect.objectContaining({ code: 'UNKNOWN_ENTRY' }));
    expect(() => builtinGraders().register('math', containsGrader)).toThrowError(expect.objectContaining({ code: 'DUPLICATE_ENTRY' }));
  });
});

describe('README "Write your own grader"', () => {
  it('the example in the README is this file’s code, and it runs', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const self = readFileSync(new URL(import.meta.url), 'utf8');
    const example = self.slice(self.indexOf('// README-EXAMPLE-START\n') + 24, self.indexOf('// README-EXAMPLE-END')).trim();
    const section = readme.slice(readme.indexOf('## Write your own grader'));
    expect(section).toContain(`\`\`\`ts\n${example}\n\`\`\``);
    expect(result).toMatchObject({ pass: true, score: 1 });
    expect(graders.list()).toEqual(['math', 'multiple-choice', 'contains']);
    expect((await graders.get('contains').grade({ output: 'Lyon', reference: 'paris' })).pass).toBe(false);
  });
});

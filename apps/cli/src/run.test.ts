import { describe, expect, it, vi } from 'vitest';
import { run } from './run';

describe('aipo cli', () => {
  it('prints help and exits 0', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await run(['--help'])).toBe(0);
    const help = write.mock.calls.join('');
    write.mockRestore();
    expect(help).toContain('Usage: aipo');
    for (const command of ['demo', 'train', 'serve', 'bench', 'grade', 'datasets', 'sandbox']) expect(help).toMatch(new RegExp(`\\n  ${command}\\b`));
  });

  it('rejects a bad --seeds for the demo before loading anything', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['demo', '--seeds', '0'])).toBe(1);
    const stderr = write.mock.calls.join('');
    write.mockRestore();
    expect(stderr).toContain('expected a positive integer');
  });

  it('exits 1 on an unknown command', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['no-such-command'])).toBe(1);
    write.mockRestore();
  });
});

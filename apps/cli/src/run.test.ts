import { describe, expect, it, vi } from 'vitest';
import { run } from './run';

describe('aipo cli', () => {
  it('prints help and exits 0', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await run(['--help'])).toBe(0);
    expect(write.mock.calls.join('')).toContain('Usage: aipo');
    write.mockRestore();
  });

  it('exits 1 on an unknown command', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['no-such-command'])).toBe(1);
    write.mockRestore();
  });
});

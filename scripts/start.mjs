// `npm start`: the embedded demo (GRPO vs LUFFY vs AIPO on a built-in task).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`aipo needs Node.js >= 22 (this is ${process.version}).`);
  process.exit(1);
}
const cli = new URL('../apps/cli/dist/main.js', import.meta.url);
if (!existsSync(cli)) {
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const result = spawnSync(process.execPath, ['--no-node-snapshot', cli.pathname, 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

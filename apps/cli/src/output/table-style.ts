/** cli-table3 colours its header and borders; only on a terminal, never into pipes or CI logs. */
export function plainStyle(): { head: string[]; border: string[] } | undefined {
  return process.stdout.isTTY && !process.env.NO_COLOR ? undefined : { head: [], border: [] };
}

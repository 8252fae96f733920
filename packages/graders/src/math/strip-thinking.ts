/**
 * Drops the reasoning block of a thinking model so only the final answer is graded
 * (eval.md §2.6: "strip `<think>…</think>` first, or everything before the last `</think>`").
 * An unclosed `<think>` means the model never finished thinking: everything from it on is dropped,
 * so a box inside truncated reasoning never counts as an answer.
 */
export function stripThinking(text: string): string {
  const close = text.lastIndexOf('</think>');
  if (close >= 0) return text.slice(close + '</think>'.length);
  const open = text.indexOf('<think>');
  return open >= 0 ? text.slice(0, open) : text;
}

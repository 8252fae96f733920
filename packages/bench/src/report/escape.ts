/** Escape text for HTML and XML bodies and attributes; strips characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these code points
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(digits)}`;
}

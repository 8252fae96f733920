/** One line of a chart. */
export interface ChartSeries {
  /** legend label */
  label: string;
  /** CSS colour */
  color: string;
  /** points in data units */
  points: Array<[number, number]>;
  /** dashed stroke (e.g. a reference line) */
  dashed?: boolean;
}

export interface LineChartOptions {
  /** chart title */
  title: string;
  /** axis labels */
  xLabel: string;
  yLabel: string;
  /** the lines */
  series: ChartSeries[];
  /** log₂ x axis (pass@k curves) */
  logX?: boolean;
  /** fixed y range (default: from the data) */
  yRange?: [number, number];
  /** pixel size */
  width?: number;
  height?: number;
}

/** Escape text for SVG/HTML content. */
export const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A self-contained SVG line chart (no scripts, no external assets), so the report opens offline
 * from a file. Small on purpose: axes, ticks, lines and a legend.
 */
export function renderLineChart(options: LineChartOptions): string {
  const { title, xLabel, yLabel, series, logX = false, width = 420, height = 260 } = options;
  const margin = { left: 48, right: 12, top: 28, bottom: 40 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom - 16 * Math.ceil(series.length / 3);
  const tx = (x: number) => (logX ? Math.log2(Math.max(x, 1e-9)) : x);
  const all = series.flatMap((line) => line.points).filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y));
  const xs = all.map(([x]) => tx(x));
  const [xMin, xMax] = xs.length > 0 ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const [yMin, yMax] = options.yRange ?? (all.length > 0 ? [Math.min(0, ...all.map(([, y]) => y)), Math.max(...all.map(([, y]) => y), 1e-9)] : [0, 1]);
  const px = (x: number) => margin.left + ((tx(x) - xMin) / (xMax - xMin || 1)) * plotWidth;
  const py = (y: number) => margin.top + plotHeight - ((y - yMin) / (yMax - yMin || 1)) * plotHeight;
  const xTicks = logX
    ? Array.from({ length: Math.floor(xMax) - Math.ceil(xMin) + 1 }, (_, index) => 2 ** (Math.ceil(xMin) + index))
    : Array.from({ length: 5 }, (_, index) => xMin + ((xMax - xMin) * index) / 4);
  const yTicks = Array.from({ length: 5 }, (_, index) => yMin + ((yMax - yMin) * index) / 4);
  const format = (value: number) => (Math.abs(value) >= 1000 ? `${(value / 1000).toFixed(0)}k` : Number(value.toFixed(2)).toString());
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<text x="${width / 2}" y="14" text-anchor="middle" font-size="12" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
  ];
  for (const tick of xTicks) {
    const x = logX ? px(tick) : margin.left + ((tick - xMin) / (xMax - xMin || 1)) * plotWidth;
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" stroke="#999"/>`);
    parts.push(`<text x="${x}" y="${margin.top + plotHeight + 14}" text-anchor="middle">${format(tick)}</text>`);
  }
  for (const tick of yTicks) {
    const y = py(tick);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 4}" y="${y + 3}" text-anchor="end">${format(tick)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${margin.top + plotHeight + 28}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(12 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  for (const line of series) {
    const points = line.points.filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y));
    if (points.length === 0) continue;
    const path = points.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${line.color}" stroke-width="1.8"${line.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
  }
  series.forEach((line, index) => {
    const x = margin.left + (index % 3) * (plotWidth / 3);
    const y = margin.top + plotHeight + 38 + Math.floor(index / 3) * 16;
    parts.push(`<line x1="${x}" x2="${x + 14}" y1="${y - 3}" y2="${y - 3}" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    parts.push(`<text x="${x + 18}" y="${y}">${escapeXml(line.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

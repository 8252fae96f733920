import { AipoError } from '@aipo/core';
import type { TopLevelSpec } from 'vega-lite';

/** Render a Vega-Lite spec to an SVG string headlessly (no canvas, no browser). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega is large, and most CLI commands never draw a chart.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  try {
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    return svg;
  } catch (error) {
    throw new AipoError({ code: 'INTERNAL', message: `chart rendering failed: ${String(error)}`, cause: error });
  }
}

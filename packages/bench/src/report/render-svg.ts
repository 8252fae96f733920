import { AipoError } from '@aipo/core';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Render a Vega-Lite spec to an SVG string headlessly (no canvas, no browser). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  try {
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    return svg;
  } catch (error) {
    throw new AipoError({ code: 'INTERNAL', message: `chart rendering failed: ${String(error)}`, cause: error });
  }
}

/**
 * The HTTP chart: median req/s per contender and mix, with the min–max of
 * the repeated runs as error bars. Vega-Lite compiled to Vega, rendered to
 * SVG headlessly (no browser, no canvas).
 */
import { writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { Measurement } from './lib/results.ts';
import { spreadOf } from './lib/stats.ts';

const MIX_NAMES: Record<string, string> = { read: 'GET /profile (read)', cart: 'POST /cart/items (cart write)', login: 'POST /login (new session)' };

export async function writeHttpChart(measurements: readonly Measurement[], path: string, subtitle: string): Promise<boolean> {
  const rows = measurements
    .filter((m) => m.id.startsWith('http.') && m.unit === 'req/s')
    .map((m) => {
      const spread = spreadOf(m.values);
      return {
        contender: m.label,
        mix: MIX_NAMES[m.id.split('.')[1]!] ?? m.id.split('.')[1]!,
        median: Math.round(spread.median),
        min: Math.round(spread.min),
        max: Math.round(spread.max),
        ours: m.ours ? 'ours' : 'peer',
      };
    });
  if (rows.length === 0) return false;
  const order = [...new Set(rows.map((r) => r.contender))];
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'HTTP throughput per contender (wrk -t1 -c64; median of interleaved runs, bars = min–max)', subtitle },
    data: { values: rows },
    width: 560,
    height: { step: 16 },
    encoding: {
      y: { field: 'contender', type: 'nominal', sort: order, title: null, axis: { labelLimit: 0 } },
      yOffset: { field: 'mix', type: 'nominal' },
      color: { field: 'mix', type: 'nominal', title: 'mix', legend: { orient: 'bottom' } },
    },
    layer: [
      { mark: { type: 'bar' }, encoding: { x: { field: 'median', type: 'quantitative', title: 'requests per second (2xx)' } } },
      { mark: { type: 'rule' }, encoding: { x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' }, color: { value: 'black' } } },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 9 },
        encoding: { x: { field: 'max', type: 'quantitative' }, text: { field: 'median', type: 'quantitative', format: ',' } },
      },
    ],
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', background: 'white' },
  };
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  writeFileSync(path, svg);
  return true;
}

import { apiOverheadTable, measureApiOverhead } from './.scratch-ao.ts';
import { renderTable } from './support/report.ts';

const r = await measureApiOverhead();
console.log(renderTable(apiOverheadTable(r)));
console.log(
  JSON.stringify(
    r.cases.map((c) => [
      c.name,
      c.anchor.iterations,
      c.loadwatch.iterations,
      c.anchor.roundsNsPerOp.map(Math.round),
      c.loadwatch.roundsNsPerOp.map(Math.round),
    ]),
  ),
);

// The plans PostgreSQL picks for the statements code sends: a Db that EXPLAINs each query instead of running it.

import type pg from 'pg';
import type { Db } from '../../lib/db/pool.ts';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Alias?: string;
  'Plan Rows'?: number;
  'Parent Relationship'?: string;
  'Subplan Name'?: string;
  Filter?: string;
  /** With `analyze`: rows each loop returned, and how many loops ran. */
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

export interface ExplainedStatement {
  sql: string;
  plan: PlanNode;
}

/**
 * A Db whose queries are planned (EXPLAIN with the same parameters, so the planner sees the real values)
 * and answered with no rows: a store method runs its statements' plans without changing any data. With
 * `analyze`, each is also run (for reads only) and its plan carries the rows each node actually returned.
 */
export function explainingDb(
  db: Db,
  options: { analyze?: boolean } = {},
): Db & { explained: ExplainedStatement[] } {
  const explained: ExplainedStatement[] = [];
  return {
    explained,
    async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
      const result = await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `EXPLAIN (${options.analyze ? 'ANALYZE, ' : ''}FORMAT JSON) ${sql}`,
        params,
      );
      const plan = result.rows[0]?.['QUERY PLAN'][0]?.Plan;
      if (!plan) throw new Error(`no plan for ${sql}`);
      explained.push({ sql, plan });
      return { rows: [] as Row[], rowCount: 0, command: 'EXPLAIN', oid: 0, fields: [] };
    },
    transaction: () => Promise.reject(new Error('explainingDb plans single statements only')),
    stats: () => db.stats(),
    close: () => Promise.resolve(),
  };
}

export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** Rows the plan's scans of `table` returned over all their loops (a plan from an `analyze` explainingDb). */
export function rowsRead(plan: PlanNode, table: string): number {
  return planNodes(plan)
    .filter((node) => node['Relation Name'] === table)
    .reduce((total, node) => total + (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1), 0);
}

/** The plan as EXPLAIN's text output shows it, one node a line, indented by depth. */
export function formatPlan(plan: PlanNode, depth = 0): string {
  const index = plan['Index Name'] ? ` using ${plan['Index Name']}` : '';
  const relation = plan['Relation Name'] ? ` on ${plan['Relation Name']}` : '';
  const subplan = plan['Subplan Name'] ? ` [${plan['Subplan Name']}]` : '';
  const condition = plan['Index Cond']
    ? `  (${plan['Index Cond']})`
    : plan.Filter
      ? `  filter ${plan.Filter}`
      : '';
  const actual =
    plan['Actual Rows'] === undefined ? '' : ` actual=${plan['Actual Rows']}×${plan['Actual Loops']}`;
  const line = `${'  '.repeat(depth)}-> ${plan['Node Type']}${index}${relation}${subplan} rows=${plan['Plan Rows'] ?? '?'}${actual}${condition}`;
  return [line, ...(plan.Plans ?? []).map((child) => formatPlan(child, depth + 1))].join('\n');
}

/** Problems with a statement's plan: a sequential scan of a large table, or an expected index left unused. */
export function planProblems(
  statement: ExplainedStatement,
  expectation: { largeTables: readonly string[]; indexes: readonly string[] },
): string[] {
  const nodes = planNodes(statement.plan);
  const problems: string[] = [];
  for (const node of nodes) {
    if (node['Node Type'] === 'Seq Scan' && expectation.largeTables.includes(node['Relation Name'] ?? ''))
      problems.push(`sequential scan of ${node['Relation Name']}`);
  }
  const used = new Set(nodes.map((node) => node['Index Name']).filter(Boolean));
  for (const index of expectation.indexes) if (!used.has(index)) problems.push(`${index} not used`);
  return problems;
}

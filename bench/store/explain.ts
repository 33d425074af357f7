/**
 * How the database server runs the store's queries: `explain` of the list filters and of the two
 * lookups every claim/complete makes (findOne by _id, update filtered by _id and version). The
 * filters are the ones task-queries.ts and fenced-update.ts build. FerretDB answers with its
 * pushdown flags and SQLite's EXPLAIN QUERY PLAN; MongoDB with a winning plan.
 */
import type { Document, Filter, MongoClient, Sort } from 'mongodb';

type TaskRow = { _id: string } & Document;

export interface ExplainSummary {
  filter: Document;
  sort?: Sort;
  /** FerretDB: whether the filter / sort / limit reached SQLite. */
  filterPushdown?: boolean;
  sortPushdown?: boolean;
  limitPushdown?: boolean;
  /** FerretDB with SQLite: EXPLAIN QUERY PLAN rows. */
  sqlitePlan?: string[];
  /** FerretDB with PostgreSQL: the plan's nodes, outermost first, with index names and filters. */
  postgresPlan?: string[];
  /** MongoDB: the winning plan's stages, outermost first (IXSCAN shows the index name). */
  winningPlan?: string;
}

export interface ExplainInput {
  mongo: MongoClient;
  db: string;
  type: string;
  /** Last item of a first page: where the second page starts. */
  cursor: { createdAt: Date; id: string };
  someId: string;
}

export async function explainQueries(x: ExplainInput): Promise<{
  indexes: string[];
  queries: Record<string, ExplainSummary>;
}> {
  const tasks = x.mongo.db(x.db).collection<TaskRow>('tasks');
  const newestFirst: Sort = { createdAt: -1, _id: -1 };
  const afterCursor: Filter<TaskRow> = {
    $or: [
      { createdAt: { $lt: x.cursor.createdAt } },
      { createdAt: x.cursor.createdAt, _id: { $lt: x.cursor.id } },
    ],
  };
  const cases: Record<string, { filter: Filter<TaskRow>; sort?: Sort; limit?: number }> = {
    'tasks.list status=queued (page 1)': { filter: { status: 'queued' }, sort: newestFirst, limit: 51 },
    'tasks.list status=queued & type (page 1)': {
      filter: { $and: [{ status: 'queued' }, { type: x.type }] },
      sort: newestFirst,
      limit: 51,
    },
    'tasks.list status=queued (page 2, cursor)': {
      filter: { $and: [{ status: 'queued' }, afterCursor] },
      sort: newestFirst,
      limit: 51,
    },
    'claim/complete: findOne {_id}': { filter: { _id: x.someId }, limit: 1 },
    'claim/complete: updateOne {_id, version}': { filter: { _id: x.someId, version: 1 }, limit: 1 },
  };
  const queries: Record<string, ExplainSummary> = {};
  for (const [name, c] of Object.entries(cases)) {
    let cursor = tasks.find(c.filter);
    if (c.sort) cursor = cursor.sort(c.sort);
    if (c.limit) cursor = cursor.limit(c.limit);
    const e = await cursor.explain('queryPlanner');
    queries[name] = { filter: c.filter, ...(c.sort ? { sort: c.sort } : {}), ...summarize(e) };
  }
  const described = (await tasks.listIndexes().toArray()) as { name?: string; key?: unknown }[];
  const indexes = described.map((i) => `${i.name ?? '?'} ${JSON.stringify(i.key)}`);
  return { indexes, queries };
}

function summarize(e: Document): Omit<ExplainSummary, 'filter' | 'sort'> {
  if (typeof e.filterPushdown === 'boolean') {
    const plan = (e.queryPlanner as { Plan?: unknown } | undefined)?.Plan;
    const flags = {
      filterPushdown: e.filterPushdown,
      sortPushdown: e.sortPushdown === true,
      limitPushdown: e.limitPushdown === true,
    };
    if (Array.isArray(plan)) {
      return {
        ...flags,
        sqlitePlan: plan.map((p) => String(p).replace(/^id=\d+ parent=\d+ notused=\d+ /, '')),
      };
    }
    return { ...flags, postgresPlan: postgresNodes(plan) };
  }
  const stages: string[] = [];
  let stage = (e.queryPlanner as { winningPlan?: Document } | undefined)?.winningPlan;
  while (stage) {
    const s = stage as { stage?: string; indexName?: string; inputStage?: Document; queryPlan?: Document };
    if (s.queryPlan) {
      stage = s.queryPlan; // slot-based engine wraps the classic plan
      continue;
    }
    stages.push(s.indexName ? `${s.stage}(${s.indexName})` : String(s.stage));
    stage = s.inputStage;
  }
  return { winningPlan: stages.join(' <- ') };
}

/** PostgreSQL EXPLAIN (FORMAT JSON) nodes, depth first: "Seq Scan on t filter: …", "Index Scan using i on t". */
function postgresNodes(node: unknown): string[] {
  if (typeof node !== 'object' || node === null) return [];
  const n = node as Record<string, unknown>;
  const str = (k: string) => (typeof n[k] === 'string' ? n[k] : undefined);
  const parts = [str('Node Type') ?? '?'];
  if (str('Index Name')) parts.push(`using ${str('Index Name')}`);
  if (str('Relation Name')) parts.push(`on ${str('Relation Name')}`);
  for (const k of ['Index Cond', 'Filter', 'Sort Key']) {
    const v = n[k];
    if (v !== undefined)
      parts.push(
        `${k.toLowerCase()}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : JSON.stringify(v)}`,
      );
  }
  const children = Array.isArray(n.Plans) ? n.Plans.flatMap(postgresNodes) : [];
  return [parts.join(' '), ...children];
}

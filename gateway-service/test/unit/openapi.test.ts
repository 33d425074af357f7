import SwaggerParser from '@apidevtools/swagger-parser';
import { createAjv } from '@tasks/contracts';
import { expect } from 'chai';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openApiDocument } from '../../src/openapi/document.js';
import {
  batchBody,
  createTaskBody,
  listQuery,
  patchBody,
  typeLimitsBody,
  typePatchBody,
} from '../../src/schemas.js';

interface Operation {
  operationId?: string;
  parameters?: { $ref?: string; name?: string; in?: string; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { headers?: Record<string, unknown> }>;
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Every "METHOD /path" the app serves, with its route name; the deps are never called when only listing. */
function servedRoutes(): Map<string, string | undefined> {
  const { routers } = createApp({
    config: loadConfig({}),
    store: {} as never,
    broker: {} as never,
    publisher: {} as never,
    hub: {} as never,
    metrics: {} as never,
    log: {} as never,
  });
  const routes = new Map<string, string | undefined>();
  for (const router of routers) {
    for (const layer of router.stack) {
      const openApiPath = String(layer.path).replace(/:(\w+)/g, '{$1}');
      for (const method of layer.methods) {
        if (method !== 'HEAD') routes.set(`${method} ${openApiPath}`, layer.name);
      }
    }
  }
  return routes;
}

function documented(doc: Doc): Map<string, Operation> {
  const ops = new Map<string, Operation>();
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (HTTP_METHODS.has(method)) ops.set(`${method.toUpperCase()} ${p}`, op);
    }
  }
  return ops;
}

function resolve(doc: Doc, schema: { $ref?: string } | undefined): unknown {
  const prefix = '#/components/schemas/';
  if (schema?.$ref?.startsWith(prefix)) return doc.components.schemas[schema.$ref.slice(prefix.length)];
  return schema;
}

describe('OpenAPI document', () => {
  const doc = openApiDocument() as unknown as Doc;

  it('when validated, then it is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).to.equal('3.1.0');
    // validate() dereferences in place; the document shares objects with the validation schemas.
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  // swagger-parser checks 3.1 documents against the OpenAPI schema and resolves $refs, but skips
  // the semantic checks it makes for 2.0 and does not look inside JSON Schemas.
  it('when checked beyond the OpenAPI schema, then path parameters and operationIds are sound', async () => {
    const api = (await SwaggerParser.dereference(structuredClone(doc) as never)) as unknown as Doc;
    const ids = [...documented(api).values()].map((op) => op.operationId);
    expect(new Set(ids).size, 'unique operationIds').to.equal(ids.length);
    for (const [p, item] of Object.entries(api.paths)) {
      const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const declared = (op.parameters ?? []).filter((q) => q.in === 'path').map((q) => q.name);
        expect(declared, `path parameters of ${method} ${p}`).to.have.members(templated);
      }
    }
  });

  it('when compiled as validation.ts compiles them (ajv strict), then every schema in the document is accepted', () => {
    const ajv = createAjv({ strict: true });
    const refused = Object.entries(doc.components.schemas).flatMap(([name, schema]) => {
      try {
        ajv.compile(schema as object);
        return [];
      } catch (err) {
        return [`${name}: ${(err as Error).message}`];
      }
    });
    expect(refused).to.deep.equal([]);
  });

  it('when the app is built, then every route it serves is documented under its route name', () => {
    const ops = documented(doc);
    const routes = servedRoutes();
    expect(routes.size).to.be.greaterThan(10);
    const missing = [...routes.keys()].filter((r) => !ops.has(r));
    expect(missing, 'routes missing from the document').to.deep.equal([]);
    for (const [route, name] of routes) {
      expect(ops.get(route)?.operationId, `operationId of ${route}`).to.equal(name);
    }
  });

  it('when the document lists a path, then a route serves it (no stale entries)', () => {
    const routes = servedRoutes();
    const stale = [...documented(doc).keys()].filter((op) => !routes.has(op));
    expect(stale, 'documented operations no route serves').to.deep.equal([]);
  });

  it('when a route validates with a schema, then the document shows that very schema object', () => {
    const body = (p: string, m: string) =>
      resolve(doc, doc.paths[p]?.[m]?.requestBody?.content['application/json']?.schema);
    expect(body('/v1/tasks', 'post')).to.equal(createTaskBody);
    expect(body('/v1/tasks/batch', 'post')).to.equal(batchBody);
    expect(body('/v1/tasks/{id}', 'patch')).to.equal(patchBody);
    expect(body('/v1/task-types/{type}', 'patch')).to.equal(typePatchBody);
    expect(body('/v1/task-types/{type}/limits', 'put')).to.equal(typeLimitsBody);

    const query = doc.paths['/v1/tasks']?.get?.parameters ?? [];
    expect(query.map((q) => q.name)).to.deep.equal(Object.keys(listQuery.properties));
    for (const q of query) {
      expect(q.schema).to.equal(listQuery.properties[q.name as keyof typeof listQuery.properties]);
    }
  });

  it('when a task type is read or changed, then its settings and an unknown type (404) are described', () => {
    const ops = [
      doc.paths['/v1/task-types/{type}']?.get,
      doc.paths['/v1/task-types/{type}']?.patch,
      doc.paths['/v1/task-types/{type}/limits']?.get,
      doc.paths['/v1/task-types/{type}/limits']?.put,
    ];
    for (const op of ops) {
      expect(Object.keys(op?.responses ?? {}), op?.operationId).to.include.members(['200', '400', '404']);
    }
    const taskType = doc.components.schemas.TaskType as { properties: Record<string, unknown> };
    expect(taskType.properties).to.include.keys('paused', 'concurrency', 'ratePerSecond');
  });

  it('when creating a task, then every outcome, the Idempotency-Key and the Location are described', () => {
    const create = doc.paths['/v1/tasks']?.post;
    expect(Object.keys(create?.responses ?? {})).to.include.members([
      '200',
      '201',
      '400',
      '401',
      '409',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
    expect(create?.parameters?.map((p) => p.$ref)).to.include('#/components/parameters/IdempotencyKey');
    expect(create?.responses['201']?.headers).to.have.property('Location');
    expect(create?.responses['200']?.headers).to.have.property('Location');
  });
});

/**
 * Finds the task types this executor can run: the built-ins plus every module in TASKS_DIR
 * (`*.js`, `*.mjs`; `*.ts` too when running under tsx). Each module default-exports a
 * TaskDefinition or an array of them.
 */
import { readdir } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TASK_KINDS, type TaskTypeDefinition } from '@tasks/contracts';
import type { TaskDefinition } from './task-definition.js';

export interface LoadedTask {
  definition: TaskDefinition;
  /** Module URL, imported again inside worker threads for cpu tasks. */
  moduleUrl: string;
}

const EXTENSIONS = new Set(['.js', '.mjs', '.ts', '.mts']);

export function definitionsOf(moduleExports: unknown): TaskDefinition[] {
  const exported = (moduleExports as { default?: unknown }).default;
  const list = Array.isArray(exported) ? (exported as unknown[]) : [exported];
  return list.map((d, i) => {
    const def = d as Partial<TaskDefinition> | undefined;
    const ok =
      def &&
      typeof def.type === 'string' &&
      TASK_KINDS.includes(def.kind as never) &&
      typeof def.handler === 'function' &&
      typeof def.payloadSchema === 'object' &&
      Number.isInteger(def.timeoutMs) &&
      Number.isInteger(def.maxAttempts);
    if (!ok)
      throw new Error(
        `export ${i} is not a task definition (type, kind, payloadSchema, timeoutMs, maxAttempts, handler)`,
      );
    return def as TaskDefinition;
  });
}

export async function loadTasks(
  builtinUrls: readonly string[],
  tasksDir: string | undefined,
): Promise<Map<string, LoadedTask>> {
  const urls = [...builtinUrls];
  if (tasksDir) {
    const dir = resolve(tasksDir);
    const files = (await readdir(dir))
      .filter((f) => EXTENSIONS.has(extname(f)) && !f.endsWith('.d.ts'))
      .sort();
    urls.push(...files.map((f) => pathToFileURL(resolve(dir, f)).href));
  }
  const tasks = new Map<string, LoadedTask>();
  for (const moduleUrl of urls) {
    let defs: TaskDefinition[];
    try {
      defs = definitionsOf(await import(moduleUrl));
    } catch (err) {
      throw new Error(
        `cannot load task module ${moduleUrl}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    for (const definition of defs) {
      if (tasks.has(definition.type))
        throw new Error(`task type ${definition.type} is defined twice (${moduleUrl})`);
      tasks.set(definition.type, { definition, moduleUrl });
    }
  }
  return tasks;
}

/** What the store's registry keeps of a definition. */
export function toRegistration(
  d: TaskDefinition,
  settings: { allowHosts: readonly string[] } = { allowHosts: [] },
): TaskTypeDefinition {
  return {
    type: d.type,
    kind: d.kind,
    ...(d.description !== undefined && { description: d.description }),
    payloadSchema: d.registeredPayloadSchema?.(settings) ?? d.payloadSchema,
    ...(d.resultSchema !== undefined && { resultSchema: d.resultSchema }),
    timeoutMs: d.timeoutMs,
    maxAttempts: d.maxAttempts,
  };
}

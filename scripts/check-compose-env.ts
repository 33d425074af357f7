/**
 * CI check: every variable a service reads is set in docker-compose.yml or has a default in the
 * service's config schema, and the compose file sets no variable the service does not read
 * (a typo there would be silently ignored). Variables are read from the `properties` of the
 * JSON Schema in <service>/src/config.ts (one `NAME: { … }` entry per variable).
 *   npx tsx scripts/check-compose-env.ts
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

const SERVICES = ['task-store-service', 'gateway-service', 'executor-service'];

function configVariables(service: string): Map<string, boolean> {
  const source = readFileSync(`${service}/src/config.ts`, 'utf8');
  const vars = new Map<string, boolean>();
  for (const m of source.matchAll(/^\s+([A-Z][A-Z0-9_]+): \{/gm)) {
    // The entry runs to its matching brace; braces inside quoted strings (patterns) do not count.
    let depth = 0;
    let quote: string | undefined;
    let end = m.index + m[0].length - 1;
    for (; end < source.length; end++) {
      const ch = source[end]!;
      if (quote) {
        if (ch === '\\') end++;
        else if (ch === quote) quote = undefined;
      } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) break;
    }
    vars.set(m[1]!, /\bdefault:/.test(source.slice(m.index, end)));
  }
  if (vars.size === 0) throw new Error(`no variables found in ${service}/src/config.ts`);
  return vars;
}

const compose = load(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, { environment?: Record<string, unknown> | string[] }>;
};
const problems: string[] = [];
let checked = 0;
for (const service of SERVICES) {
  const env = compose.services[service]?.environment ?? {};
  const set = new Set(Array.isArray(env) ? env.map((e) => e.split('=')[0]!) : Object.keys(env));
  const vars = configVariables(service);
  for (const [name, hasDefault] of vars) {
    checked++;
    if (!hasDefault && !set.has(name)) {
      // Optional secrets (RPC_TOKEN, TASKS_DIR, WORKER_ID) have no default on purpose: say so in compose.
      problems.push(`${service}: ${name} has no default and is not set in docker-compose.yml`);
    }
  }
  for (const name of set) {
    if (!vars.has(name))
      problems.push(`${service}: docker-compose.yml sets ${name}, which the service does not read`);
  }
}
if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`check-compose-env: ${p}\n`);
  process.exit(1);
}
process.stdout.write(
  `check-compose-env: ${checked} variables of ${SERVICES.length} services are set or defaulted\n`,
);

/**
 * CI check: every variable a service reads is set in docker-compose.yml or has a default in the
 * service's config schema, and the compose file sets no variable the service does not read
 * (a typo there would be silently ignored). Variables are the `properties` of each service's
 * ENV_SCHEMA (<service>/src/config.ts).
 *   npx tsx --conditions=source scripts/check-compose-env.ts
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import type { EnvSchema } from '@tasks/service-runtime';
import { ENV_SCHEMA as executorSchema } from '@tasks/executor-service';
import { ENV_SCHEMA as gatewaySchema } from '@tasks/gateway-service';
import { ENV_SCHEMA as storeSchema } from '@tasks/task-store-service';

const SCHEMAS: Record<string, EnvSchema> = {
  'task-store-service': storeSchema,
  'gateway-service': gatewaySchema,
  'executor-service': executorSchema,
};
const SERVICES = Object.keys(SCHEMAS);

/** Each variable the service reads, and whether its schema gives it a default. */
function configVariables(service: string): Map<string, boolean> {
  return new Map(Object.entries(SCHEMAS[service]!.properties).map(([name, p]) => [name, 'default' in p]));
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

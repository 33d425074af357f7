/**
 * Mocha root hooks: one MongoDB-wire server for the whole run (provisionMongo's order of
 * preference), exposed to tests as process.env.MONGO_URL. Each test makes its own database.
 */
import { dropTestDatabases, provisionMongo, type MongoHandle } from './index.js';

let handle: MongoHandle | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(10 * 60_000); // the first run may build FerretDB
    handle = await provisionMongo({ log: (line) => process.stderr.write(`dev-mongo: ${line}\n`) });
    process.env.MONGO_URL = handle.url;
    // For prepareDatabase in tests that make their own databases (FerretDB on PostgreSQL only).
    if (handle.postgresqlUrl !== undefined) process.env.DEV_MONGO_POSTGRESQL_URL = handle.postgresqlUrl;
    process.env.TEST_MONGO_SERVER = `${handle.server} (${handle.source})`;
    process.stderr.write(`dev-mongo: tests use ${handle.server} (${handle.source})\n`);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await dropTestDatabases(); // the ones tests gave back for reuse (test-databases.ts)
    await handle?.stop();
  },
};

/**
 * The one place tests read what the machine and mocha's root hooks give them: the RabbitMQ to
 * use, the MongoDB-wire server the root hook provisioned, and how much the services they start
 * should log.
 */

/** The machine's RabbitMQ (tests declare their queues under a prefix of their own). */
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The test run's MongoDB-wire server: read when called, as the root hook sets it before the tests run. */
export function testMongoUrl(): string {
  const url = process.env.MONGO_URL;
  if (!url)
    throw new Error('MONGO_URL is not set: run the tests through mocha (root hooks provision MongoDB)');
  return url;
}

/** The server as dev-mongo's test databases take it (FerretDB's PostgreSQL too, to tune its tables). */
export function testDatabaseServer(): { url: string; postgresqlUrl: string | undefined } {
  return { url: testMongoUrl(), postgresqlUrl: process.env.DEV_MONGO_POSTGRESQL_URL };
}

/** LOG_LEVEL of the services a test starts: TEST_LOG_LEVEL, else `fallback` (silent in process, warn for child processes). */
export function testLogLevel(fallback: 'silent' | 'warn' = 'silent'): string {
  return process.env.TEST_LOG_LEVEL ?? fallback;
}

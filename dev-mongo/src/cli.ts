/**
 * Runs a MongoDB-wire server until SIGINT/SIGTERM and prints `MONGO_URL=<url>` on stdout once
 * it is ready. Used by scripts that need a database for a whole session (start, bench, CI).
 *   dev-mongo [--data-dir DIR]
 */
import { provisionMongo } from './index.js';

async function main() {
  const i = process.argv.indexOf('--data-dir');
  const dataDir = i > 0 ? process.argv[i + 1] : undefined;
  const handle = await provisionMongo({ dataDir, log: (line) => console.error(`dev-mongo: ${line}`) });
  console.log(`MONGO_URL=${handle.url}`);
  const stop = () => {
    handle.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('dev-mongo: stop failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`dev-mongo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * Does the MongoDB-wire server make a conditional findOneAndUpdate atomic? Runs R rounds of
 * N concurrent "queued → running" compare-and-sets on one document each and counts rounds in
 * which more than one caller was told it won. MongoDB: always 0. FerretDB 1.x: see
 * docs/consistency.md. Usage: npx tsx --conditions=source bench/cas-probe.ts [rounds] [callers]
 */
import { MongoClient } from 'mongodb';
import { provisionMongo } from '@tasks/dev-mongo';

const rounds = Number(process.argv[2] ?? 200);
const callers = Number(process.argv[3] ?? 10);

const mongo = await provisionMongo({ log: (l) => console.error(`dev-mongo: ${l}`) });
const client = new MongoClient(mongo.url, { maxPoolSize: callers * 2 });
const coll = client
  .db(`cas_probe_${Date.now()}`)
  .collection<{ _id: number; status: string; owner?: number }>('docs');
let doubleWins = 0;
for (let r = 0; r < rounds; r++) {
  await coll.insertOne({ _id: r, status: 'queued' });
  const results = await Promise.all(
    Array.from({ length: callers }, (_, i) =>
      coll.findOneAndUpdate({ _id: r, status: 'queued' }, { $set: { status: 'running', owner: i } }),
    ),
  );
  if (results.filter((x) => x !== null).length > 1) doubleWins++;
}
console.log(
  JSON.stringify({ server: mongo.server, rounds, callers, roundsWithMoreThanOneWinner: doubleWins }, null, 2),
);
await client.db(coll.dbName).dropDatabase();
await client.close();
await mongo.stop();

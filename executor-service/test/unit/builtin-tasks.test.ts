import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { createAjv } from '@tasks/contracts';
import type { TaskContext, TaskDefinition } from '../../src/tasks/task-definition.js';
import { definitionsOf } from '../../src/tasks/task-loader.js';
import { builtinTaskModules } from '../../src/tasks/builtin/index.js';
import primesCount from '../../src/tasks/builtin/primes-count.task.js';
import hash from '../../src/tasks/builtin/hash.task.js';
import compress, { compressInput, generateData } from '../../src/tasks/builtin/compress.task.js';
import sleep from '../../src/tasks/builtin/sleep.task.js';
import noop from '../../src/tasks/builtin/noop.task.js';
import collect from '../../src/tasks/builtin/collect.task.js';
import {
  blockedClass,
  isAllowListed,
  parseAllowEntry,
  vetTarget,
  type LookupAll,
} from '../../src/ssrf/ssrf.js';

interface TestContext extends TaskContext {
  controller: AbortController;
  reports: { percent: number; message?: string }[];
}

function context(onProgress?: (percent: number, c: TestContext) => void): TestContext {
  const controller = new AbortController();
  const c: TestContext = {
    controller,
    reports: [],
    signal: controller.signal,
    allowHosts: [],
    dependencies: {},
    progress(percent, message) {
      c.reports.push({ percent, message });
      onProgress?.(percent, c);
    },
  };
  return c;
}

async function rejectionOf(work: () => unknown): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await work();
  } catch (err) {
    return err as Error & { code?: string };
  }
  expect.fail('expected a rejection');
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** π(n) by a plain (unsegmented) sieve, to check the segment boundaries. */
function referencePi(limit: number): (n: number) => number {
  const composite = new Uint8Array(limit + 1);
  const pi = new Uint32Array(limit + 1);
  let count = 0;
  for (let n = 2; n <= limit; n++) {
    if (!composite[n]) {
      count++;
      for (let m = n * n; m <= limit; m += n) composite[m] = 1;
    }
    pi[n] = count;
  }
  return (n) => pi[n]!;
}

describe('built-in tasks', () => {
  describe('primes.count', () => {
    const count = async (upTo: number, c = context()) => (await primesCount.handler({ upTo }, c)).count;

    it('when counting up to 100, then there are 25 primes', async () => {
      expect(await count(100)).to.equal(25);
    });

    it('when counting up to the smallest limits, then 2 and 3 are counted and 1 is not', async () => {
      expect([await count(2), await count(3), await count(4), await count(5), await count(10)]).to.deep.equal(
        [1, 2, 2, 3, 4],
      );
    });

    it('when the limit falls on or next to a segment boundary, then the count matches a plain sieve', async () => {
      const pi = referencePi(300_000);
      for (const n of [
        65_535, 65_536, 65_537, 65_539, 131_071, 131_072, 131_073, 196_607, 262_145, 300_000,
      ]) {
        expect(await count(n), `π(${n})`).to.equal(pi(n));
      }
    });

    it('when counting up to 10^6 and 10^7, then the known values come out', async () => {
      expect(await count(1_000_000)).to.equal(78_498);
      expect(await count(10_000_000)).to.equal(664_579);
    });

    it('when counting, then progress is reported every 5% up to 100', async () => {
      const c = context();
      await count(10_000_000, c);
      const percents = c.reports.map((r) => r.percent);
      expect(percents).to.deep.equal(Array.from({ length: 20 }, (_, i) => (i + 1) * 5));
    });

    it('when a segment spans more than 5%, then steps are skipped but progress still rises to 100', async () => {
      const c = context();
      await count(1_000_000, c);
      const percents = c.reports.map((r) => r.percent);
      expect(percents.every((p, i) => p % 5 === 0 && (i === 0 || p > percents[i - 1]!))).to.equal(true);
      expect(percents.at(-1)).to.equal(100);
      expect(percents).to.have.length.above(10);
    });

    it('when aborted at the first progress report, then it stops with the abort reason', async () => {
      const reason = Object.assign(new Error('cancelled'), { code: 'CANCELLED' });
      const c = context((_, ctx) => ctx.controller.abort(reason));
      const err = await rejectionOf(() => count(50_000_000, c));
      expect(err).to.equal(reason);
      expect(c.reports).to.have.length(1);
    });

    it('when aborted by a timer while running, then it stops early', async () => {
      const c = context();
      setTimeout(() => c.controller.abort(new Error('timeout')), 5);
      const started = performance.now();
      const err = await rejectionOf(() => count(50_000_000, c));
      expect(err.message).to.equal('timeout');
      expect(c.reports.at(-1)?.percent ?? 0).to.be.below(100);
      expect(performance.now() - started).to.be.below(2_000);
    });

    it('when upTo is out of range, then it fails without retry', async () => {
      const err = await rejectionOf(() => count(50_000_001));
      expect(err).to.include({ code: 'PAYLOAD_INVALID', retryable: false });
    });
  });

  describe('hash', () => {
    type HashResult = { algorithm: string; hash: string; salt: string };
    const run = async (payload: Parameters<typeof hash.handler>[0]) =>
      (await hash.handler(payload, context())) as HashResult;

    it('when PBKDF2 runs on the RFC 7914 input, then the known key comes out', async () => {
      const r = await run({ input: 'passwd', algorithm: 'pbkdf2', iterations: 1, salt: 'salt' });
      expect(r).to.deep.equal({
        algorithm: 'pbkdf2',
        hash: '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc',
        salt: 'salt',
      });
    });

    it('when scrypt runs on the RFC 7914 input, then the known key comes out', async () => {
      const r = await run({ input: 'pleaseletmein', algorithm: 'scrypt', salt: 'SodiumChloride' });
      expect(r.hash).to.equal('7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2');
    });

    it('when the same salt is given twice, then the hash is the same; another salt gives another', async () => {
      const a = await run({ input: 'secret', algorithm: 'pbkdf2', salt: 'pepper' });
      const b = await run({ input: 'secret', algorithm: 'pbkdf2', salt: 'pepper' });
      const c = await run({ input: 'secret', algorithm: 'pbkdf2', salt: 'paprika' });
      expect(a.hash).to.equal(b.hash);
      expect(a.hash).to.not.equal(c.hash);
    });

    it('when no salt is given, then a random one is returned and reproduces the hash', async () => {
      const a = await run({ input: 'secret', algorithm: 'scrypt' });
      const b = await run({ input: 'secret', algorithm: 'scrypt' });
      expect(a.salt).to.match(/^[0-9a-f]{32}$/);
      expect(a.salt).to.not.equal(b.salt);
      expect((await run({ input: 'secret', algorithm: 'scrypt', salt: a.salt })).hash).to.equal(a.hash);
    });

    it('when iterations are out of range, then it fails without retry', async () => {
      const err = await rejectionOf(() => run({ input: 'x', algorithm: 'pbkdf2', iterations: 0 }));
      expect(err).to.include({ code: 'PAYLOAD_INVALID', retryable: false });
    });
  });

  describe('compress', () => {
    type CompressResult = { inputBytes: number; outputBytes: number; ratio: number; sha256: string };
    const run = async (payload: Parameters<typeof compress.handler>[0], c = context()) =>
      (await compress.handler(payload, c)) as CompressResult;
    const text = 'to be or not to be, that is the question; '.repeat(500);

    for (const [algorithm, decompress] of [
      ['gzip', gunzipSync],
      ['brotli', brotliDecompressSync],
    ] as const) {
      it(`when text is compressed with ${algorithm}, then the output decompresses to the input's sha256`, async () => {
        const r = await run({ text, algorithm, level: 9 });
        const output = compressInput(Buffer.from(text), algorithm, 9);
        expect(r.inputBytes).to.equal(Buffer.byteLength(text));
        expect(r.outputBytes).to.equal(output.length);
        expect(sha256(decompress(output))).to.equal(r.sha256);
        expect(r.sha256).to.equal(sha256(text));
        expect(r.ratio)
          .to.be.closeTo(r.inputBytes / r.outputBytes, 0.001)
          .and.above(10);
      });
    }

    it('when bytes are generated, then they are deterministic and compressible', async () => {
      const c = context();
      const a = await run({ generateBytes: 1_000_000, algorithm: 'gzip' }, c);
      const b = await run({ generateBytes: 1_000_000, algorithm: 'gzip' });
      expect(a).to.deep.equal(b);
      expect(a.inputBytes).to.equal(1_000_000);
      expect(a.sha256).to.equal(sha256(generateData(1_000_000)));
      expect(a.ratio).to.be.above(2);
      expect(c.reports.map((r) => r.percent)).to.deep.equal([10]);
    });

    it('when both or neither input is given, or the level is out of range, then it fails without retry', async () => {
      for (const payload of [
        { algorithm: 'gzip' as const },
        { text: 'x', generateBytes: 1, algorithm: 'gzip' as const },
        { text: 'x', algorithm: 'gzip' as const, level: 10 },
      ]) {
        const err = await rejectionOf(() => run(payload));
        expect(err, JSON.stringify(payload)).to.include({ code: 'PAYLOAD_INVALID', retryable: false });
      }
    });
  });

  describe('sleep', () => {
    it('when it runs to the end, then it reports about the time asked for', async () => {
      const r = await sleep.handler({ ms: 30 }, context());
      expect(r.sleptMs).to.be.within(29, 500);
    });

    it('when aborted, then it rejects at once with the abort reason', async () => {
      const c = context();
      const reason = Object.assign(new Error('cancelled'), { code: 'CANCELLED' });
      setTimeout(() => c.controller.abort(reason), 20);
      const started = performance.now();
      const err = await rejectionOf(() => sleep.handler({ ms: 600_000 }, c));
      expect(err).to.equal(reason);
      expect(performance.now() - started).to.be.below(1_000);
    });
  });

  describe('noop', () => {
    it('when run with any object, then it returns an empty object synchronously', () => {
      expect(noop.handler({ anything: [1, 2] }, context())).to.deep.equal({});
    });
  });

  describe('collect', () => {
    it("returns the dependencies' results keyed by node key, null for those that did not succeed", async () => {
      const c = {
        ...context(),
        dependencies: {
          b: { taskId: 'f.b', status: 'failed' as const, result: null, error: { code: 'X', message: 'x' } },
          a: { taskId: 'f.a', status: 'succeeded' as const, result: { count: 3 }, error: null },
        },
      };
      expect(await collect.handler({}, c)).to.deep.equal({ a: { count: 3 }, b: null });
      expect(await collect.handler({}, context())).to.deep.equal({});
    });
  });

  describe('module list and schemas', () => {
    const samples: Record<string, { valid: unknown[]; invalid: unknown[] }> = {
      'primes.count': {
        valid: [{ upTo: 2 }, { upTo: 50_000_000 }],
        invalid: [{ upTo: 1 }, { upTo: 2.5 }, {}],
      },
      hash: {
        valid: [
          { input: 'x', algorithm: 'scrypt' },
          { input: '', algorithm: 'pbkdf2', iterations: 5_000_000 },
        ],
        invalid: [
          { input: 'x', algorithm: 'md5' },
          { input: 'x'.repeat(10_001), algorithm: 'scrypt' },
        ],
      },
      compress: {
        valid: [
          { text: 'x', algorithm: 'gzip', level: 9 },
          { generateBytes: 10, algorithm: 'brotli', level: 11 },
        ],
        invalid: [
          { algorithm: 'gzip' },
          { text: 'x', generateBytes: 1, algorithm: 'gzip' },
          { text: 'x', algorithm: 'gzip', level: 10 },
          { generateBytes: 50 * 1_048_576 + 1, algorithm: 'gzip' },
        ],
      },
      sleep: { valid: [{ ms: 0 }, { ms: 600_000 }], invalid: [{ ms: -1 }, { ms: 600_001 }] },
      noop: { valid: [{}, { any: 'thing' }], invalid: [[], 'x'] },
      collect: { valid: [{}], invalid: [{ a: 1 }, [], 'x'] },
      'http.request': {
        valid: [
          { url: 'https://example.com/', method: 'POST', headers: { a: 'b' }, body: 'x', timeoutMs: 1 },
        ],
        invalid: [
          { url: 'ftp://example.com/' },
          { url: 'http://x/', method: 'TRACE' },
          { url: 'http://x/', timeoutMs: 0 },
        ],
      },
    };

    it('when the built-in modules are loaded, then each defines one task type of the expected kind', async () => {
      const defs: TaskDefinition[] = [];
      for (const url of builtinTaskModules) defs.push(...definitionsOf(await import(url)));
      expect(Object.fromEntries(defs.map((d) => [d.type, d.kind]))).to.deep.equal({
        'primes.count': 'cpu',
        hash: 'cpu',
        compress: 'cpu',
        sleep: 'io',
        noop: 'io',
        'http.request': 'io',
        collect: 'io',
      });
      expect(builtinTaskModules.every((u) => u.startsWith('file://') && u.endsWith('.task.ts'))).to.equal(
        true,
      );
    });

    it('when payloads are validated against the schemas, then good ones pass and bad ones fail', async () => {
      const ajv = createAjv();
      for (const url of builtinTaskModules) {
        for (const def of definitionsOf(await import(url))) {
          const validate = ajv.compile(def.payloadSchema);
          if (def.resultSchema) ajv.compile(def.resultSchema);
          for (const p of samples[def.type]!.valid)
            expect(validate(p), `${def.type} ${JSON.stringify(p)}`).to.equal(true);
          for (const p of samples[def.type]!.invalid) {
            expect(validate(p), `${def.type} ${JSON.stringify(p)}`).to.equal(false);
          }
        }
      }
    });
  });

  describe('ssrf rules', () => {
    it('when an address is loopback, private, link-local, unspecified, CGNAT or multicast, then it is blocked', () => {
      const cases: Record<string, string> = {
        '127.0.0.1': 'loopback',
        '127.255.0.9': 'loopback',
        '10.0.0.1': 'private',
        '172.16.0.1': 'private',
        '172.31.255.255': 'private',
        '192.168.1.1': 'private',
        '169.254.169.254': 'link-local',
        '0.0.0.0': 'unspecified',
        '100.64.0.1': 'cgnat',
        '100.127.255.255': 'cgnat',
        '224.0.0.1': 'multicast',
        '255.255.255.255': 'reserved',
        '::': 'unspecified',
        '::1': 'loopback',
        '0:0:0:0:0:0:0:1': 'loopback',
        'fc00::1': 'private',
        'fd12:3456::1': 'private',
        'fe80::1': 'link-local',
        'fe80::1%eth0': 'link-local',
        'ff02::1': 'multicast',
        '::ffff:127.0.0.1': 'loopback',
        '::ffff:7f00:1': 'loopback',
        '::ffff:169.254.169.254': 'link-local',
        '::ffff:10.0.0.1': 'private',
        '::127.0.0.1': 'loopback',
        '64:ff9b::a9fe:a9fe': 'link-local',
        '2002:7f00:1::': 'loopback',
        'not-an-ip': 'not an IP address',
      };
      for (const [address, cls] of Object.entries(cases))
        expect(blockedClass(address), address).to.equal(cls);
    });

    it('when an address is public, then it is not blocked', () => {
      for (const address of [
        '8.8.8.8',
        '1.1.1.1',
        '172.15.255.255',
        '172.32.0.0',
        '100.63.255.255',
        '100.128.0.0',
        '169.253.0.1',
        '2606:4700:4700::1111',
        '::ffff:8.8.8.8',
        '2002:808:808::',
      ]) {
        expect(blockedClass(address), address).to.equal(undefined);
      }
    });

    it('when allow list entries are parsed, then host and optional port are normalised', () => {
      expect(parseAllowEntry('Example.COM')).to.deep.equal({ hostname: 'example.com' });
      expect(parseAllowEntry('127.0.0.1:8080')).to.deep.equal({ hostname: '127.0.0.1', port: 8080 });
      expect(parseAllowEntry('[::1]:80')).to.deep.equal({ hostname: '[::1]', port: 80 });
      expect(parseAllowEntry('::1')).to.deep.equal({ hostname: '[::1]' });
      expect(parseAllowEntry('host:0')).to.equal(undefined);
      expect(parseAllowEntry('a:b:c')).to.equal(undefined);
    });

    it('when a URL is matched against the allow list, then hostname and the effective port count', () => {
      const allow = ['localhost', '127.0.0.1:8080', '[::1]:443'];
      expect(isAllowListed(new URL('http://LOCALHOST:1234/'), allow)).to.equal(true);
      expect(isAllowListed(new URL('http://127.0.0.1:8080/'), allow)).to.equal(true);
      expect(isAllowListed(new URL('http://0x7f.1:8080/'), allow)).to.equal(true);
      expect(isAllowListed(new URL('http://127.0.0.1/'), allow)).to.equal(false);
      expect(isAllowListed(new URL('https://[::1]/'), allow)).to.equal(true);
      expect(isAllowListed(new URL('http://[::1]/'), allow)).to.equal(false);
    });

    const fakeDns =
      (answers: Record<string, string[]>): LookupAll =>
      (hostname) =>
        Promise.resolve(
          (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
        );

    it('when ANY address of a name is private, then the name is refused', async () => {
      const lookup = fakeDns({ 'mixed.example': ['93.184.215.14', '10.0.0.1'] });
      const err = await rejectionOf(() => vetTarget(new URL('http://mixed.example/'), [], lookup));
      expect(err).to.include({ code: 'SSRF_BLOCKED', retryable: false });
    });

    it('when all addresses are public, then an IPv4 one is chosen to connect to', async () => {
      const lookup = fakeDns({ 'ok.example': ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', '93.184.215.14'] });
      const t = await vetTarget(new URL('https://ok.example/x'), [], lookup);
      expect(t).to.deep.equal({
        hostname: 'ok.example',
        port: 443,
        address: '93.184.215.14',
        family: 4,
        allowListed: false,
      });
    });

    it('when the host is allow-listed, then its private addresses are accepted', async () => {
      const lookup = fakeDns({ 'db.internal': ['10.1.2.3'] });
      const t = await vetTarget(new URL('http://db.internal:9200/'), ['db.internal:9200'], lookup);
      expect(t).to.include({ address: '10.1.2.3', allowListed: true });
    });
  });
});

import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { thrownBy } from '@tasks/testkit';

const configErrorOf = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

describe('loadConfig', () => {
  it('when the environment is empty, then every setting has its default', () => {
    expect(loadConfig({})).to.deep.equal({
      host: '127.0.0.1',
      port: 4001,
      mongoUrl: 'mongodb://127.0.0.1:27017',
      mongoDb: 'tasks',
      mongoPoolSize: 20,
      mongoWriteConcern: { w: 'majority', journal: true },
      rpcTokens: [],
      executorTokens: [],
      allowUnauthenticated: false,
      logLevel: 'info',
      maxBodyBytes: 5_242_880,
      maxBatchCalls: 100,
      shutdownGraceMs: 10_000,
      statsDeadWriterMs: 15_000,
      retention: {
        defaultSeconds: 604_800,
        idempotencyKeyTtlSeconds: 86_400,
        sweepIntervalMs: 60_000,
        sweepPage: 500,
      },
      webhookMaxAttempts: 8,
      webhookRetryBaseMs: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      maxHeaderBytes: 16_384,
      maxHeadersCount: 100,
      telemetry: {
        enabled: false,
        tracesUrl: null,
        protocol: 'http/protobuf',
        serviceName: 'task-store-service',
        sampler: 'parentbased_always_on',
        samplerRatio: 1,
        exportDelayMs: 1_000,
      },
    });
  });

  it('when numbers come as strings, then they are coerced', () => {
    const c = loadConfig({ PORT: '8080', MAX_BODY_BYTES: '2048', SHUTDOWN_GRACE_MS: '0' });
    expect(c.port).to.equal(8080);
    expect(c.maxBodyBytes).to.equal(2048);
    expect(c.shutdownGraceMs).to.equal(0);
  });

  it('when variables are set, then they are taken; unknown variables are ignored', () => {
    const c = loadConfig({
      HOST: '0.0.0.0',
      MONGO_URL: 'mongodb+srv://cluster.example.net',
      MONGO_DB: 'tasks_test',
      RPC_TOKEN: 'sixteen-chars-ok',
      EXECUTOR_TOKEN: 'executor-chars-ok',
      LOG_LEVEL: 'debug',
      UNRELATED: 'x',
    });
    expect(c).to.include({
      host: '0.0.0.0',
      mongoUrl: 'mongodb+srv://cluster.example.net',
      mongoDb: 'tasks_test',
      logLevel: 'debug',
    });
    expect(c.rpcTokens).to.deep.equal(['sixteen-chars-ok']);
    expect(c.executorTokens).to.deep.equal(['executor-chars-ok']);
    expect(c).to.not.have.property('UNRELATED');
  });

  it('when PORT and LOG_LEVEL are both bad, then one ConfigError names both', () => {
    const err = configErrorOf(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' }));
    expect(err.message).to.include('PORT');
    expect(err.message).to.include('LOG_LEVEL');
  });

  it('when a number is out of range or not an integer, then ConfigError', () => {
    for (const env of [{ PORT: '65536' }, { PORT: '-1' }, { PORT: '80.5' }, { MAX_BODY_BYTES: '100' }]) {
      const err = configErrorOf(() => loadConfig(env));
      expect(err.message).to.include(Object.keys(env)[0]);
    }
  });

  it('when MONGO_URL is not a mongodb URL or RPC_TOKEN is shorter than 16, then ConfigError', () => {
    configErrorOf(() => loadConfig({ MONGO_URL: 'http://127.0.0.1:27017' }));
    configErrorOf(() => loadConfig({ RPC_TOKEN: 'short' }));
    configErrorOf(() => loadConfig({ RPC_TOKEN: 'sixteen-chars-ok,short' }));
    configErrorOf(() => loadConfig({ EXECUTOR_TOKEN: 'short' }));
  });

  it('when RPC_TOKEN lists several tokens, then each is accepted (rotation), spaces and empty entries dropped', () => {
    expect(loadConfig({ RPC_TOKEN: ' new-token-0000000001 ,,old-token-0000000002' }).rpcTokens).to.deep.equal(
      ['new-token-0000000001', 'old-token-0000000002'],
    );
    expect(loadConfig({ RPC_TOKEN: ',' }).rpcTokens).to.deep.equal([]);
  });

  it('when HOST is not loopback and a token is missing, then ConfigError naming ALLOW_UNAUTHENTICATED', () => {
    for (const env of [{}, { RPC_TOKEN: 'sixteen-chars-ok' }, { EXECUTOR_TOKEN: 'sixteen-chars-ok' }]) {
      for (const HOST of ['0.0.0.0', '::', '10.1.2.3', 'task-store-service']) {
        const err = configErrorOf(() => loadConfig({ ...env, HOST }));
        expect(err.message).to.include('ALLOW_UNAUTHENTICATED');
      }
    }
  });

  it('when HOST is not loopback, then both tokens or ALLOW_UNAUTHENTICATED=true let it start', () => {
    expect(
      loadConfig({ HOST: '0.0.0.0', RPC_TOKEN: 'sixteen-chars-ok', EXECUTOR_TOKEN: 'sixteen-chars-ok2' })
        .host,
    ).to.equal('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).allowUnauthenticated).to.equal(
      true,
    );
    for (const HOST of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'])
      expect(loadConfig({ HOST }).rpcTokens, HOST).to.deep.equal([]);
  });

  it('when MONGO_WRITE_CONCERN and MONGO_JOURNAL are set, then they are taken; a bad value is refused', () => {
    expect(loadConfig({ MONGO_WRITE_CONCERN: '1', MONGO_JOURNAL: 'false' }).mongoWriteConcern).to.deep.equal({
      w: 1,
      journal: false,
    });
    configErrorOf(() => loadConfig({ MONGO_WRITE_CONCERN: 'all' }));
  });

  it('when the HTTP limits are set, then they are taken; a headers timeout over the request timeout is refused', () => {
    expect(
      loadConfig({
        HEADERS_TIMEOUT_MS: '500',
        REQUEST_TIMEOUT_MS: '1000',
        KEEP_ALIVE_TIMEOUT_MS: '2000',
        MAX_HEADER_BYTES: '4096',
        MAX_HEADERS_COUNT: '20',
      }),
    ).to.include({
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
      keepAliveTimeoutMs: 2000,
      maxHeaderBytes: 4096,
      maxHeadersCount: 20,
    });
    const err = configErrorOf(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' }));
    expect(err.message).to.include('HEADERS_TIMEOUT_MS');
    configErrorOf(() => loadConfig({ HEADERS_TIMEOUT_MS: '10' }));
  });

  it('when the retention variables are set, then they are taken; outside 1 s .. 10 years, ConfigError', () => {
    const c = loadConfig({
      TASK_RETENTION_SECONDS: '3600',
      IDEMPOTENCY_KEY_TTL_SECONDS: '60',
      RETENTION_SWEEP_INTERVAL_MS: '500',
      RETENTION_SWEEP_PAGE: '20',
    });
    expect(c.retention).to.deep.equal({
      defaultSeconds: 3600,
      idempotencyKeyTtlSeconds: 60,
      sweepIntervalMs: 500,
      sweepPage: 20,
    });
    for (const env of [
      { TASK_RETENTION_SECONDS: '0' },
      { TASK_RETENTION_SECONDS: '315360001' },
      { IDEMPOTENCY_KEY_TTL_SECONDS: '1.5' },
      { RETENTION_SWEEP_INTERVAL_MS: '10' },
    ])
      expect(configErrorOf(() => loadConfig(env)).message).to.include(Object.keys(env)[0]);
  });

  it('when RPC_TOKEN is empty, then it counts as unset', () => {
    expect(loadConfig({ RPC_TOKEN: '' }).rpcTokens).to.deep.equal([]);
  });

  it('when other variables are empty, then their defaults apply', () => {
    const c = loadConfig({ PORT: '', LOG_LEVEL: '' });
    expect(c.port).to.equal(4001);
    expect(c.logLevel).to.equal('info');
  });

  it('when the config is loaded, then the result is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).to.equal(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).to.throw(TypeError);
  });

  it('when the config is loaded, then the caller’s environment object is left untouched', () => {
    const env = { PORT: '8080' };
    loadConfig(env);
    expect(env).to.deep.equal({ PORT: '8080' });
  });

  it('when HEADERS_TIMEOUT_MS exceeds REQUEST_TIMEOUT_MS, then a ConfigError names both (Node would refuse the server)', () => {
    const err = configErrorOf(() => loadConfig({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' }));
    expect(err.message).to.match(/HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS/);
  });
});

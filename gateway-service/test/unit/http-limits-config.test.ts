import { expect } from 'chai';
import { loadConfig as executorConfig } from '@tasks/executor-service';
import { ConfigError } from '@tasks/service-runtime';
import { loadConfig as storeConfig } from '@tasks/task-store-service';
import { thrownBy } from '@tasks/testkit';
import { loadConfig as gatewayConfig } from '../../src/config.js';

// The five HTTP limit variables are declared once (service-runtime's httpLimitsEnvSchema); each
// service passes its own defaults, and the executor's ops server a lower request-timeout maximum.
describe('HTTP limits in each service config', () => {
  const pick = (c: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxHeaderBytes: number;
    maxHeadersCount: number;
  }) => [c.headersTimeoutMs, c.requestTimeoutMs, c.keepAliveTimeoutMs, c.maxHeaderBytes, c.maxHeadersCount];

  it('when nothing is set, then the gateway and the store take the public defaults and the executor tighter ones', () => {
    expect(pick(gatewayConfig({}))).to.deep.equal([10_000, 30_000, 65_000, 16_384, 100]);
    expect(pick(storeConfig({}))).to.deep.equal([10_000, 30_000, 65_000, 16_384, 100]);
    expect(pick(executorConfig({}))).to.deep.equal([5_000, 10_000, 5_000, 8_192, 50]);
  });

  it('when REQUEST_TIMEOUT_MS is an hour, then the gateway and the store accept it and the executor names the variable', () => {
    const env = { REQUEST_TIMEOUT_MS: '3600000' };
    expect(gatewayConfig(env).requestTimeoutMs).to.equal(3_600_000);
    expect(storeConfig(env).requestTimeoutMs).to.equal(3_600_000);
    expect(thrownBy(() => executorConfig(env), ConfigError).message).to.include('REQUEST_TIMEOUT_MS');
    expect(executorConfig({ REQUEST_TIMEOUT_MS: '600000' }).requestTimeoutMs).to.equal(600_000);
  });

  it('when a limit is out of its range in any service, then a ConfigError names it', () => {
    for (const load of [gatewayConfig, storeConfig, executorConfig]) {
      expect(thrownBy(() => load({ MAX_HEADERS_COUNT: '5' }), ConfigError).message).to.include(
        'MAX_HEADERS_COUNT',
      );
      expect(thrownBy(() => load({ HEADERS_TIMEOUT_MS: '99' }), ConfigError).message).to.include(
        'HEADERS_TIMEOUT_MS',
      );
    }
  });
});

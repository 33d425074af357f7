import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { thrownBy } from '@tasks/testkit';

const configErrorOf = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

describe('gateway loadConfig: no open gateway off this machine', () => {
  it('when HOST is not loopback and API_KEYS is unset, then ConfigError naming API_KEYS and ALLOW_UNAUTHENTICATED', () => {
    for (const HOST of ['0.0.0.0', '::', '192.168.1.10', 'gateway']) {
      const err = configErrorOf(() => loadConfig({ HOST, API_KEYS: '' }));
      expect(err.message, HOST).to.include('API_KEYS').and.include('ALLOW_UNAUTHENTICATED');
    }
  });

  it('when HOST is not loopback and API_KEYS is set, then it starts with auth on', () => {
    const c = loadConfig({ HOST: '0.0.0.0', API_KEYS: 'a-key-of-sixteen-chars' });
    expect(c.apiKeys).to.deep.equal(['a-key-of-sixteen-chars']);
    expect(c.allowUnauthenticated).to.equal(false);
  });

  it('when HOST is not loopback and ALLOW_UNAUTHENTICATED=true, then it starts open (development only)', () => {
    const c = loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' });
    expect(c.apiKeys).to.deep.equal([]);
    expect(c.allowUnauthenticated).to.equal(true);
    configErrorOf(() => loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'false' }));
    configErrorOf(() => loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'yes please' }));
  });

  it('when HOST is a loopback address, then no API key is needed (make start stays open locally)', () => {
    for (const HOST of ['127.0.0.1', '127.1.2.3', 'localhost', '::1'])
      expect(loadConfig({ HOST }).apiKeys, HOST).to.deep.equal([]);
    expect(loadConfig({}).host).to.equal('127.0.0.1');
  });
});

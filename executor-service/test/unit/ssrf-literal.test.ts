import { expect } from 'chai';
import { ajvFieldErrors, createAjv } from '@tasks/contracts';
import httpRequest from '../../src/tasks/builtin/http-request.task.js';
import { toRegistration } from '../../src/tasks/task-loader.js';

/** The payload validator the store builds from what an executor with this allow list registers. */
function storeValidator(allowHosts: string[]) {
  const schema = toRegistration(httpRequest, { allowHosts }).payloadSchema;
  const validate = createAjv({ strict: false, verbose: true }).compile(schema);
  return (url: string) => {
    const ok = validate({ url });
    return { ok, fields: ajvFieldErrors(validate.errors) };
  };
}

const REFUSED = [
  'http://127.0.0.1/',
  'http://127.0.0.1:8080/x',
  'HTTP://127.0.0.1',
  'http://127.1/',
  'http://2130706433/',
  'http://0x7f.1/',
  'http://0x7f000001/',
  'http://0177.0.0.1/',
  'http://017700000001/',
  'http://127.0.0.1./',
  'http://[::1]/',
  'http://[0:0:0:0:0:0:0:1]:80/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[::]/',
  'http://[fd00::1]/',
  'http://[fe80::1%25eth0]/',
  'http://[2002:7f00:1::]/',
  'http://[2001:db8::127.0.0.1]/',
  'http://localhost/',
  'http://LOCALHOST:9000/',
  'http://localhost./',
  'http://api.localhost/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://172.31.255.255/',
  'http://192.168.1.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://100.64.0.1/',
  'http://0.0.0.0/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://user:pw@127.0.0.1/',
  'http://a@b@10.0.0.1/',
  'http:////127.0.0.1/',
  'http://\\127.0.0.1/',
  'http://127.0.0.%31/',
  'http://8.8.8.8.8/',
  'http://127.0.0.\t1/',
  'http://\n127.0.0.1/',
];

const ACCEPTED = [
  'http://example.com/',
  'https://example.com:8443/path?q=127.0.0.1#10.0.0.1',
  'http://8.8.8.8/',
  'http://1.1.1.1:80/',
  'http://172.32.0.1/',
  'http://100.128.0.1/',
  'http://[2a00:1450:4001:82b::200e]/',
  'http://127.0.0.1@example.com/',
  'http://user%40x:p@example.com/',
  'http://localhost.example.com/',
  'http://bücher.de/',
  'http://host-10.example/',
];

describe('http.request: internal hosts refused at submit (the registered payload schema)', () => {
  const check = storeValidator([]);

  for (const url of REFUSED) {
    it(`when the url is ${url}, then the store refuses it with a message naming internal addresses`, () => {
      const { ok, fields } = check(url);
      expect(ok, url).to.equal(false);
      expect(fields).to.have.length(1);
      expect(fields[0]).to.include({ path: '/url' });
      expect(fields[0]!.message).to.match(/^must not be an internal address/);
    });
  }

  for (const url of ACCEPTED) {
    it(`when the url is ${url}, then it passes (the run-time rules still apply)`, () => {
      expect(check(url).ok, url).to.equal(true);
    });
  }

  it('when a host is allow-listed, then it passes as written there (with its port only)', () => {
    const allow = storeValidator(['127.0.0.1:8080', 'localhost', '[::1]:443']);
    expect(allow('http://127.0.0.1:8080/x').ok).to.equal(true);
    expect(allow('http://127.0.0.1:8081/x').ok).to.equal(false);
    expect(allow('http://127.0.0.1/x').ok).to.equal(false);
    expect(allow('http://localhost:1234/').ok).to.equal(true);
    expect(allow('http://LocalHost/').ok).to.equal(true);
    expect(allow('https://[::1]:443/').ok).to.equal(true);
    expect(allow('http://[::1]:80/').ok).to.equal(false);
    expect(allow('http://127.1:8080/').ok, 'another spelling of an allowed address').to.equal(false);
  });

  it('when no allow list is given (the module as loaded), then the schema has no host rule', () => {
    expect(JSON.stringify(httpRequest.payloadSchema)).to.not.include('internal address');
  });
});

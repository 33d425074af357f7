/**
 * runService, the one bootstrap of the three services, as a process: a bad configuration is one
 * line on stderr and exit 1; SIGTERM stops the service and exits 0, or 1 with the unfinished
 * steps named when its stop ran out of time, or 1 when its stop never returns.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/fake-service.ts', import.meta.url));

interface Ended {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** Starts the fake service; sends SIGTERM once it logged that it is ready (unless it never is). */
async function runFake(env: Record<string, string>): Promise<Ended> {
  const child = spawn(process.execPath, ['--conditions=source', '--import=tsx', FIXTURE], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) {
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      if (line.msg === 'fake ready') child.kill('SIGTERM');
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, lines, stderr };
}

const messages = (e: Ended) => e.lines.map((l) => l.msg);

describe('runService (the services’ bootstrap, as a process)', function () {
  this.timeout(30_000);

  it('when a variable is bad, then it prints one line naming it and exits 1 before starting', async () => {
    const ended = await runFake({ SHUTDOWN_GRACE_MS: 'soon' });
    expect(ended.code).to.equal(1);
    expect(ended.stderr).to.equal('fake: invalid configuration: SHUTDOWN_GRACE_MS must be integer\n');
    expect(messages(ended)).to.not.include('fake ready');
  });

  it('when SIGTERM comes and the stop ends cleanly, then it logs the stop with the service’s fields and exits 0', async () => {
    const ended = await runFake({ FAKE_STOP: 'clean' });
    expect(ended.code).to.equal(0);
    // The same three lines; pino may flush the last two in either order as the process exits.
    expect(messages(ended)[0]).to.equal('fake ready');
    expect(messages(ended)).to.have.members(['fake ready', 'shutting down', 'stopped']);
    expect(ended.lines.find((l) => l.msg === 'shutting down')).to.include({ signal: 'SIGTERM', inFlight: 3 });
  });

  it('when the stop runs out of its grace period, then it names the unfinished step and exits 1', async () => {
    const ended = await runFake({ FAKE_STOP: 'late', SHUTDOWN_GRACE_MS: '200' });
    expect(ended.code).to.equal(1);
    const incomplete = ended.lines.find((l) => l.msg === 'shutdown did not finish cleanly');
    expect(incomplete, JSON.stringify(ended.lines)).to.exist;
    expect(incomplete!.unfinished).to.deep.equal(['close the fake connection']);
  });

  it('when the stop never returns, then it exits 1 after grace period plus the close allowance', async () => {
    const ended = await runFake({ FAKE_STOP: 'hang', SHUTDOWN_GRACE_MS: '200' });
    expect(ended.code).to.equal(1);
    expect(ended.lines.find((l) => l.msg === 'shutdown did not finish; exiting')).to.include({
      graceMs: 200,
    });
    expect(messages(ended)).to.not.include('stopped');
  });
});

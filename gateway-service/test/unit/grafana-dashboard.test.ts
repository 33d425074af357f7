import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { createMetrics as executorMetrics } from '@tasks/executor-service';
import { createMetrics as storeMetrics } from '@tasks/task-store-service';
import { createMetrics as gatewayMetrics } from '../../src/metrics.js';

const DASHBOARD = new URL('../../../docs/grafana/task-system.json', import.meta.url);

interface Panel {
  title?: string;
  type: string;
  datasource?: { uid?: string };
  targets?: { expr: string }[];
}

/** The metric names of our services a PromQL expression reads (histogram series by their family). */
function ourMetrics(expr: string): string[] {
  return [...expr.matchAll(/\b((?:task_store|gateway|executor)_[a-z0-9_]+)\b/g)].map((m) =>
    m[1]!.replace(/_(bucket|sum|count)$/, ''),
  );
}

describe('the Grafana dashboard (docs/grafana/task-system.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[] };
  const queried = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => ourMetrics(t.expr)));

  it('when read, then every metric of ours it queries is registered by the store, the gateway or an executor', async () => {
    const registered = new Set<string>();
    for (const m of [storeMetrics(), gatewayMetrics(), executorMetrics()])
      for (const metric of await m.registry.getMetricsAsJSON()) registered.add(metric.name);
    const missing = [...new Set(queried)].filter((name) => !registered.has(name));
    expect(missing, 'metrics the dashboard queries that no service has').to.deep.equal([]);
    expect(queried.length).to.be.greaterThan(15);
  });

  it('when provisioned, then every panel reads the datasource that deploy/grafana provisions (uid prometheus)', () => {
    const provisioning = readFileSync(
      new URL('../../../deploy/grafana/provisioning/datasources/prometheus.yml', import.meta.url),
      'utf8',
    );
    expect(provisioning).to.match(/uid: prometheus/);
    expect(dashboard.uid).to.equal('task-system');
    for (const p of dashboard.panels.filter((p) => p.type !== 'row'))
      expect(p.datasource?.uid, p.title).to.equal('prometheus');
  });
});

/** A task's webhook deliveries on its page (docs/webhooks.md): state, attempts, last answer, next retry; Redeliver. */
import { api } from './api.js';
import type { WebhookDelivery } from './contracts.js';
import { h, time } from './dom.js';

export const loadDeliveries = (taskId: string) =>
  api<{ items: WebhookDelivery[] }>(`/v1/tasks/${encodeURIComponent(taskId)}/webhooks`).then((r) => r.items);

/** The card; `changed` runs after a redelivery was accepted (the page loads the deliveries again). */
export function webhookCard(
  taskId: string,
  url: string,
  items: readonly WebhookDelivery[] | undefined,
  changed: () => void,
): HTMLElement {
  const message = h('p', { class: 'form-error', role: 'alert', id: 'webhook-error' });
  const redeliver = (d: WebhookDelivery) => {
    const button = h(
      'button',
      { type: 'button', 'data-delivery': d.id, disabled: d.state === 'pending' },
      'Redeliver',
    );
    button.addEventListener('click', () => {
      message.textContent = '';
      const path = `/v1/tasks/${encodeURIComponent(taskId)}/webhooks/${encodeURIComponent(d.id)}/redeliver`;
      api<WebhookDelivery>(path, { method: 'POST', json: {} }).then(changed, (err: unknown) => {
        message.textContent = err instanceof Error ? err.message : String(err);
      });
    });
    return button;
  };
  const columns = ['Reports', 'State', 'Attempts', 'Last answer', 'Next attempt', ''];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'webhooks-title', id: 'webhooks' },
    h('h2', { id: 'webhooks-title' }, 'Webhook deliveries'),
    h('p', {}, 'POSTed to ', h('code', {}, url), ' at every terminal status.'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { 'aria-labelledby': 'webhooks-title', id: 'webhook-deliveries' },
        h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          ...(items === undefined
            ? [h('tr', {}, h('td', { colspan: columns.length }, 'Loading…'))]
            : items.length === 0
              ? [h('tr', {}, h('td', { colspan: columns.length }, 'None yet: the task has not ended.'))]
              : items.map((d) =>
                  h(
                    'tr',
                    { 'data-id': d.id, 'data-state': d.state },
                    h('td', {}, h('span', { class: `status s-${d.status}` }, d.status), ` (v${d.version})`),
                    h('td', {}, h('span', { class: `status w-${d.state}` }, d.state)),
                    h('td', {}, `${d.attempts} of ${d.maxAttempts}`),
                    h(
                      'td',
                      {},
                      d.lastStatusCode === null ? '–' : String(d.lastStatusCode),
                      d.lastError ? ` ${d.lastError}` : '',
                    ),
                    h('td', {}, d.nextAttemptAt ? time(d.nextAttemptAt) : '–'),
                    h('td', {}, redeliver(d)),
                  ),
                )),
        ),
      ),
    ),
    message,
  );
}

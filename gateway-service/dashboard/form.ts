/** The new-task form, generated from the type's payload JSON Schema; server errors shown at fields. */
import { api, ApiError } from './api.js';
import { h, replace } from './dom.js';

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  description?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

export interface TaskType {
  type: string;
  kind: string;
  description?: string;
  payloadSchema?: Schema;
}

const fieldId = (path: string) => `f${path.replaceAll('/', '-')}`;

/** One input per top-level property of a simple type; anything else is edited as JSON. */
function input(path: string, name: string, s: Schema, required: boolean): HTMLElement {
  const id = fieldId(path);
  const errId = `${id}-error`;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  const common = { id, name, 'aria-describedby': errId, 'data-path': path, required };
  let control: HTMLElement;
  if (s.enum) {
    control = h(
      'select',
      common,
      required ? null : h('option', { value: '' }, '(none)'),
      ...s.enum.map((v) => h('option', { value: JSON.stringify(v) }, String(v))),
    );
  } else if (type === 'boolean') {
    control = h('input', { ...common, type: 'checkbox', required: false });
  } else if (type === 'integer' || type === 'number') {
    control = h('input', {
      ...common,
      type: 'number',
      inputmode: 'numeric',
      step: type === 'integer' ? 1 : 'any',
      value: typeof s.default === 'number' ? s.default : undefined,
    });
  } else if (type === 'string') {
    control = h('input', {
      ...common,
      type: 'text',
      value: typeof s.default === 'string' ? s.default : undefined,
    });
  } else {
    control = h('textarea', { ...common, rows: 3, 'data-json': true, placeholder: 'JSON' });
  }
  control.dataset.kind = s.enum ? 'enum' : (type ?? 'json');
  const hint = [
    s.description,
    s.minimum !== undefined && `min ${s.minimum}`,
    s.maximum !== undefined && `max ${s.maximum}`,
  ]
    .filter(Boolean)
    .join(' · ');
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id, class: required ? 'required' : undefined }, name),
    control,
    hint ? h('small', {}, hint) : null,
    h('p', { class: 'field-error', id: errId, role: 'alert' }),
  );
}

function readValue(el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): unknown {
  const kind = el.dataset.kind;
  if (el instanceof HTMLInputElement && el.type === 'checkbox') return el.checked;
  if (el.value === '') return undefined;
  if (kind === 'enum' || kind === 'json') {
    try {
      return JSON.parse(el.value) as unknown;
    } catch {
      return el.value; // sent as typed; the server names what is wrong
    }
  }
  if (kind === 'integer' || kind === 'number') return Number(el.value);
  return el.value;
}

export function taskForm(types: TaskType[], onCreated: (id: string) => void): HTMLElement {
  const fields = h('div', { class: 'fields' });
  const general = h('p', { class: 'form-error', role: 'alert' });
  const typeSelect = h(
    'select',
    { id: 'f-type', name: 'type', required: true, 'aria-describedby': 'f-type-error' },
    ...types.map((t) => h('option', { value: t.type }, t.type)),
  );
  const render = () => {
    const t = types.find((x) => x.type === typeSelect.value);
    const props = t?.payloadSchema?.properties ?? {};
    const req = new Set(t?.payloadSchema?.required ?? []);
    replace(
      fields,
      t?.description ? h('p', { class: 'muted' }, t.description) : null,
      ...Object.entries(props).map(([name, s]) => input(`/payload/${name}`, name, s, req.has(name))),
      input(
        '/priority',
        'priority',
        { type: 'integer', minimum: 0, maximum: 9, description: '9 most urgent; higher starts first' },
        false,
      ),
      input('/maxAttempts', 'maxAttempts', { type: 'integer' }, false),
    );
  };
  typeSelect.addEventListener('change', render);
  render();

  const form = h(
    'form',
    { 'aria-labelledby': 'new-task-title', novalidate: true },
    h('h2', { id: 'new-task-title' }, 'New task'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'f-type' }, 'Task type'),
      typeSelect,
      h('p', { class: 'field-error', id: 'f-type-error', role: 'alert' }),
    ),
    fields,
    general,
    h('button', { type: 'submit' }, 'Submit task'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const p of form.querySelectorAll('.field-error, .form-error')) p.textContent = '';
    for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    const body: Record<string, unknown> = { type: typeSelect.value, payload: {} };
    for (const el of fields.querySelectorAll<HTMLInputElement>('[data-path]')) {
      const v = readValue(el);
      if (v === undefined) continue;
      const [, top, key] = el.dataset.path!.split('/');
      if (top === 'payload') (body.payload as Record<string, unknown>)[key!] = v;
      else body[top!] = v;
    }
    api<{ id: string }>('/v1/tasks', { method: 'POST', json: body }).then(
      (task) => onCreated(task.id),
      (err: unknown) => showErrors(form, general, err),
    );
  });
  return form;
}

function showErrors(form: HTMLFormElement, general: HTMLElement, err: unknown): void {
  if (!(err instanceof ApiError)) {
    general.textContent = `Could not submit: ${String(err)}`;
    return;
  }
  let first: HTMLElement | undefined;
  const unplaced: string[] = [];
  for (const f of err.problem.fields ?? []) {
    // "/payload/ms" → that input; "/payload" (e.g. a missing property) → the field it names.
    const missing = /must have required property '([^']+)'/.exec(f.message)?.[1];
    const path = missing && !f.path.endsWith(`/${missing}`) ? `${f.path}/${missing}` : f.path;
    const control = form.querySelector<HTMLElement>(`[data-path="${CSS.escape(path)}"]`);
    if (!control) {
      unplaced.push(`${f.path}: ${f.message}`);
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    const p = document.getElementById(`${control.id}-error`);
    if (p) p.textContent = f.message;
    first ??= control;
  }
  general.textContent = [err.problem.detail ?? err.message, ...unplaced].join(' — ');
  first?.focus();
}

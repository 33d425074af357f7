// An example task type for TASKS_DIR: counts words in a text. Plain JavaScript, no imports
// needed. Run an executor with TASKS_DIR=examples/tasks to register and serve it.
export default {
  type: 'text.word-count',
  kind: 'io', // 'cpu' would run it in a worker thread instead
  description: 'Counts the words of a text, and the most frequent ones.',
  payloadSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: {
      text: { type: 'string', maxLength: 1000000 },
      top: { type: 'integer', minimum: 1, maximum: 100 },
    },
  },
  resultSchema: { type: 'object', properties: { words: { type: 'integer' }, top: { type: 'array' } } },
  timeoutMs: 10000,
  maxAttempts: 2,
  async handler(payload, ctx) {
    const counts = new Map();
    const words = payload.text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
    words.forEach((w, i) => {
      counts.set(w, (counts.get(w) ?? 0) + 1);
      if (i % 100000 === 0) ctx.progress((100 * i) / words.length);
      if (ctx.signal.aborted) throw ctx.signal.reason;
    });
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, payload.top ?? 5);
    return { words: words.length, top };
  },
};

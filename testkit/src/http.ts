/** HTTP calls from tests: a request whose body may be given as `json`. */

export type JsonRequestInit = RequestInit & { json?: unknown };

/** fetch, with `json` (if given) sent as the body with content-type application/json. */
export function fetchJson(url: string, init: JsonRequestInit = {}): Promise<Response> {
  const { json, ...rest } = init;
  return fetch(url, {
    ...rest,
    headers: {
      ...(json !== undefined && { 'content-type': 'application/json' }),
      ...(rest.headers as Record<string, string>),
    },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
}

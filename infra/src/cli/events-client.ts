/**
 * The `promstream events` client: the query tier's events API read from the
 * command line, one JSON object per line on stdout, so `jq` and scripts take
 * it as it is.
 */

/** Options common to `events query` and `events tail`. */
export interface EventsClientOptions {
  /** Base URL of the query tier, e.g. http://127.0.0.1:9090. */
  url: string;
  match?: string;
  tenant?: string;
  /** Where each line goes (stdout in the command). */
  write: (line: string) => void;
  signal?: AbortSignal;
}

function headers(tenant: string | undefined): Record<string, string> {
  return tenant === undefined ? {} : { 'x-scope-orgid': tenant };
}

async function apiError(res: Response): Promise<Error> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: string };
    return new Error(`events API answered ${res.status}: ${body.error ?? text}`);
  } catch {
    return new Error(`events API answered ${res.status}: ${text.slice(0, 200)}`);
  }
}

/**
 * `events query`: every page of `GET /api/v1/events` in the window, each
 * event a line; `limit` bounds the total (0: all). Returns how many were printed.
 */
export async function queryEvents(
  o: EventsClientOptions & { start?: string; end?: string; limit: number; direction?: string },
): Promise<number> {
  let cursor: string | undefined;
  let printed = 0;
  do {
    const page = o.limit > 0 ? Math.min(5000, o.limit - printed) : 5000;
    const params = new URLSearchParams({ limit: String(page) });
    for (const [k, v] of [
      ['match', o.match],
      ['start', o.start],
      ['end', o.end],
      ['direction', o.direction],
      ['cursor', cursor],
    ] as const)
      if (v !== undefined) params.set(k, v);
    const res = await fetch(`${o.url}/api/v1/events?${params}`, {
      headers: headers(o.tenant),
      signal: o.signal,
    });
    if (!res.ok) throw await apiError(res);
    const body = (await res.json()) as { data: { events: unknown[]; nextCursor?: string } };
    for (const e of body.data.events) o.write(JSON.stringify(e));
    printed += body.data.events.length;
    cursor = body.data.nextCursor;
  } while (cursor !== undefined && (o.limit === 0 || printed < o.limit));
  return printed;
}

/**
 * `events tail`: the events stream, each event a line, until the stream ends
 * or `signal` aborts; `from` resumes at a position (`beginning`, or an id
 * the stream handed out).
 */
export async function tailEvents(o: EventsClientOptions & { from?: string }): Promise<void> {
  const params = new URLSearchParams();
  if (o.match !== undefined) params.set('match', o.match);
  if (o.from !== undefined) params.set('from', o.from);
  const res = await fetch(`${o.url}/api/v1/events/stream?${params}`, {
    headers: headers(o.tenant),
    signal: o.signal,
  });
  if (!res.ok || res.body === null) throw await apiError(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    text += decoder.decode(value, { stream: true });
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const lines = text.slice(0, end).split('\n');
      text = text.slice(end + 2);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      if (event === 'error' && data !== undefined) throw new Error(`the stream ended: ${data}`);
      if (data !== undefined) o.write(data);
      end = text.indexOf('\n\n');
    }
  }
}

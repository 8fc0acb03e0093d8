// Following live: the _tail SSE stream read through fetch, because
// EventSource cannot send an Authorization header. The page keeps the id
// of the last event it got and, when the stream ends or drops, connects
// again with Last-Event-ID so that nothing is missed or repeated.

import { apiURL, authHeaders, toError } from './api.js';

// follow calls onEvent(doc) for each new event matching filter, and
// onStatus(text) as the connection changes, until stop() is called.
export function follow(filter, { onEvent, onStatus }) {
  const ctl = new AbortController();
  let lastId = null;
  let backoff = 250;

  async function once() {
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (lastId != null) headers['Last-Event-ID'] = String(lastId);
    const res = await fetch(apiURL('/api/events/_tail', { from: 'now', filter }), { headers, signal: ctl.signal });
    if (!res.ok) throw await toError(res);
    // Until the first event, resume from where this stream starts (from=now
    // resolved by the server), so that a drop before any event loses none.
    const start = res.headers.get('X-Eventlog-Tail-From');
    if (lastId == null && start) lastId = Number(start) - 1;
    onStatus('following');
    backoff = 250;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        dispatch(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
    }
  }

  // dispatch handles one SSE record: id, event and data lines; comments
  // (": ping") carry nothing.
  function dispatch(record) {
    let id = null, type = 'message', data = '';
    for (const line of record.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trimStart();
    }
    if (!data) return;
    const msg = JSON.parse(data);
    if (type === 'error') {
      // The server ended the stream; resume where it says.
      if (msg.resume_from != null) lastId = msg.resume_from - 1;
      onStatus(`stream ended: ${msg.error}; resuming`);
      return;
    }
    if (id != null) lastId = Number(id);
    onEvent(msg);
  }

  (async () => {
    while (!ctl.signal.aborted) {
      try {
        await once();
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (e.status === 401 || e.status === 403 || e.status === 400) {
          onStatus(`cannot follow: ${e.message}`, e);
          return;
        }
        onStatus(`connection lost (${e.message}); reconnecting`);
      }
      if (ctl.signal.aborted) return;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  })();
  return { stop: () => ctl.abort() };
}

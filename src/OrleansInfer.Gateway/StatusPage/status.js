
'use strict';
// The status page: reads /status/events (server-sent events) through fetch so the API key can go in the
// Authorization header (EventSource cannot send one); polls /status/data when the stream fails. Every value is
// written as text (textContent / setAttribute), never parsed as HTML.
(() => {
  const KEY = 'orleansinfer.apiKey';
  const POLL_MS = 2000;
  const STREAM_RETRY_POLLS = 10;
  const $ = (selector) => document.querySelector(selector);
  const SVG = 'http://www.w3.org/2000/svg';
  let apiKey = sessionStorage.getItem(KEY);
  let generation = 0;
  let controller = null;
  let pollTimer = null;

  const headers = () => (apiKey ? { Authorization: 'Bearer ' + apiKey } : {});

  function element(tag, attributes, text) {
    const e = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) e.setAttribute(name, value);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setConnection(state, detail) {
    const badge = $('[data-role="connection"]');
    badge.textContent = state;
    badge.className = 'badge ' + state;
    badge.title = detail || '';
  }

  function stop() {
    generation++;
    if (controller) controller.abort();
    controller = null;
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  async function refusal(response) {
    try { return (await response.json()).error.message; } catch { return 'HTTP ' + response.status; }
  }

  function needKey(message) {
    stop();
    setConnection('key', message);
    $('[data-role="content"]').hidden = true;
    $('[data-role="key-form"]').hidden = false;
    $('[data-role="forget-key"]').hidden = !apiKey;
    $('[data-role="key-message"]').textContent = apiKey ? message : '';
    $('[data-field="api-key"]').focus();
  }

  // The event stream: "data: JSON" lines, events separated by a blank line.
  async function stream() {
    stop();
    const mine = generation;
    controller = new AbortController();
    setConnection('connecting');
    let response;
    try {
      response = await fetch('/status/events', { headers: headers(), signal: controller.signal, cache: 'no-store' });
    } catch (e) {
      if (mine === generation) poll(0, 'stream failed: ' + e.message);
      return;
    }
    if (response.status === 401) return needKey(await refusal(response));
    if (!response.ok || !response.body) return poll(0, 'stream answered HTTP ' + response.status);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || mine !== generation) break;
        buffer += value.replace(/\r\n/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
          if (data) {
            setConnection('live');
            render(JSON.parse(data));
          }
        }
      }
    } catch (e) {
      if (mine !== generation) return;
    }
    if (mine === generation) poll(0, 'stream ended');
  }

  // Polling: after a number of polls the stream is tried again.
  function poll(count, reason) {
    stop();
    const mine = generation;
    setConnection('polling', reason);
    const once = async () => {
      if (mine !== generation) return;
      if (count++ >= STREAM_RETRY_POLLS) return stream();
      try {
        const response = await fetch('/status/data', { headers: headers(), cache: 'no-store' });
        if (mine !== generation) return;
        if (response.status === 401) return needKey(await refusal(response));
        if (!response.ok) throw new Error('HTTP ' + response.status);
        render(await response.json());
        setConnection('polling', reason);
      } catch (e) {
        if (mine !== generation) return;
        setConnection('down', e.message);
      }
      pollTimer = setTimeout(once, POLL_MS);
    };
    once();
  }

  function number(value, digits) {
    return value === null || value === undefined ? '–' : Number(value).toFixed(digits);
  }

  function sparkline(svg, values) {
    const [width, height] = svg.getAttribute('viewBox').split(' ').slice(2).map(Number);
    const points = values.map((v) => (v === null ? 0 : v));
    const max = Math.max(1, ...points);
    const step = points.length > 1 ? width / (points.length - 1) : 0;
    let line = svg.querySelector('polyline');
    if (!line) line = svg.appendChild(document.createElementNS(SVG, 'polyline'));
    line.setAttribute('points', points.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(' '));
  }

  function setField(row, field, text) {
    const cell = row.querySelector(`[data-field="${field}"]`);
    if (cell.textContent !== text) cell.textContent = text;
  }

  function workerRow(worker) {
    const row = element('tr', { 'data-worker': worker.key });
    row.append(
      element('td', { class: 'key', 'data-field': 'key' }),
      element('td', { class: 'key', 'data-field': 'silo' }),
      element('td', { 'data-field': 'device' }),
      element('td', { 'data-field': 'model' }));
    const kv = element('div', { class: 'kv' });
    const text = element('span');
    text.append(element('span', { 'data-field': 'kv-used' }), ' / ', element('span', { 'data-field': 'kv-total' }),
      ' · free ', element('span', { 'data-field': 'kv-free' }), ' · cached ', element('span', { 'data-field': 'kv-cached' }));
    const bar = element('div', { class: 'bar', 'data-field': 'kv-bar' });
    bar.append(element('div', { class: 'fill' }));
    kv.append(text, bar);
    const kvCell = element('td');
    kvCell.append(kv);
    const spark = document.createElementNS(SVG, 'svg');
    for (const [name, value] of Object.entries({ class: 'spark', viewBox: '0 0 120 24', preserveAspectRatio: 'none', 'data-chart': 'worker' })) {
      spark.setAttribute(name, value);
    }
    const rate = element('div', { class: 'rate' });
    rate.append(element('span', { 'data-field': 'tokens-per-second' }), spark);
    const rateCell = element('td');
    rateCell.append(rate);
    row.append(kvCell, element('td', { class: 'num', 'data-field': 'running' }), element('td', { class: 'num', 'data-field': 'waiting' }),
      rateCell, element('td', { 'data-field': 'state' }));
    return row;
  }

  function renderWorkers(workers) {
    const body = $('[data-role="workers"] tbody');
    const existing = new Map([...body.children].map((row) => [row.getAttribute('data-worker'), row]));
    for (const w of workers) {
      const row = existing.get(w.key) || workerRow(w);
      existing.delete(w.key);
      setField(row, 'key', w.key);
      setField(row, 'silo', w.silo);
      setField(row, 'device', w.device);
      setField(row, 'model', w.model);
      setField(row, 'kv-used', String(w.kv_used_blocks));
      setField(row, 'kv-total', String(w.kv_total_blocks));
      setField(row, 'kv-free', String(w.kv_free_blocks));
      setField(row, 'kv-cached', String(w.kv_cached_blocks));
      const used = w.kv_total_blocks > 0 ? w.kv_used_blocks / w.kv_total_blocks : 0;
      const bar = row.querySelector('[data-field="kv-bar"]');
      bar.className = 'bar' + (used >= 0.95 ? ' full' : used >= 0.8 ? ' high' : '');
      bar.firstChild.style.width = (used * 100).toFixed(1) + '%';
      bar.title = (used * 100).toFixed(1) + '% of the KV cache in use';
      setField(row, 'running', String(w.running));
      setField(row, 'waiting', String(w.waiting));
      setField(row, 'tokens-per-second', number(w.tokens_per_second, 1));
      sparkline(row.querySelector('[data-chart="worker"]'), w.tokens_per_second_history);
      const state = !w.healthy ? 'unhealthy' : w.draining ? 'draining' : 'healthy';
      setField(row, 'state', state);
      const stateCell = row.querySelector('[data-field="state"]');
      stateCell.className = 'state-' + state;
      stateCell.title = w.health_reason || '';
      body.append(row);
    }
    for (const row of existing.values()) row.remove();
    $('[data-role="no-workers"]').hidden = workers.length > 0;
  }

  function renderSilos(silos) {
    const body = $('[data-role="silos"] tbody');
    body.replaceChildren(...silos.map((s) => {
      const row = element('tr', { 'data-silo': s.address });
      row.append(element('td', { class: 'key', 'data-field': 'address' }, s.address),
        element('td', { class: 'num', 'data-field': 'workers' }, String(s.workers)),
        element('td', { class: 'num', 'data-field': 'running' }, String(s.running)),
        element('td', { class: 'num', 'data-field': 'waiting' }, String(s.waiting)),
        element('td', { class: 'num', 'data-field': 'tokens-per-second' }, number(s.tokens_per_second, 1)));
      return row;
    }));
  }

  function renderRequests(requests) {
    const body = $('[data-role="requests"] tbody');
    body.replaceChildren(...requests.map((r) => {
      const row = element('tr', { 'data-request': '' });
      const time = element('time', { datetime: r.finished }, new Date(r.finished).toLocaleTimeString());
      const finished = element('td', { 'data-field': 'finished' });
      finished.append(time);
      const outcome = r.error_type ? element('td', { class: 'error', 'data-field': 'finish' }, 'error: ' + r.error_type)
        : element('td', { 'data-field': 'finish' }, r.finish_reason || '–');
      row.append(finished, element('td', { 'data-field': 'model' }, r.model), element('td', { 'data-field': 'operation' }, r.operation),
        element('td', { class: 'num', 'data-field': 'prompt-tokens' }, String(r.prompt_tokens)),
        element('td', { class: 'num', 'data-field': 'output-tokens' }, String(r.output_tokens)),
        element('td', { class: 'num', 'data-field': 'ttft-ms' }, number(r.ttft_ms, 1)),
        element('td', { class: 'num', 'data-field': 'tpot-ms' }, number(r.tpot_ms, 1)),
        element('td', { class: 'num', 'data-field': 'duration-ms' }, number(r.duration_ms, 1)), outcome);
      return row;
    }));
    $('[data-role="no-requests"]').hidden = requests.length > 0;
  }

  function render(data) {
    $('[data-role="key-form"]').hidden = true;
    $('[data-role="content"]').hidden = false;
    $('[data-role="forget-key"]').hidden = !apiKey;
    const error = $('[data-role="error"]');
    error.hidden = !data.cluster_error;
    error.textContent = data.cluster_error ? 'The cluster could not be read: ' + data.cluster_error : '';
    $('[data-role="updated"]').textContent = 'updated ' + new Date(data.generated_at).toLocaleTimeString();
    $('[data-role="version"]').textContent = data.version;
    $('[data-role="window"]').textContent = `(last ${Math.round(data.throughput.window_seconds / 60)} min)`;
    const link = $('[data-role="dashboard-link"]');
    const dashboard = typeof data.dashboard_path === 'string' && /^\/[^/]/.test(data.dashboard_path) ? data.dashboard_path : null;
    link.hidden = !dashboard;
    if (dashboard) link.setAttribute('href', dashboard);
    link.title = apiKey ? 'The dashboard needs the key in an Authorization header on every request' : '';
    for (const [name, value] of Object.entries({ silos: data.totals.silos, workers: data.totals.workers, running: data.totals.running, waiting: data.totals.waiting })) {
      $(`[data-total="${name}"]`).textContent = String(value);
    }
    $('[data-total="tokens-per-second"]').textContent = number(data.totals.tokens_per_second, 1);
    sparkline($('[data-chart="total"]'), data.throughput.total);
    renderSilos(data.silos);
    renderWorkers(data.workers);
    renderRequests(data.recent_requests);
  }

  $('[data-role="key-form"]').addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey = $('[data-field="api-key"]').value.trim();
    sessionStorage.setItem(KEY, apiKey);
    $('[data-field="api-key"]').value = '';
    stream();
  });
  $('[data-role="forget-key"]').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    apiKey = null;
    stream();
  });
  stream();
})();

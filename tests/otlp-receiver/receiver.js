#!/usr/bin/env node
// A small OTLP/HTTP receiver for the end-to-end observability tests. It decodes with the OpenTelemetry project's own
// generated protobuf code (@opentelemetry/otlp-transformer 0.57.2, a protobufjs static module), so what it reports is
// what an OTLP backend would see, and writes each span and metric data point as one JSON line.
//
//   node receiver.js --port 0 --spans spans.jsonl --metrics metrics.jsonl [--exit-with-stdin]
//
// Prints `listening PORT` on stdout once it accepts connections. POST /v1/traces, /v1/metrics and /v1/logs take
// application/x-protobuf (gzip or not) and answer 200 with the empty Export*ServiceResponse; GET /spans and
// GET /metrics answer what was received so far as a JSON array. With --exit-with-stdin it exits when its standard
// input closes, so it never outlives a test process that died without cleaning up.
'use strict';

const fs = require('fs');
const http = require('http');
const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const { toSpanLines, toMetricLines } = require('./convert.js');

const proto = root.opentelemetry.proto;
const MAX_BODY = 64 * 1024 * 1024;

function parseArgs(argv) {
  const args = { port: null, spans: null, metrics: null, exitWithStdin: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') args.port = Number(argv[++i]);
    else if (a === '--spans') args.spans = argv[++i];
    else if (a === '--metrics') args.metrics = argv[++i];
    else if (a === '--exit-with-stdin') args.exitWithStdin = true;
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) usage('--port must be a TCP port (0 = a free one)');
  if (!args.spans || !args.metrics) usage('--spans FILE and --metrics FILE are required');
  return args;
}

function usage(message) {
  process.stderr.write(`otlp-receiver: ${message}\nusage: node receiver.js --port PORT --spans FILE --metrics FILE [--exit-with-stdin]\n`);
  process.exit(2);
}

const args = parseArgs(process.argv.slice(2));
const spans = [];
const metrics = [];
const counts = { traces: 0, metrics: 0, logs: 0 };

// Each signal: the request type to decode, the response type to answer with, and what to do with a decoded request.
const signals = {
  '/v1/traces': {
    request: proto.collector.trace.v1.ExportTraceServiceRequest,
    response: proto.collector.trace.v1.ExportTraceServiceResponse,
    accept(message) {
      const lines = toSpanLines(message);
      spans.push(...lines);
      append(args.spans, lines);
      counts.traces++;
    },
  },
  '/v1/metrics': {
    request: proto.collector.metrics.v1.ExportMetricsServiceRequest,
    response: proto.collector.metrics.v1.ExportMetricsServiceResponse,
    accept(message) {
      const lines = toMetricLines(message);
      metrics.push(...lines);
      append(args.metrics, lines);
      counts.metrics++;
    },
  },
  '/v1/logs': {
    request: proto.collector.logs.v1.ExportLogsServiceRequest,
    response: proto.collector.logs.v1.ExportLogsServiceResponse,
    accept() {
      counts.logs++; // accepted so an exporter of logs is not answered with errors; the tests do not look at logs
    },
  },
};

function append(file, lines) {
  if (lines.length > 0) fs.appendFileSync(file, lines.map((l) => JSON.stringify(l) + '\n').join(''));
}

function reply(res, status, contentType, body) {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error(`body over ${MAX_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && path === '/spans') return reply(res, 200, 'application/json', JSON.stringify(spans));
  if (req.method === 'GET' && path === '/metrics') return reply(res, 200, 'application/json', JSON.stringify(metrics));
  if (req.method === 'GET' && path === '/counts') return reply(res, 200, 'application/json', JSON.stringify(counts));
  const signal = signals[path];
  if (!signal) return reply(res, 404, 'text/plain', `no route ${req.method} ${path}\n`);
  if (req.method !== 'POST') return reply(res, 405, 'text/plain', `${path} takes POST\n`);
  const type = (req.headers['content-type'] || '').split(';')[0].trim();
  if (type !== 'application/x-protobuf') return reply(res, 415, 'text/plain', `expected application/x-protobuf, got ${type || 'none'}\n`);
  let body = await readBody(req);
  if ((req.headers['content-encoding'] || '').toLowerCase() === 'gzip') body = zlib.gunzipSync(body);
  let message;
  try {
    message = signal.request.decode(body);
  } catch (e) {
    process.stderr.write(`otlp-receiver: ${path}: undecodable body (${body.length} bytes): ${e.message}\n`);
    return reply(res, 400, 'text/plain', `undecodable ${path} body: ${e.message}\n`);
  }
  signal.accept(message);
  const answer = Buffer.from(signal.response.encode({}).finish());
  res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': answer.length });
  res.end(answer);
}

fs.writeFileSync(args.spans, '');
fs.writeFileSync(args.metrics, '');
const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    process.stderr.write(`otlp-receiver: ${req.method} ${req.url}: ${e.stack || e}\n`);
    if (!res.headersSent) reply(res, 500, 'text/plain', `${e.message}\n`);
    else res.destroy();
  });
});
server.listen(args.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
server.on('error', (e) => {
  process.stderr.write(`otlp-receiver: ${e.message}\n`);
  process.exit(1);
});

if (args.exitWithStdin) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

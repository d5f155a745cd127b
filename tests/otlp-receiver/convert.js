// Turns decoded OTLP export requests (protobufjs message objects of OpenTelemetry's generated code) into plain JSON
// records: one per span, one per metric data point.
'use strict';

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];

function hex(bytes) {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : null;
}

// A 64-bit protobuf integer (a Long, a number or a string) as a string, so nanosecond times and counters stay exact.
function int64(value) {
  return value === undefined || value === null ? null : value.toString();
}

function anyValue(v) {
  if (!v) return null;
  switch (v.value) {
    case 'stringValue': return v.stringValue;
    case 'boolValue': return v.boolValue;
    case 'intValue': {
      const n = Number(v.intValue.toString());
      return Number.isSafeInteger(n) ? n : v.intValue.toString();
    }
    case 'doubleValue': return v.doubleValue;
    case 'arrayValue': return (v.arrayValue.values || []).map(anyValue);
    case 'kvlistValue': return attributes(v.kvlistValue.values);
    case 'bytesValue': return Buffer.from(v.bytesValue).toString('base64');
    default: return null;
  }
}

function attributes(list) {
  const result = {};
  for (const kv of list || []) result[kv.key] = anyValue(kv.value);
  return result;
}

function scopeOf(s) {
  return s.scope ? { name: s.scope.name || '', version: s.scope.version || '' } : { name: '', version: '' };
}

/** One record per span of an ExportTraceServiceRequest. */
function toSpanLines(request) {
  const lines = [];
  for (const rs of request.resourceSpans || []) {
    const resource = attributes(rs.resource && rs.resource.attributes);
    for (const ss of rs.scopeSpans || []) {
      const scope = scopeOf(ss);
      for (const span of ss.spans || []) {
        lines.push({
          trace_id: hex(span.traceId),
          span_id: hex(span.spanId),
          parent_span_id: hex(span.parentSpanId),
          name: span.name,
          kind: KINDS[span.kind] || String(span.kind),
          'service.name': resource['service.name'] ?? null,
          scope: scope.name,
          start_time_unix_nano: int64(span.startTimeUnixNano),
          end_time_unix_nano: int64(span.endTimeUnixNano),
          status: { code: STATUS[(span.status && span.status.code) || 0], message: (span.status && span.status.message) || '' },
          attributes: attributes(span.attributes),
          events: (span.events || []).map((e) => ({ name: e.name, time_unix_nano: int64(e.timeUnixNano), attributes: attributes(e.attributes) })),
          links: (span.links || []).map((l) => ({ trace_id: hex(l.traceId), span_id: hex(l.spanId), attributes: attributes(l.attributes) })),
          resource,
        });
      }
    }
  }
  return lines;
}

// The data points of a metric, whatever its type, with the type's name and a summary of each point's value.
function points(metric) {
  for (const type of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) {
    const data = metric[type];
    if (!data) continue;
    return (data.dataPoints || []).map((p) => ({ type, point: p }));
  }
  return [];
}

function pointValue(type, p) {
  if (type === 'gauge' || type === 'sum') return p.value === 'asInt' ? Number(p.asInt.toString()) : p.asDouble;
  return { count: Number(int64(p.count)), sum: p.sum ?? null };
}

/** One record per data point of an ExportMetricsServiceRequest. */
function toMetricLines(request) {
  const lines = [];
  for (const rm of request.resourceMetrics || []) {
    const resource = attributes(rm.resource && rm.resource.attributes);
    for (const sm of rm.scopeMetrics || []) {
      const scope = scopeOf(sm);
      for (const metric of sm.metrics || []) {
        for (const { type, point } of points(metric)) {
          lines.push({
            name: metric.name,
            unit: metric.unit || '',
            type,
            'service.name': resource['service.name'] ?? null,
            scope: scope.name,
            attributes: attributes(point.attributes),
            value: pointValue(type, point),
            time_unix_nano: int64(point.timeUnixNano),
          });
        }
      }
    }
  }
  return lines;
}

module.exports = { toSpanLines, toMetricLines };

// Cross-object checks: every selector selects something rendered with it, every named port exists, scraping is
// configured for silos and gateways (annotations or a ServiceMonitor), KEDA scales a rendered workload that leaves
// its replica count alone, the silos' service account may watch and delete pods, and `helm test` Pods call /ready
// on the gateway and silo Services.
import { name, isWorkload, roles } from "./workloads.mjs";

const matches = (labels = {}, selector = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

function matchesSelector(labels = {}, { matchLabels = {}, matchExpressions = [] } = {}) {
  return matches(labels, matchLabels) && matchExpressions.every(({ key, operator, values = [] }) =>
    operator === "In" ? values.includes(labels[key]) : operator === "NotIn" ? !values.includes(labels[key])
      : operator === "Exists" ? key in labels : !(key in labels));
}

const podLabels = (w) => w.spec.template.metadata?.labels ?? {};
const containerPorts = (w) => (w.spec.template.spec?.containers ?? []).flatMap((c) => c.ports ?? []);

function checkServices(objects, workloads, fail) {
  for (const s of objects.filter((o) => o.kind === "Service" && o.spec?.selector)) {
    const selected = workloads.filter((w) => matches(podLabels(w), s.spec.selector));
    if (selected.length === 0) { fail(s, `selector ${JSON.stringify(s.spec.selector)} selects no rendered pod template`); continue; }
    for (const p of s.spec.ports ?? []) {
      const target = p.targetPort ?? p.port;
      const ok = selected.every((w) => containerPorts(w).some((c) => (typeof target === "number" ? c.containerPort === target : c.name === target)));
      if (!ok) fail(s, `port ${p.name ?? p.port}: targetPort ${target} is not a container port of ${selected.map(name).join(", ")}`);
    }
  }
  for (const w of workloads.filter((o) => o.kind === "StatefulSet"))
    if (!objects.some((o) => o.kind === "Service" && o.metadata?.name === w.spec.serviceName && o.spec?.clusterIP === "None"))
      fail(w, `serviceName ${w.spec.serviceName} is not a headless Service of this render`);
}

function checkBudgetsAndScaling(objects, workloads, fail) {
  for (const p of objects.filter((o) => o.kind === "PodDisruptionBudget"))
    if (!workloads.some((w) => matchesSelector(podLabels(w), p.spec?.selector)))
      fail(p, "selector selects no rendered pod template");
  for (const s of objects.filter((o) => o.kind === "ScaledObject")) {
    const ref = s.spec.scaleTargetRef;
    const target = workloads.find((w) => w.kind === (ref.kind ?? "Deployment") && w.metadata.name === ref.name);
    if (!target) { fail(s, `scaleTargetRef ${ref.kind ?? "Deployment"}/${ref.name} is not rendered`); continue; }
    if ((ref.apiVersion ?? "apps/v1") !== target.apiVersion) fail(s, `scaleTargetRef apiVersion ${ref.apiVersion} is not ${target.apiVersion}`);
    if (target.spec.replicas !== undefined) fail(target, `sets spec.replicas while ${name(s)} scales it (every upgrade would reset the count)`);
    if ((s.spec.minReplicaCount ?? 0) > (s.spec.maxReplicaCount ?? 100)) fail(s, "minReplicaCount exceeds maxReplicaCount");
    if (roles([target]).some((r) => r.role === "silo") && (s.spec.minReplicaCount ?? 0) < 1)
      fail(s, "minReplicaCount must be at least 1: the queue-depth metric comes from the silos");
  }
}

function checkScraping(objects, workloads, fail) {
  const monitors = objects.filter((o) => o.kind === "ServiceMonitor");
  const services = objects.filter((o) => o.kind === "Service");
  for (const m of monitors) {
    const selected = services.filter((s) => matchesSelector(s.metadata?.labels, m.spec.selector));
    if (selected.length === 0) { fail(m, "selector selects no rendered Service"); continue; }
    for (const e of m.spec.endpoints) {
      if (e.port && !selected.some((s) => (s.spec.ports ?? []).some((p) => p.name === e.port)))
        fail(m, `endpoint port ${e.port} is not a port name of ${selected.map(name).join(", ")}`);
      if ((e.path ?? "/metrics") !== "/metrics") fail(m, `endpoint path ${e.path}, want /metrics`);
    }
  }
  const monitored = (w) => monitors.some((m) => services.some((s) => s.spec?.selector && matches(podLabels(w), s.spec.selector)
    && matchesSelector(s.metadata?.labels, m.spec.selector)));
  for (const w of workloads) {
    const a = w.spec.template.metadata?.annotations ?? {};
    if (a["prometheus.io/scrape"] === "true") {
      if (!containerPorts(w).some((p) => String(p.containerPort) === a["prometheus.io/port"]))
        fail(w, `prometheus.io/port ${a["prometheus.io/port"]} is not a container port`);
      if ((a["prometheus.io/path"] ?? "/metrics") !== "/metrics") fail(w, `prometheus.io/path ${a["prometheus.io/path"]}, want /metrics`);
    } else if (roles([w]).length > 0 && !monitored(w)) fail(w, "not scraped: no prometheus.io/scrape annotation and no ServiceMonitor selects its Service");
  }
}

function checkRbac(objects, fail) {
  for (const { object } of roles(objects).filter((r) => r.role === "silo")) {
    const account = object.spec.template.spec.serviceAccountName;
    if (!objects.some((o) => o.kind === "ServiceAccount" && o.metadata.name === account)) { fail(object, `serviceAccountName ${account} is not rendered`); continue; }
    const granted = objects.filter((o) => o.kind === "RoleBinding" && (o.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === account))
      .map((b) => objects.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name))
      .flatMap((r) => r?.rules ?? []).filter((r) => (r.resources ?? []).includes("pods")).flatMap((r) => r.verbs ?? []);
    for (const verb of ["get", "list", "watch", "delete"])
      if (!granted.includes(verb)) fail(object, `service account ${account} may not ${verb} pods (Kubernetes hosting needs get, list, watch, delete)`);
  }
}

function checkTests(objects, fail, errors, expectTests) {
  const tests = objects.filter((o) => o.kind === "Pod" && String(o.metadata?.annotations?.["helm.sh/hook"] ?? "").split(",").includes("test"));
  if (!expectTests) return;
  const services = objects.filter((o) => o.kind === "Service");
  const covered = new Set();
  for (const t of tests) {
    if (t.spec.restartPolicy !== "Never") fail(t, "a test Pod needs restartPolicy Never");
    const words = (t.spec.containers ?? []).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]);
    const url = words.map((w) => /^https?:\/\/([^/:]+):(\d+)(\/\S*)$/.exec(w)).find(Boolean);
    if (!url) { fail(t, "calls no http://HOST:PORT/PATH URL"); continue; }
    const [, host, port, path] = url;
    if (path !== "/ready") fail(t, `calls ${path}, want /ready`);
    const service = services.find((s) => host.split(".").includes(s.metadata.name));
    if (!service) { fail(t, `host ${host} names no rendered Service`); continue; }
    if (!(service.spec.ports ?? []).some((p) => p.port === Number(port))) fail(t, `port ${port} is not a port of ${name(service)}`);
    const selected = objects.filter(isWorkload).filter((w) => service.spec.selector && matches(podLabels(w), service.spec.selector));
    for (const r of roles(selected)) covered.add(r.role);
  }
  for (const role of ["gateway", "silo"])
    if (!covered.has(role)) errors.push(`(render): no helm test Pod (helm.sh/hook: test) calls /ready on the ${role}`);
}

/** Cross-object errors of one render. */
export function checkReferences(objects, { expectTests }) {
  const errors = [];
  const fail = (o, m) => errors.push(`${name(o)}: ${m}`);
  const seen = new Set();
  for (const o of objects) {
    const key = `${o.apiVersion}/${name(o)}`;
    if (seen.has(key)) errors.push(`${name(o)}: rendered twice`);
    seen.add(key);
  }
  const workloads = objects.filter(isWorkload);
  checkServices(objects, workloads, fail);
  checkBudgetsAndScaling(objects, workloads, fail);
  checkScraping(objects, workloads, fail);
  checkRbac(objects, fail);
  checkTests(objects, fail, errors, expectTests);
  return errors;
}

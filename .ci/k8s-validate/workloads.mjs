// What the rendered silo and gateway workloads must say, beyond their schemas: probes on the endpoints the hosts
// serve (/ready for startup and readiness, /health for liveness) on the port the host listens on, a termination
// grace longer than the drain, Kubernetes hosting's downward-API wiring, and gateways and silos agreeing on the
// membership Redis and the cluster id. The defaults below are the hosts' own (SiloOptions, GatewayOptions).

export const SILO_HOST_SHUTDOWN_EXTRA = 15; // OrleansInferSilo: HostOptions.ShutdownTimeout = DrainTimeout + 15 s
export const ASPNET_SHUTDOWN = 30; // the gateway host's default shutdown timeout (s)
const DEFAULT_CLUSTER_ID = "orleans-infer";
const DEFAULT_DRAIN = 20;

/** Where an object came from (helm's "# Source:" comment), kept out of its fields. */
export const SOURCE = Symbol("source");
export const name = (o) => `${o.kind}/${o.metadata?.name}${o[SOURCE] ? ` (${o[SOURCE]})` : ""}`;
export const isWorkload = (o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.spec?.template;

/** The workloads running `orleans-infer silo` / `gateway`, with their container. */
export function roles(objects) {
  const found = [];
  for (const o of objects.filter(isWorkload))
    for (const c of o.spec.template.spec?.containers ?? []) {
      const verb = (c.args ?? [])[0];
      if (verb === "silo" || verb === "gateway") found.push({ role: verb, object: o, container: c });
    }
  return found;
}

function arg(container, flag) {
  const args = container.args ?? [];
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

const env = (container, key) => (container.env ?? []).find((e) => e.name === key);

/** TimeSpan text ([d.]hh:mm:ss[.fff]) in seconds, or NaN. */
function timeSpanSeconds(text) {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(String(text));
  if (!m || Number(m[3]) > 59 || Number(m[4]) >= 60) return NaN;
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

function portNumber(container, port) {
  if (typeof port === "number") return port;
  return (container.ports ?? []).find((p) => p.name === port)?.containerPort;
}

function checkProbes(role, container, httpPort, fail) {
  const wanted = { readinessProbe: "/ready", livenessProbe: "/health", startupProbe: "/ready" };
  const required = role === "silo" ? Object.keys(wanted) : ["readinessProbe", "livenessProbe"];
  for (const [probe, path] of Object.entries(wanted)) {
    const p = container[probe];
    if (!p) {
      if (required.includes(probe)) fail(`container ${container.name}: no ${probe} (want httpGet ${path})`);
      continue;
    }
    if (!p.httpGet) { fail(`container ${container.name}: ${probe} is not an httpGet on ${path}`); continue; }
    if (p.httpGet.path !== path) fail(`container ${container.name}: ${probe} checks ${p.httpGet.path ?? "/"}, want ${path}`);
    const port = portNumber(container, p.httpGet.port);
    if (port === undefined) fail(`container ${container.name}: ${probe} port ${p.httpGet.port} is not a port of the container`);
    else if (port !== httpPort) fail(`container ${container.name}: ${probe} probes port ${port}, but the ${role} serves HTTP on ${httpPort}`);
  }
  if (!(container.ports ?? []).some((p) => p.containerPort === httpPort))
    fail(`container ${container.name}: HTTP port ${httpPort} is not among its ports`);
}

function fieldRef(container, key) {
  return env(container, key)?.valueFrom?.fieldRef?.fieldPath;
}

/** Silo: HTTP port, grace vs drain, Kubernetes hosting; returns {redis, clusterId, summary}. */
function checkSilo(object, container, fail) {
  const pod = object.spec.template;
  const httpPort = Number(env(container, "OrleansInfer__HttpPort")?.value);
  if (!Number.isInteger(httpPort)) fail("container silo: OrleansInfer__HttpPort is not set: the silo would serve no /health, /ready or /metrics");
  else checkProbes("silo", container, httpPort, fail);
  if (env(container, "OrleansInfer__HttpHost")?.value !== "0.0.0.0")
    fail("container silo: OrleansInfer__HttpHost is not 0.0.0.0: the kubelet's probes could not reach the silo's HTTP port");

  const drainArg = arg(container, "--drain-timeout");
  const drainEnv = env(container, "OrleansInfer__DrainTimeout")?.value;
  const drain = drainArg !== undefined ? Number(drainArg) : drainEnv !== undefined ? timeSpanSeconds(drainEnv) : DEFAULT_DRAIN;
  if (!Number.isFinite(drain)) fail(`container silo: unreadable drain timeout ${drainArg ?? drainEnv}`);
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
  if (!(grace > drain + SILO_HOST_SHUTDOWN_EXTRA))
    fail(`terminationGracePeriodSeconds ${grace} must exceed the drain timeout ${drain} s plus the ${SILO_HOST_SHUTDOWN_EXTRA} s the silo host allows for the rest of its stop`);

  const clustering = (arg(container, "--clustering") ?? env(container, "OrleansInfer__Clustering")?.value ?? "localhost").toLowerCase();
  if (clustering !== "kubernetes") fail(`container silo: clustering is ${clustering}, want kubernetes`);
  for (const [key, path] of [["POD_NAME", "metadata.name"], ["POD_NAMESPACE", "metadata.namespace"], ["POD_IP", "status.podIP"]])
    if (fieldRef(container, key) !== path) fail(`container silo: ${key} must come from the downward API (${path}) for Kubernetes hosting`);
  const labels = pod.metadata?.labels ?? {};
  if (labels["orleans/serviceId"] !== DEFAULT_CLUSTER_ID)
    fail(`pod label orleans/serviceId is ${labels["orleans/serviceId"]}, want ${DEFAULT_CLUSTER_ID} (the service id gateways connect with)`);
  if (!labels["orleans/clusterId"]) fail("pod label orleans/clusterId is missing (Kubernetes hosting selects its silos' pods by it)");
  // Kubernetes hosting takes the ids from ORLEANS_*_ID when set; the silo's own setting is overridden then.
  const fromLabel = (key) => /^metadata\.labels\['(.+)'\]$/.exec(fieldRef(container, key) ?? "")?.[1];
  const labelKey = fromLabel("ORLEANS_CLUSTER_ID");
  const configured = arg(container, "--cluster-id") ?? env(container, "OrleansInfer__ClusterId")?.value;
  const clusterId = labelKey ? labels[labelKey] : env(container, "ORLEANS_CLUSTER_ID")?.value ?? configured ?? DEFAULT_CLUSTER_ID;
  if (configured !== undefined && configured !== clusterId)
    fail(`container silo: cluster id ${configured} differs from ORLEANS_CLUSTER_ID ${clusterId}`);
  if (labels["orleans/clusterId"] && labels["orleans/clusterId"] !== clusterId)
    fail(`pod label orleans/clusterId ${labels["orleans/clusterId"]} differs from the silo's cluster id ${clusterId}`);
  const serviceKey = fromLabel("ORLEANS_SERVICE_ID");
  if (serviceKey && labels[serviceKey] !== DEFAULT_CLUSTER_ID) fail(`ORLEANS_SERVICE_ID resolves to ${labels[serviceKey]}, want ${DEFAULT_CLUSTER_ID}`);

  const redis = arg(container, "--redis") ?? env(container, "OrleansInfer__Redis")?.value;
  if (!redis) fail("container silo: no membership Redis (--redis or OrleansInfer__Redis)");
  const startup = container.startupProbe ?? {};
  const startupWindow = (startup.initialDelaySeconds ?? 0) + (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3);
  return { redis, clusterId, summary: `probes ok, grace ${grace} s > drain ${drain} s + ${SILO_HOST_SHUTDOWN_EXTRA} s, model-load window ${startupWindow} s` };
}

/** Gateway: HTTP port and host, grace vs preStop; returns {redis, clusterId, summary}. */
function checkGateway(object, container, fail) {
  const httpPort = Number(arg(container, "--port") ?? env(container, "OrleansInfer__Gateway__Port")?.value ?? 8000);
  checkProbes("gateway", container, httpPort, fail);
  if ((arg(container, "--host") ?? env(container, "OrleansInfer__Gateway__Host")?.value) !== "0.0.0.0")
    fail("container gateway: --host is not 0.0.0.0: the gateway would listen on loopback only");
  const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const grace = object.spec.template.spec.terminationGracePeriodSeconds ?? 30;
  if (!(grace > preStop + ASPNET_SHUTDOWN))
    fail(`terminationGracePeriodSeconds ${grace} must exceed the preStop sleep ${preStop} s plus the host's ${ASPNET_SHUTDOWN} s shutdown timeout`);

  const cluster = arg(container, "--cluster");
  let redis, clusterId = DEFAULT_CLUSTER_ID;
  if (cluster === "kubernetes") redis = arg(container, "--redis") ?? env(container, "OrleansInfer__Redis")?.value;
  else if (cluster?.startsWith("redis://")) [redis, clusterId = DEFAULT_CLUSTER_ID] = cluster.slice(8).replace(/\/$/, "").split("/");
  else fail(`container gateway: --cluster ${cluster} is neither kubernetes nor redis://HOST:PORT[/CLUSTER_ID]`);
  if (cluster === "kubernetes" && !redis) fail("container gateway: --cluster kubernetes without --redis or OrleansInfer__Redis");
  return { redis, clusterId, summary: `probes ok, grace ${grace} s > preStop ${preStop} s + ${ASPNET_SHUTDOWN} s` };
}

/** Checks every silo and gateway workload; returns {errors, notes}. */
export function checkWorkloads(objects) {
  const errors = [], notes = [];
  const found = roles(objects);
  const silos = found.filter((r) => r.role === "silo"), gateways = found.filter((r) => r.role === "gateway");
  if (silos.length !== 1) errors.push(`(render): want exactly one silo workload (container args "silo ..."), found ${silos.length}`);
  if (gateways.length < 1) errors.push("(render): no gateway workload (container args \"gateway ...\")");
  const services = new Set(objects.filter((o) => o.kind === "Service").map((o) => o.metadata?.name));
  const endpoints = [];
  for (const { role, object, container } of found) {
    const fail = (m) => errors.push(`${name(object)}: ${m}`);
    if (role === "silo" && object.kind !== "StatefulSet") fail("silos run as a StatefulSet (stable pod names are silo names)");
    const result = role === "silo" ? checkSilo(object, container, fail) : checkGateway(object, container, fail);
    endpoints.push({ role, object, ...result });
    notes.push(`${object.kind}/${object.metadata?.name} (${role}): ${result.summary}`);
    const host = result.redis?.split(":")[0];
    if (host && !host.includes(".") && !services.has(host)) fail(`membership Redis ${result.redis}: no Service named ${host} in this render`);
  }
  const silo = endpoints.find((e) => e.role === "silo");
  for (const g of endpoints.filter((e) => e.role === "gateway")) {
    if (!silo) break;
    if (g.redis !== silo.redis) errors.push(`${name(g.object)}: membership Redis ${g.redis} differs from the silos' ${silo.redis}`);
    if (g.clusterId !== silo.clusterId) errors.push(`${name(g.object)}: cluster id ${g.clusterId} differs from the silos' ${silo.clusterId}`);
  }
  return { errors, notes };
}

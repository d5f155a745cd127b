#!/usr/bin/env node
// Validates one rendered set of manifests (helm template or kubectl kustomize output), offline:
//   node validate.mjs --label "helm ci/gpu-values.yaml" [--expect-tests] rendered.yaml
// Each object against its schema (kubernetes-models 5.1.0 for built-in kinds, with unknown fields rejected;
// crds/*.schema.json for ServiceMonitor and ScaledObject), then the silo/gateway rules (workloads.mjs) and the
// cross-object references (references.mjs). Prints one line per error naming the object; exits 1 on any.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { validateObject } from "./schemas.mjs";
import { checkWorkloads, name, SOURCE } from "./workloads.mjs";
import { checkReferences } from "./references.mjs";

const argv = process.argv.slice(2);
const option = (flag) => { const i = argv.indexOf(flag); return i >= 0 ? argv.splice(i, 2)[1] : undefined; };
const label = option("--label") ?? "manifests";
const expectTests = argv.includes("--expect-tests") && argv.splice(argv.indexOf("--expect-tests"), 1);
const file = argv[0] ?? "/dev/stdin";

const errors = [];
const objects = [];
for (const doc of parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true })) {
  const source = /Source: (\S+)/.exec(`${doc.commentBefore ?? ""} ${doc.contents?.commentBefore ?? ""}`)?.[1];
  for (const e of doc.errors) errors.push(`${source ?? file}: YAML: ${e.message}`);
  const object = doc.toJS();
  if (object === null || object === undefined) continue;
  const schemaErrors = await validateObject(object);
  if (source && object && typeof object === "object") object[SOURCE] = source;
  for (const e of schemaErrors) errors.push(`${name(object)}: ${e}`);
  objects.push(object);
}
if (objects.length === 0) errors.push("(render): no objects");

const { errors: workloadErrors, notes } = checkWorkloads(objects);
errors.push(...workloadErrors, ...checkReferences(objects, { expectTests: Boolean(expectTests) }));

const kinds = Object.entries(objects.reduce((n, o) => ({ ...n, [o.kind]: (n[o.kind] ?? 0) + 1 }), {}))
  .map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join(", ");
if (errors.length > 0) {
  console.error(`FAIL ${label}: ${errors.length} error(s) in ${objects.length} objects`);
  for (const e of errors) console.error(`  ${e}`);
  process.exit(1);
}
console.log(`ok   ${label}: ${objects.length} objects valid (${kinds})`);
for (const n of notes) console.log(`       ${n}`);

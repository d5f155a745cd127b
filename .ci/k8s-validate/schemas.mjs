// Schema validation of one rendered object: built-in kinds through kubernetes-models (required fields, types,
// enums, formats) plus the unknown-field check; the custom resources the chart renders through our own small JSON
// Schemas (crds/*.schema.json), their metadata as ObjectMeta and KEDA's HPA behaviour as the built-in type.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import AjvModule from "ajv";
import { ObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";
import { HorizontalPodAutoscalerBehavior } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior";
import { unknownFields, declarationOf, objectMetaDeclaration } from "./strict.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const Ajv = AjvModule.default ?? AjvModule;
// strictRequired off: `required` inside if/then and anyOf names properties declared beside them.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const customResources = {
  "monitoring.coreos.com/v1/ServiceMonitor": "servicemonitor",
  "keda.sh/v1alpha1/ScaledObject": "scaledobject",
};
const compiled = new Map();

function customSchema(name) {
  if (!compiled.has(name))
    compiled.set(name, ajv.compile(JSON.parse(readFileSync(join(here, "crds", `${name}.schema.json`), "utf8"))));
  return compiled.get(name);
}

/** One line per error of kubernetes-models' or ajv's validators, with the field path. */
function describe(errors, prefix = "") {
  const lines = (errors ?? []).filter((e) => e.keyword !== "if").map((e) => {
    const path = prefix + fieldPath(e.instancePath);
    const p = e.params ?? {};
    const detail = p.missingProperty ? `missing required field ${p.missingProperty}`
      : p.additionalProperty ? `unknown field ${p.additionalProperty}`
      : p.allowedValues ? `${e.message ?? "not allowed"} (${p.allowedValues.join(", ")})`
      : e.message ?? e.keyword;
    return `${path || "(object)"}: ${detail}`;
  });
  return [...new Set(lines)];
}

/** A JSON pointer as the field path the unknown-field check also prints: spec.ports[0].port. */
function fieldPath(pointer) {
  return (pointer || "").split("/").slice(1).map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((path, s) => (/^[0-9]+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), "");
}

/** Validates a model instance, returning error lines (kubernetes-models throws a ValidationError listing them). */
function validateModel(model, prefix) {
  try {
    model.validate();
    return [];
  } catch (e) {
    return e.errors ? describe(e.errors, prefix) : [`${prefix}: ${e.message}`];
  }
}

async function builtIn(object) {
  let module;
  try {
    module = await import(`kubernetes-models/${object.apiVersion}`);
  } catch {
    return [`no schema for ${object.apiVersion} ${object.kind}: not a built-in API version of kubernetes-models, nor a custom resource with a schema under .ci/k8s-validate/crds`];
  }
  const Model = module[object.kind];
  const declaration = declarationOf(object.apiVersion, object.kind);
  if (!Model || !declaration) return [`no kind ${object.kind} in ${object.apiVersion}`];
  return [...validateModel(new Model(object), ""), ...unknownFields(object, declaration)];
}

function custom(object, name) {
  const validate = customSchema(name);
  const errors = validate(object) ? [] : describe(validate.errors);
  if (object.metadata && typeof object.metadata === "object")
    errors.push(...validateModel(new ObjectMeta(object.metadata), "metadata."), ...unknownFields(object.metadata, objectMetaDeclaration, "metadata"));
  const behavior = object.spec?.advanced?.horizontalPodAutoscalerConfig?.behavior;
  if (name === "scaledobject" && behavior) {
    const prefix = "spec.advanced.horizontalPodAutoscalerConfig.behavior";
    errors.push(...validateModel(new HorizontalPodAutoscalerBehavior(behavior), `${prefix}.`),
      ...unknownFields(behavior, declarationOf("autoscaling/v2", "HorizontalPodAutoscalerBehavior"), prefix));
  }
  return errors;
}

/** Error lines for one object (empty: valid). */
export async function validateObject(object) {
  if (!object || typeof object !== "object" || Array.isArray(object)) return ["not a YAML mapping"];
  if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") return ["apiVersion and kind are required"];
  const name = customResources[`${object.apiVersion}/${object.kind}`];
  if (name) return custom(object, name);
  return builtIn(object);
}

// Unknown-field check. kubernetes-models' compiled validators check required fields, types and enums but let
// unknown fields pass (as the API server's non-strict decoding would drop them silently). The package's TypeScript
// declarations list every field of every type, so they give the allowed field names: a typo such as
// `readinessprobe` or `periodSecond` is reported here with its path.
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const nodeModules = join(dirname(fileURLToPath(import.meta.url)), "node_modules");
const cache = new Map();

/** The .d.ts file an import specifier in `fromFile` names. */
function resolveSpecifier(spec, fromFile) {
  const base = spec.startsWith(".") ? join(dirname(fromFile), spec) : join(nodeModules, spec);
  return base.replace(/\.js$/, "") + ".d.ts";
}

/** Fields of the first interface declared in a .d.ts file: name -> type text, plus the imports' files; null for aliases. */
function parseDeclaration(file) {
  if (cache.has(file)) return cache.get(file);
  let result = null;
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const imports = new Map();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g))
      for (const name of m[1].split(",").map((n) => n.trim().split(/\s+as\s+/).pop()).filter(Boolean))
        imports.set(name, resolveSpecifier(m[2], file));
    const start = text.search(/export interface I\w+(\s+extends\s+[\w<>, ]+)?\s*\{/);
    if (start >= 0) {
      const open = text.indexOf("{", start);
      let depth = 0, end = open;
      for (; end < text.length; end++) {
        if (text[end] === "{") depth++;
        else if (text[end] === "}" && --depth === 0) break;
      }
      const fields = new Map();
      const body = text.slice(open + 1, end);
      // "name"?: TYPE; where TYPE may hold a nested { [key: string]: T; } map.
      const field = /"([^"]+)"\??:\s*/g;
      let m;
      while ((m = field.exec(body))) {
        let i = field.lastIndex, d = 0;
        for (; i < body.length; i++) {
          const c = body[i];
          if (c === "{" || c === "<" || c === "(") d++;
          else if (c === "}" || c === ">" || c === ")") d--;
          else if (c === ";" && d === 0) break;
        }
        fields.set(m[1], body.slice(field.lastIndex, i).trim());
        field.lastIndex = i + 1;
      }
      result = { fields, imports };
    }
  }
  cache.set(file, result);
  return result;
}

/** What a field's type text says to check below it: an interface file, an array or map of one, or nothing. */
function typeOf(typeText, decl) {
  let m = /^Array<(.+)>$/s.exec(typeText);
  if (m) return { array: typeOf(m[1].trim(), decl) };
  m = /^\{\s*\[key: string\]:\s*(.+?);?\s*\}$/s.exec(typeText);
  if (m) return { map: typeOf(m[1].trim(), decl) };
  const file = decl.imports.get(typeText);
  return file ? { file } : null;
}

function walk(value, type, path, errors) {
  if (!type || value === null || value === undefined) return;
  if (type.array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, type.array, `${path}[${i}]`, errors));
    return;
  }
  if (type.map) {
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, type.map, `${path}[${JSON.stringify(k)}]`, errors);
    return;
  }
  const decl = parseDeclaration(type.file);
  if (!decl || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const fieldPath = path ? `${path}.${key}` : key;
    if (!decl.fields.has(key)) {
      errors.push(`${fieldPath}: unknown field (not in ${type.file.split("/").pop().replace(".d.ts", "")})`);
      continue;
    }
    walk(v, typeOf(decl.fields.get(key), decl), fieldPath, errors);
  }
}

/** Unknown fields of an object whose type is declared in kubernetes-models/<group/version>/<Kind>.d.ts (or any .d.ts). */
export function unknownFields(object, declarationFile, path = "") {
  const errors = [];
  if (!parseDeclaration(declarationFile)) return [`no declaration of ${declarationFile}`];
  walk(object, { file: declarationFile }, path, errors);
  return errors;
}

/** The declaration file of a built-in kind, or null when kubernetes-models has none. */
export function declarationOf(apiVersion, kind) {
  const file = join(nodeModules, "kubernetes-models", apiVersion, `${kind}.d.ts`);
  return existsSync(file) ? file : null;
}

/** ObjectMeta's declaration (for the metadata of custom resources). */
export const objectMetaDeclaration = join(nodeModules, "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta.d.ts");

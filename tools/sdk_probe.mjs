// Read Claude Code's settings schema out of an unpacked @anthropic-ai/claude-agent-sdk package and print it as JSON.
//
// Used by tools/settings_schema.py: `node tools/sdk_probe.mjs <package-dir>`. The SDK bundles the same settings
// code as the CLI of the same release (SDK 0.3.N = CLI 2.1.N): the zod schema of settings.json and the function that
// turns one settings file's text into {settings, errors}. Neither is exported, so this script appends an export of
// both to a copy of sdk.mjs (found by the shape of their minified source), walks the schema and feeds that parser one
// small document per question: "what does Claude Code do with a wrong value of this key?".
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
const src = fs.readFileSync(path.join(dir, "sdk.mjs"), "utf8");

function find(re, what) {
  const m = src.match(re);
  if (!m) {
    console.error(`sdk_probe: cannot find ${what} in sdk.mjs: the bundle changed shape, update tools/sdk_probe.mjs`);
    process.exit(3);
  }
  return m[1];
}

const wholeName = find(/([A-Za-z0-9_$]+)=[A-Za-z0-9_$]+\(\(\)=>[A-Za-z0-9_$]+\(\)\.whole\(\)\)/, "the settings schema");
const parseName = find(
  /function ([A-Za-z0-9_$]+)\(e,t,n\)\{if\(e\.trim\(\)===""\)return\{settings:\{\},errors:\[\],loadState:"loaded"\}/,
  "the settings file parser",
);
const patched = path.join(dir, "preflight-probe.mjs");
fs.writeFileSync(patched, `${src}\nexport const __pfWhole=${wholeName};export const __pfParse=${parseName};\n`);
const sdk = await import(pathToFileURL(patched).href);
const whole = sdk.__pfWhole();

// The schema as a plain tree: zod v4 keeps everything in `_zod.def`.
function describe(s, depth = 0, seen = new Set()) {
  const def = s?._zod?.def;
  if (!def) return { t: "unknown" };
  const out = { t: def.type };
  const checks = (def.checks ?? []).map((c) => c._zod.def).filter((c) => c.check !== "custom");
  if (checks.length) {
    out.checks = checks.map((c) => ({ check: c.check, value: c.value, inclusive: c.inclusive, format: c.format,
      minimum: c.minimum, maximum: c.maximum }));
  }
  if (depth > 5) return out;
  const d = depth + 1;
  switch (def.type) {
    case "optional": case "nullable": case "default": case "readonly": case "nonoptional": case "prefault":
    case "catch":
      out.inner = describe(def.innerType, d, seen); break;
    case "pipe": out.in = describe(def.in, d, seen); out.out = describe(def.out, d, seen); break;
    case "union": out.options = def.options.map((o) => describe(o, d, seen)); break;
    case "object":
      out.shape = Object.fromEntries(Object.entries(def.shape).map(([k, v]) => [k, describe(v, d, seen)]));
      out.catchall = def.catchall ? def.catchall._zod.def.type : null;
      break;
    case "array": out.element = describe(def.element, d, seen); break;
    case "record": out.key = describe(def.keyType, d, seen); out.value = describe(def.valueType, d, seen); break;
    case "enum": out.values = Object.values(def.entries); break;
    case "literal": out.values = def.values; break;
    case "lazy": if (!seen.has(s)) { seen.add(s); out.inner = describe(def.getter(), d, seen); } break;
    case "intersection": out.left = describe(def.left, d, seen); out.right = describe(def.right, d, seen); break;
  }
  return out;
}

// The CLI's verdict on one settings document, as the user sees it: dropped, an entry skipped, or silent.
const FILE = "/preflight/settings.json";
function verdict(doc, managed = false) {
  const r = sdk.__pfParse(JSON.stringify(doc), FILE, managed);
  if (r.settings === null) return { outcome: "drop", errors: r.errors.map((e) => [e.path, e.message]) };
  const shown = r.errors.filter((e) => !e.statusOnly);
  return shown.length ? { outcome: "skip", errors: shown.map((e) => [e.path, e.message]) } : { outcome: "silent" };
}

// A value the schema does not take as written (zod rejects it, or a .catch swallows it into undefined).
function rejects(schema, value) {
  const r = schema.safeParse(value);
  return !r.success || r.data === undefined;
}
const WRONG_TYPES = [12345.5, "preflight-not-a-value", true, [12345], { preflight: 12345 }];
function wrongValue(schema) {
  return WRONG_TYPES.find((v) => rejects(schema, v));
}

function unwrap(s) {
  for (let i = 0; i < 10; i++) {
    const def = s?._zod?.def;
    if (!def) return s;
    if (["optional", "nullable", "default", "catch", "readonly", "prefault", "nonoptional"].includes(def.type)) {
      s = def.innerType;
    } else if (def.type === "lazy") s = def.getter();
    else if (def.type === "pipe") s = def.in._zod.def.type === "transform" ? def.out : def.in;
    else return s;
  }
  return s;
}

function outOfRange(schema) {
  const checks = (schema._zod.def.checks ?? []).map((c) => c._zod.def);
  for (const c of checks) {
    if (c.check === "greater_than") return c.inclusive ? c.value - 1 : c.value;
    if (c.check === "less_than") return c.inclusive ? c.value + 1 : c.value;
  }
  return undefined;
}

// What the CLI does with a bad value of one field; `wrap` puts the value where the field lives in a document.
function probes(field, wrap) {
  const out = {};
  const bad = wrongValue(field);
  if (bad !== undefined) out.type = verdict(wrap(bad));
  out.null = verdict(wrap(null));
  const inner = unwrap(field);
  const def = inner?._zod?.def;
  if (def?.type === "enum" && rejects(field, "preflight-not-a-value")) out.enum = verdict(wrap("preflight-not-a-value"));
  if (def?.type === "number") {
    const v = outOfRange(inner);
    if (v !== undefined && rejects(field, v)) out.range = verdict(wrap(v));
  }
  if (def?.type === "array") {
    const el = wrongValue(def.element);
    if (el !== undefined) out.entry = verdict(wrap([el]));
  }
  if (def?.type === "record") {
    const el = wrongValue(def.valueType);
    if (el !== undefined) out.entry = verdict(wrap({ preflight: el }));
  }
  return out;
}

const shape = whole._zod.def.shape;
const keys = {};
for (const [key, field] of Object.entries(shape)) {
  const entry = { schema: describe(field), probes: probes(field, (v) => ({ [key]: v })) };
  entry.managed_probes = { type: verdict({ [key]: wrongValue(field) ?? 12345.5 }, true) };
  const inner = unwrap(field);
  if (inner?._zod?.def?.type === "object" && key !== "hooks") {
    entry.fields = {};
    for (const [sub, subField] of Object.entries(inner._zod.def.shape)) {
      entry.fields[sub] = probes(subField, (v) => ({ [key]: { [sub]: v } }));
    }
  }
  keys[key] = entry;
}

// Hooks: what happens to one bad hook entry, under an event that guards tool use and under one that does not.
const hookCases = {};
for (const event of ["PreToolUse", "Stop"]) {
  hookCases[event] = {
    not_array: verdict({ hooks: { [event]: { hooks: [] } } }),
    matcher_not_object: verdict({ hooks: { [event]: ["echo"] } }),
    hooks_not_array: verdict({ hooks: { [event]: [{ matcher: "", hooks: "echo" }] } }),
    matcher_not_string: verdict({ hooks: { [event]: [{ matcher: 1, hooks: [{ type: "command", command: "true" }] }] } }),
    bad_type: verdict({ hooks: { [event]: [{ hooks: [{ type: "preflight-not-a-type", command: "true" }] }] } }),
    no_command: verdict({ hooks: { [event]: [{ hooks: [{ type: "command" }] }] } }),
  };
}
hookCases.unknown_event = verdict({ hooks: { PreflightNotAnEvent: [] } });

// Hook handler types: the discriminator of one hook entry.
const hookRecord = unwrap(shape.hooks);
const handler = unwrap(unwrap(unwrap(hookRecord._zod.def.valueType)._zod.def.element)._zod.def.shape.hooks)._zod.def.element;
const handlerDef = unwrap(handler)._zod.def;
const hookTypes = handlerDef.options
  ? handlerDef.options.flatMap((o) => unwrap(o)._zod.def.shape?.type?._zod.def.values ?? [])
  : [];

// Old names Claude Code still reads, under the name it reports them by: [{alias, canonical}, ...].
const aliasList = src.match(/=\[((?:\{alias:"[A-Za-z]+",canonical:"[A-Za-z]+"\},?)+)\]/);
const aliases = aliasList
  ? Object.fromEntries([...aliasList[1].matchAll(/alias:"([A-Za-z]+)",canonical:"([A-Za-z]+)"/g)].map((m) => [m[1], m[2]]))
  : {};

console.log(JSON.stringify({ keys, hook_cases: hookCases, hook_types: hookTypes, aliases }));

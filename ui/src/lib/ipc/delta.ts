// Applies a `Delta` from the backend (nixdeck_api::delta) to the value the
// window holds. Pure plumbing, no rule of the domain: what is unchanged keeps
// its identity, so Svelte redraws only what the delta touches. A delta that
// does not fit the value throws; the caller then asks for the whole value.
import type { Delta, JsonValue } from "../bindings";

type JsonObject = { [key: string]: JsonValue };

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function misfit(what: string): never {
  throw new Error(`the backend's delta does not fit the value held here (${what})`);
}

export function applyDelta(value: JsonValue | undefined, delta: Delta): JsonValue {
  if ("set" in delta) return delta.set;
  if ("fields" in delta) {
    if (!isObject(value)) misfit("fields of a non-object");
    const removed = new Set(delta.fields.removed);
    const out: JsonObject = {};
    for (const [key, v] of Object.entries(value)) if (!removed.has(key)) out[key] = v;
    // An existing key keeps its place; a new one comes last, as in the backend.
    for (const [key, change] of delta.fields.changed) out[key] = applyDelta(out[key], change);
    return out;
  }
  if ("items" in delta) {
    if (!Array.isArray(value)) misfit("items of a non-array");
    const out = value.slice();
    for (const [i, change] of delta.items) {
      if (i >= out.length) misfit(`item ${i} of ${out.length}`);
      out[i] = applyDelta(out[i], change);
    }
    return out;
  }
  if ("splice" in delta) {
    const { start, tail, with: middle } = delta.splice;
    if (!Array.isArray(value) || start + tail > value.length) misfit("splice");
    return [...value.slice(0, start), ...middle, ...value.slice(value.length - tail)];
  }
  const { start, tail, with: middle } = delta.text;
  if (typeof value !== "string" || start + tail > value.length) misfit("text");
  return value.slice(0, start) + middle + value.slice(value.length - tail);
}

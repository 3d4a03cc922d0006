// A form generated from a resource definition's JSON Schema: one input per
// property of the spec, the name (on create) and the pipeline. The server
// validates; its problem's errors are shown next to the fields they name.

import { api, el, show, failure, pretty, enc } from "./lib.js";

// typeOf is a schema's type, the first that is not "null" when it lists
// several; "enum" when it lists the values.
function typeOf(schema) {
  if (!schema || typeof schema !== "object") return "";
  if (Array.isArray(schema.enum)) return "enum";
  const t = Array.isArray(schema.type) ? schema.type.find(x => x !== "null") : schema.type;
  if (!t && schema.properties) return "object";
  return t || "";
}

// idOf turns a location (body.spec.opts.depth) into an element id.
function idOf(location) { return "f-" + location.replace(/[^A-Za-z0-9_-]/g, "-"); }

// Fields collects the inputs of a form: each knows its location in the
// request body (as the server's problem names it), reads its value and shows
// its error.
class Fields {
  constructor() { this.byLocation = new Map(); }

  add(location, input, read) {
    const error = el("p", { class: "field-error", id: idOf(location) + "-error", hidden: true });
    input.id = idOf(location);
    input.setAttribute("data-location", location);
    input.setAttribute("aria-describedby", error.id);
    this.byLocation.set(location, { input, read, error });
    return error;
  }

  clear() {
    for (const f of this.byLocation.values()) {
      f.input.removeAttribute("aria-invalid");
      f.error.hidden = true;
      f.error.textContent = "";
    }
  }

  // mark shows message at the field of location, or at the nearest field
  // that holds it (a property inside a JSON textarea); false when none does.
  mark(location, message) {
    let loc = location;
    while (loc && !this.byLocation.has(loc)) loc = loc.includes(".") ? loc.slice(0, loc.lastIndexOf(".")) : "";
    const f = this.byLocation.get(loc);
    if (!f) return false;
    f.input.setAttribute("aria-invalid", "true");
    f.error.hidden = false;
    f.error.textContent = f.error.textContent ? f.error.textContent + "; " + message : message;
    return true;
  }
}

// labelled is a label, the input and its error, on a row of the form.
function labelled(fields, location, text, input, read, hint) {
  const error = fields.add(location, input, read);
  return el("div", { class: "field" },
    el("label", { for: input.id }, text), input,
    hint ? el("span", { class: "muted hint" }, hint) : "", error);
}

// hintOf says the constraints of a property in a few words.
function hintOf(schema, required) {
  const parts = [];
  if (required) parts.push("required");
  for (const k of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "format"]) {
    if (schema[k] !== undefined) parts.push(k + " " + schema[k]);
  }
  if (schema.description) parts.push(schema.description);
  return parts.join(" · ");
}

// objectFields builds the inputs of an object schema's properties under
// location; value is the object's current value. Keys the schema does not
// name are kept as they were.
function objectFields(fields, location, schema, value) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const rows = [];
  const readers = [];
  for (const [key, sub] of Object.entries(props)) {
    const loc = location + "." + key;
    const current = value ? value[key] : undefined;
    const t = typeOf(sub);
    const label = key + (required.has(key) ? " *" : "");
    const hint = hintOf(sub || {}, required.has(key));
    if (t === "object" && sub.properties) {
      const nested = objectFields(fields, loc, sub, current && typeof current === "object" ? current : undefined);
      rows.push(el("fieldset", { class: "nested" }, el("legend", {}, label), hint ? el("p", { class: "muted hint" }, hint) : "", nested.rows));
      readers.push([key, nested.read]);
    } else if (t === "enum") {
      const select = el("select", {}, el("option", { value: "" }, "(none)"),
        sub.enum.map(v => el("option", { value: JSON.stringify(v) }, typeof v === "string" ? v : JSON.stringify(v))));
      if (current !== undefined) select.value = JSON.stringify(current);
      const read = () => select.value === "" ? undefined : JSON.parse(select.value);
      rows.push(labelled(fields, loc, label, select, read, hint));
      readers.push([key, read]);
    } else if (t === "boolean") {
      const box = el("input", { type: "checkbox" });
      box.checked = current === true;
      const read = () => box.checked;
      rows.push(labelled(fields, loc, label, box, read, hint));
      readers.push([key, read]);
    } else if (t === "integer" || t === "number") {
      const input = el("input", { type: "number", step: t === "integer" ? "1" : "any", inputmode: t === "integer" ? "numeric" : "decimal" });
      if (typeof current === "number") input.value = String(current);
      const read = () => input.value.trim() === "" ? undefined : Number(input.value);
      rows.push(labelled(fields, loc, label, input, read, hint));
      readers.push([key, read]);
    } else if (t === "string") {
      const input = el("input", { type: "text", size: 40, autocomplete: "off" });
      if (typeof current === "string") input.value = current;
      const read = () => input.value === "" ? undefined : input.value;
      rows.push(labelled(fields, loc, label, input, read, hint));
      readers.push([key, read]);
    } else {
      rows.push(jsonField(fields, loc, label + " (JSON)", current, hint, readers, key));
    }
  }
  const read = (errors) => {
    const out = {};
    if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) if (!(k in props)) out[k] = v;
    for (const [key, r] of readers) {
      const v = r(errors);
      if (v !== undefined) out[key] = v;
    }
    return out;
  };
  return { rows, read };
}

// jsonField is a textarea holding one value as JSON: arrays, and whatever
// the form has no input for.
function jsonField(fields, loc, label, current, hint, readers, key) {
  const area = el("textarea", { rows: 4, cols: 50, spellcheck: "false", class: "mono" });
  if (current !== undefined) area.value = pretty(current);
  const read = (errors) => {
    if (area.value.trim() === "") return undefined;
    try { return JSON.parse(area.value); } catch (e) { errors.push([loc, "not JSON: " + e.message]); return undefined; }
  };
  if (readers) readers.push([key, read]);
  return Object.assign(labelled(fields, loc, label, area, read, hint), { read });
}

// requiredAt reads a schema violation of the kind "required: missing
// property 'x'" at body.spec as the location of x, where its input is.
function requiredAt(location, message) {
  const m = /missing propert(?:y|ies) '([^']+)'/.exec(message || "");
  return m ? location + "." + m[1] : location;
}

// resourceForm shows the form of a new resource of type (existing absent)
// or of a replacement of existing.
export async function resourceForm(type, existing) {
  const top = el("div", { id: "form-problem", tabindex: "-1" });
  show(el("h1", {}, existing ? "Edit " + type + "/" + existing.name : "New " + type), top);
  let def, pipelines;
  try {
    [def, pipelines] = await Promise.all([
      api("GET", "/resource-definitions/" + enc(type)),
      api("GET", "/pipelines?limit=1000"),
    ]);
  } catch (e) { top.replaceChildren(failure(e)); return; }

  const fields = new Fields();
  const rows = [];
  let name;
  if (!existing) {
    name = el("input", { type: "text", size: 40, autocomplete: "off", required: true });
    rows.push(labelled(fields, "body.name", "Name *", name, null, "lower-case letters, digits, - and _"));
  }
  const pipeline = el("select", {}, el("option", { value: "" }, "(none: no run)"),
    pipelines.items.filter(p => p.resource === type).map(p => el("option", { value: p.name }, p.name)));
  if (existing && existing.pipeline) {
    if (![...pipeline.options].some(o => o.value === existing.pipeline)) pipeline.append(el("option", { value: existing.pipeline }, existing.pipeline));
    pipeline.value = existing.pipeline;
  }
  rows.push(labelled(fields, "body.pipeline", "Pipeline", pipeline, null, "each change of the resource runs it"));

  const schema = def.schema || {};
  const spec = existing ? existing.spec : undefined;
  let readSpec;
  if (typeOf(schema) === "object" && schema.properties) {
    const obj = objectFields(fields, "body.spec", schema, spec);
    rows.push(el("fieldset", {}, el("legend", {}, "Spec"), obj.rows));
    readSpec = obj.read;
  } else {
    // No properties to build inputs from: the whole spec as JSON.
    const f = jsonField(fields, "body.spec", "Spec (JSON)", spec === undefined ? {} : spec, "");
    rows.push(f);
    readSpec = (errors) => f.read(errors) ?? {};
  }

  const submit = el("button", { type: "submit", id: "save" }, existing ? "Save a new version" : "Create");
  const cancel = el("a", { href: existing ? resourceHref(type, existing.name) : "#/resources/" + enc(type) }, "Cancel");
  const form = el("form", { class: "schema-form", novalidate: true }, rows, el("div", { class: "toolbar" }, submit, cancel));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    fields.clear();
    top.replaceChildren();
    const errors = [];
    const body = { spec: readSpec(errors) };
    if (pipeline.value) body.pipeline = pipeline.value;
    if (errors.length) {
      for (const [loc, msg] of errors) fields.mark(loc, msg);
      top.replaceChildren(el("p", { class: "error", role: "alert" }, "Fix the marked fields: nothing was sent."));
      return;
    }
    submit.disabled = true;
    try {
      if (existing) {
        const meta = {};
        for (const [k, v] of Object.entries(existing.metadata || {})) if (k !== "version" && !k.startsWith("driverresults.")) meta[k] = v;
        if (Object.keys(meta).length) body.metadata = meta;
        // The ETag is the version read: a newer one on the server is a 409.
        await api("PUT", "/resources/" + enc(type) + "/" + enc(existing.name), body, { "If-Match": '"' + existing.metadata.version + '"' });
        location.hash = resourceHref(type, existing.name);
      } else {
        body.name = name.value.trim();
        body.resource = type;
        const made = await api("POST", "/resources", body);
        location.hash = resourceHref(type, made.name);
      }
    } catch (e) {
      submit.disabled = false;
      const problem = e.problem || {};
      const unplaced = [];
      for (const d of problem.errors || []) {
        const loc = requiredAt(d.location || "", d.message);
        if (!fields.mark(loc, d.message)) unplaced.push((d.location ? d.location + ": " : "") + d.message);
      }
      top.replaceChildren(failure(e), unplaced.length ? el("ul", { class: "error" }, unplaced.map(u => el("li", {}, u))) : "");
      const first = form.querySelector('[aria-invalid="true"]');
      (first || top).focus?.();
    }
  });
  show(el("h1", {}, existing ? "Edit " + type + "/" + existing.name : "New " + type), top, form);
  (name || form.querySelector("input, select, textarea"))?.focus();
}

// resourceHref is the address of a resource's page; a resource named "new"
// (the address of the form) is reached through /view.
export function resourceHref(type, name) {
  return "#/resources/" + enc(type) + "/" + enc(name) + (name === "new" ? "/view" : "");
}

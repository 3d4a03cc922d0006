// The definitions and pipelines pages: a definition's schema as a table of
// its properties, and a pipeline's steps drawn by levels of what they need.

import { api, el, show, failure, pretty, enc, needsOf, levels } from "./lib.js";

async function allItems(path) {
  const items = [];
  let cont = "";
  do {
    const page = await api("GET", path + "?limit=1000" + (cont ? "&continue=" + enc(cont) : ""));
    items.push(...page.items);
    cont = page.continue || "";
  } while (cont);
  return items;
}

function table(id, headers, rows, empty) {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  return el("table", { id }, el("thead", {}, el("tr", {}, headers.map(h => el("th", {}, h)))), el("tbody", {}, rows));
}

export function definitionsView(parts) {
  return parts[1] ? definitionView(decodeURIComponent(parts[1])) : definitionList();
}

async function definitionList() {
  const err = el("div");
  show(el("h1", {}, "Resource definitions"), err);
  try {
    const defs = await allItems("/resource-definitions");
    show(el("h1", {}, "Resource definitions"), err, table("definitions", ["Name", "Version", "Description", "Properties"],
      defs.map(d => el("tr", { "data-definition": d.name },
        el("td", {}, el("a", { href: "#/definitions/" + enc(d.name) }, d.name)), el("td", {}, d.version || ""),
        el("td", {}, d.description || ""), el("td", {}, String(Object.keys((d.schema && d.schema.properties) || {}).length)))),
      "No resource definitions yet."));
  } catch (e) { err.replaceChildren(failure(e)); }
}

// typeText is a property's type as a reader says it.
function typeText(s) {
  if (s.$ref) return "→ " + s.$ref;
  let t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type || (s.properties ? "object" : ""));
  if (t === "array" && s.items && s.items.type) t = "array of " + (Array.isArray(s.items.type) ? s.items.type.join(" | ") : s.items.type);
  for (const k of ["oneOf", "anyOf", "allOf"]) if (Array.isArray(s[k])) t = (t ? t + ", " : "") + k + " (" + s[k].length + ")";
  return t || "any";
}

// notes are a property's description, enum and constraints.
function notes(s) {
  const out = [];
  if (s.description) out.push(el("div", {}, s.description));
  if (Array.isArray(s.enum)) out.push(el("div", {}, "one of: ", s.enum.map(v => JSON.stringify(v)).join(", ")));
  if (s.const !== undefined) out.push(el("div", {}, "always " + JSON.stringify(s.const)));
  const c = [];
  for (const k of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
    "pattern", "format", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "default"]) {
    if (s[k] !== undefined) c.push(k + " " + JSON.stringify(s[k]));
  }
  if (s.additionalProperties === false) c.push("no other properties");
  if (c.length) out.push(el("div", { class: "mono small" }, c.join(" · ")));
  return out;
}

// propertyRows are the rows of an object schema's properties, those of
// nested objects (and of arrays of objects) indented under their parent.
function propertyRows(schema, depth, prefix) {
  const rows = [];
  const required = new Set(schema.required || []);
  for (const [name, sub] of Object.entries(schema.properties || {})) {
    const s = sub && typeof sub === "object" ? sub : {};
    const cell = el("td", { class: "prop mono" }, prefix + name);
    cell.style.setProperty("--depth", String(depth));
    rows.push(el("tr", { "data-property": prefix + name }, cell, el("td", {}, typeText(s)),
      el("td", {}, required.has(name) ? "yes" : ""), el("td", {}, notes(s))));
    if (s.properties) rows.push(...propertyRows(s, depth + 1, prefix + name + "."));
    else if (s.items && s.items.properties) rows.push(...propertyRows(s.items, depth + 1, prefix + name + "[]."));
  }
  return rows;
}

async function definitionView(name) {
  const err = el("div");
  show(el("h1", {}, "Definition ", el("span", { class: "mono" }, name)), err);
  try {
    const d = await api("GET", "/resource-definitions/" + enc(name));
    const schema = d.schema || {};
    show(el("h1", {}, "Definition ", el("span", { class: "mono" }, name)),
      el("p", { class: "muted" }, [d.description, d.version && "version " + d.version,
        d.formatAssertion ? "formats are checked" : "formats are annotations"].filter(Boolean).join(" · ")),
      el("div", { class: "toolbar" }, el("a", { href: "#/resources/" + enc(name) }, "Its resources"),
        el("a", { href: "#/resources/" + enc(name) + "/new" }, "New resource")),
      err,
      el("h2", {}, "Properties of the spec"),
      table("properties", ["Property", "Type", "Required", "Description and constraints"], propertyRows(schema, 0, ""),
        "The schema names no properties: any spec it accepts will do."),
      el("h2", {}, "Schema"), el("pre", { class: "json", id: "schema" }, pretty(schema)));
  } catch (e) { err.replaceChildren(failure(e)); }
}

export function pipelinesView(parts) {
  return parts[1] ? pipelineView(decodeURIComponent(parts[1])) : pipelineList();
}

async function pipelineList() {
  const err = el("div");
  show(el("h1", {}, "Pipelines"), err);
  try {
    const list = await allItems("/pipelines");
    show(el("h1", {}, "Pipelines"), err, table("pipelines", ["Name", "Resource", "Steps", "Version", "Description"],
      list.map(p => el("tr", { "data-pipeline": p.name },
        el("td", {}, el("a", { href: "#/pipelines/" + enc(p.name) }, p.name)),
        el("td", {}, el("a", { href: "#/resources/" + enc(p.resource) }, p.resource)),
        el("td", {}, String(p.steps.length)), el("td", {}, p.version || ""), el("td", {}, p.description || ""))),
      "No pipelines yet."));
  } catch (e) { err.replaceChildren(failure(e)); }
}

function stepBox(steps, i) {
  const s = steps[i];
  const approval = s.type === "approval";
  const lines = [el("div", { class: "step-id" }, s.id),
    el("div", { class: approval ? "step-driver approval" : "step-driver muted" }, approval ? "approval" : (s.driver || ""))];
  if (s.when) lines.push(el("div", { class: "mono small" }, "when " + s.when));
  if (s.retry) lines.push(el("div", { class: "small" }, "retry " + s.retry.attempts + (s.retry.backoff ? " × " + s.retry.backoff : "") + (s.retry.on ? " on " + s.retry.on.join(", ") : "")));
  if (s.timeout) lines.push(el("div", { class: "small" }, "timeout " + s.timeout));
  const needs = needsOf(steps, i);
  if (needs.length) lines.push(el("div", { class: "small muted" }, "needs " + needs.join(", ")));
  return el("div", { class: "step-box", "data-step": s.id }, lines);
}

async function pipelineView(name) {
  const err = el("div");
  show(el("h1", {}, "Pipeline ", el("span", { class: "mono" }, name)), err);
  try {
    const p = await api("GET", "/pipelines/" + enc(name));
    const level = levels(p.steps);
    const count = Math.max(0, ...level.values()) + 1;
    const columns = Array.from({ length: p.steps.length ? count : 0 }, (_, l) =>
      el("div", { class: "level", "data-level": String(l), role: "list", "aria-label": "level " + (l + 1) },
        el("div", { class: "level-title muted" }, "Level " + (l + 1))));
    p.steps.forEach((s, i) => {
      const box = stepBox(p.steps, i);
      box.setAttribute("role", "listitem");
      columns[level.get(s.id)].append(box);
    });
    show(el("h1", {}, "Pipeline ", el("span", { class: "mono" }, name)),
      el("p", { class: "muted" }, "Over ", el("a", { href: "#/resources/" + enc(p.resource) }, p.resource),
        p.version ? " · version " + p.version : "", p.timeout ? " · a run times out after " + p.timeout : "",
        p.description ? " · " + p.description : ""),
      el("div", { class: "toolbar" }, el("a", { href: "#/runs?pipeline=" + enc(name) }, "Its runs")),
      err,
      el("h2", {}, "Steps"),
      el("p", { class: "muted" }, "A step runs once every step it needs has succeeded; the steps of one level can run at once."),
      p.steps.length ? el("div", { class: "graph", id: "graph" }, columns) : el("p", { class: "muted" }, "No steps."),
      el("h2", {}, "Pipeline"), el("pre", { class: "json", id: "pipeline-json" }, pretty(p)));
  } catch (e) { err.replaceChildren(failure(e)); }
}

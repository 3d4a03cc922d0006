// The resources pages: the types, the resources of one type a page at a
// time, and one resource with its driver results, versions and their diff.

import { api, el, status, when, show, failure, pretty, enc, may } from "./lib.js";
import { resourceForm, resourceHref } from "./form.js";

const pageSize = 25;

// resourcesView routes #/resources[/TYPE[/new | /NAME[/view | /edit]]].
export function resourcesView(parts, params) {
  const [, type, name, action] = parts.map(decodeURIComponent);
  if (!type) return typesView();
  if (!name) return typeView(type, params);
  if (name === "new" && !action) return resourceForm(type);
  if (action === "edit") return editView(type, name);
  return resourceView(type, name);
}

async function typesView() {
  const body = el("tbody", { id: "types" });
  const err = el("div");
  show(el("h1", {}, "Resources"), el("p", { class: "muted" }, "The resource types, one per definition. Choose one to see its resources."), err,
    el("table", {}, el("thead", {}, el("tr", {}, ["Type", "Description", "Definition", ""].map(h => el("th", {}, h)))), body));
  try {
    const defs = await allPages("/resource-definitions");
    body.replaceChildren(...defs.map(d => el("tr", { "data-type": d.name },
      el("td", {}, el("a", { href: "#/resources/" + enc(d.name) }, d.name)),
      el("td", {}, d.description || ""),
      el("td", {}, el("a", { href: "#/definitions/" + enc(d.name) }, "schema" + (d.version ? " " + d.version : ""))),
      el("td", {}, may("operator") ? el("a", { href: "#/resources/" + enc(d.name) + "/new" }, "New…") : ""))));
    if (!defs.length) body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No resource definitions yet.")));
  } catch (e) { err.replaceChildren(failure(e)); }
}

// allPages follows a list's continue tokens to its end.
async function allPages(path) {
  const items = [];
  let cont = "";
  do {
    const page = await api("GET", path + (path.includes("?") ? "&" : "?") + "limit=1000" + (cont ? "&continue=" + enc(cont) : ""));
    items.push(...page.items);
    cont = page.continue || "";
  } while (cont);
  return items;
}

async function typeView(type, params) {
  const cont = params.get("continue") || "";
  const body = el("tbody", { id: "resources" });
  const err = el("div");
  const next = el("a", { id: "next-page", hidden: true }, "Next page →");
  const first = el("a", { href: "#/resources/" + enc(type), hidden: !cont }, "← First page");
  const types = el("nav", { class: "toolbar", "aria-label": "resource types" });
  show(types, el("h1", {}, "Resources of type ", el("span", { class: "mono" }, type)),
    el("div", { class: "toolbar" }, may("operator") ? el("a", { href: "#/resources/" + enc(type) + "/new", class: "button", id: "new-resource" }, "New " + type + " resource") : "",
      el("a", { href: "#/definitions/" + enc(type) }, "Its schema")),
    err,
    el("table", {}, el("thead", {}, el("tr", {}, ["Name", "Version", "Pipeline", "Updated"].map(h => el("th", { class: h === "Updated" ? "wide" : null }, h)))), body),
    el("div", { class: "toolbar" }, first, next));
  api("GET", "/resource-definitions?limit=1000").then(defs => types.replaceChildren(el("span", { class: "muted" }, "Types:"),
    ...defs.items.map(d => el("a", { href: "#/resources/" + enc(d.name), "aria-current": d.name === type ? "page" : null }, d.name)))).catch(() => {});
  try {
    const page = await api("GET", "/resources/" + enc(type) + "?limit=" + pageSize + (cont ? "&continue=" + enc(cont) : ""));
    const rows = page.items.map(r => {
      const updated = el("td", { class: "wide" }, "…");
      const row = el("tr", { "data-resource": r.name },
        el("td", {}, el("a", { href: resourceHref(type, r.name) }, r.name)),
        el("td", {}, (r.metadata && r.metadata.version) || ""),
        el("td", {}, r.pipeline ? el("a", { href: "#/pipelines/" + enc(r.pipeline) }, r.pipeline) : el("span", { class: "muted" }, "none")),
        updated);
      return { r, row, updated };
    });
    body.replaceChildren(...rows.map(x => x.row));
    if (!rows.length) body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No resources of this type.")));
    if (page.continue) {
      next.setAttribute("href", "#/resources/" + enc(type) + "?continue=" + enc(page.continue));
      next.hidden = false;
    }
    // A list item has no time: the last change in each resource's history
    // says when it was updated.
    for (const { r, updated } of rows) {
      api("GET", "/resources/" + enc(type) + "/" + enc(r.name) + "/history")
        .then(h => { updated.textContent = h.items.length ? when(h.items[h.items.length - 1].time) : ""; })
        .catch(() => { updated.textContent = ""; });
    }
  } catch (e) { err.replaceChildren(failure(e)); }
}

async function editView(type, name) {
  show(el("p", {}, "Loading…"));
  try {
    const r = await api("GET", "/resources/" + enc(type) + "/" + enc(name));
    await resourceForm(type, r);
  } catch (e) { show(el("h1", {}, "Edit " + type + "/" + name), failure(e)); }
}

// canonical is v with the keys of every object sorted, so that two versions
// diff by content and not by the order their keys were sent in.
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

// diffLines is the line diff of a and b: [op, line] with op " ", "-" or
// "+", from the longest common subsequence of their lines (the common start
// and end taken off first, which is most of a small change).
export function diffLines(a, b) {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length, endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const x = a.slice(start, endA), y = b.slice(start, endB);
  const middle = [];
  if (x.length * y.length > 4e6) {
    // Too large to compare line by line in the page: all out, all in.
    x.forEach(l => middle.push(["-", l]));
    y.forEach(l => middle.push(["+", l]));
  } else {
    // lcs[i][j]: the length of the longest common subsequence of x[i:], y[j:].
    const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
    for (let i = x.length - 1; i >= 0; i--)
      for (let j = y.length - 1; j >= 0; j--)
        lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    let i = 0, j = 0;
    while (i < x.length && j < y.length) {
      if (x[i] === y[j]) { middle.push([" ", x[i]]); i++; j++; }
      else if (lcs[i + 1][j] >= lcs[i][j + 1]) middle.push(["-", x[i++]]);
      else middle.push(["+", y[j++]]);
    }
    while (i < x.length) middle.push(["-", x[i++]]);
    while (j < y.length) middle.push(["+", y[j++]]);
  }
  return [...a.slice(0, start).map(l => [" ", l]), ...middle, ...a.slice(endA).map(l => [" ", l])];
}

const diffClass = { " ": "diff-same", "-": "diff-del", "+": "diff-add" };

async function resourceView(type, name) {
  const base = "/resources/" + enc(type) + "/" + enc(name);
  const err = el("div");
  show(el("h1", {}, type + "/" + name), err);
  let r, versions, history;
  try {
    [r, versions, history] = await Promise.all([
      api("GET", base),
      allPages(base + "/versions"),
      api("GET", base + "/history").then(h => h.items, () => []),
    ]);
  } catch (e) { err.replaceChildren(failure(e)); return; }

  const meta = r.metadata || {};
  const own = {}, results = [];
  for (const [k, v] of Object.entries(meta)) {
    if (k.startsWith("driverresults.")) {
      let parsed;
      try { parsed = JSON.parse(v); } catch { parsed = { message: v }; }
      results.push([k.slice("driverresults.".length), parsed]);
    } else own[k] = v;
  }
  const byVersion = new Map();
  for (const h of history) if (h.version) byVersion.set(h.version, h);

  const head = el("p", { class: "muted" }, "Version " + (meta.version || "?"), " · pipeline ",
    r.pipeline ? el("a", { href: "#/pipelines/" + enc(r.pipeline) }, r.pipeline) : "none", " · type ",
    el("a", { href: "#/definitions/" + enc(type) }, type));
  const actions = el("div", { class: "toolbar" },
    may("operator") ? el("button", { type: "button", id: "edit", onclick: () => { location.hash = "#/resources/" + enc(type) + "/" + enc(name) + "/edit"; } }, "Edit") : "",
    el("a", { href: "#/runs?resource=" + enc(type + "/" + name) }, "Its runs"),
    el("a", { href: "#/resources/" + enc(type) }, "All " + type + " resources"));

  const resultRows = results.map(([driver, res]) => el("tr", { "data-driver": driver },
    el("td", {}, driver),
    el("td", {}, res.success === undefined ? "" : status(res.success ? "succeeded" : "failed")),
    el("td", {}, res.message || ""),
    el("td", {}, res.data !== undefined ? el("pre", { class: "json small" }, pretty(res.data)) : "")));

  const versionRows = versions.map(v => {
    const n = Number(v.metadata.version);
    const h = byVersion.get(n);
    return el("tr", { "data-version": String(n) },
      el("td", {}, String(n)),
      el("td", { class: "wide" }, h ? when(h.time) : ""),
      el("td", {}, v.pipeline || ""),
      el("td", {}, h && h.runid ? el("a", { href: "#/runs/" + h.runid, class: "mono" }, h.runid.slice(0, 8)) : el("span", { class: "muted" }, "no run")));
  });

  // The diff between two versions, chosen in two selects.
  const options = () => versions.map(v => el("option", { value: v.metadata.version }, "version " + v.metadata.version));
  const from = el("select", { id: "diff-from" }, options());
  const to = el("select", { id: "diff-to" }, options());
  const diff = el("pre", { class: "diff", id: "diff", "aria-live": "polite" });
  const specOf = (version) => {
    const v = versions.find(x => x.metadata.version === version);
    return v ? pretty(canonical(v.spec)).split("\n") : [];
  };
  const redraw = () => {
    const lines = diffLines(specOf(from.value), specOf(to.value));
    const changed = lines.filter(([op]) => op !== " ").length;
    diff.replaceChildren(...lines.map(([op, line]) => el("div", { class: "diff-line " + diffClass[op] }, op + " " + line)));
    summary.textContent = changed ? changed + " line" + (changed === 1 ? "" : "s") + " changed" : "the specs are the same";
  };
  const summary = el("span", { class: "muted", id: "diff-summary" });
  if (versions.length > 1) from.value = versions[versions.length - 2].metadata.version;
  if (versions.length) to.value = versions[versions.length - 1].metadata.version;
  from.addEventListener("change", redraw);
  to.addEventListener("change", redraw);

  show(el("h1", {}, type + "/" + name), head, actions, err,
    el("div", { class: "columns" },
      el("section", {}, el("h2", {}, "Spec"), el("pre", { class: "json", id: "spec" }, pretty(r.spec))),
      el("section", {}, el("h2", {}, "Metadata"), el("pre", { class: "json", id: "metadata" }, pretty(own)))),
    el("h2", {}, "Driver results"),
    results.length ? el("table", { id: "results" }, el("thead", {}, el("tr", {}, ["Driver", "Result", "Message", "Data"].map(h => el("th", {}, h)))), el("tbody", {}, resultRows))
      : el("p", { class: "muted" }, "No driver has recorded a result for this resource."),
    el("h2", {}, "Versions"),
    el("table", {}, el("thead", {}, el("tr", {}, ["Version", "Time", "Pipeline", "Run"].map(h => el("th", { class: h === "Time" ? "wide" : null }, h)))),
      el("tbody", { id: "versions" }, versionRows)),
    el("h2", {}, "Compare versions"),
    el("div", { class: "toolbar" }, el("label", { for: "diff-from" }, "From"), from, el("label", { for: "diff-to" }, "to"), to, summary),
    diff);
  redraw();
}

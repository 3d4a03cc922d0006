// The runs page: a live list with filters and paging.

import { api, el, status, shortID, when, duration, every, show, failure, enc, origin, startedBy } from "./lib.js";

// title says what started a run: the resource and how it changed, who
// changed it (a token, or a trigger) when the run recorded it, and for a
// trigger the delivery's event, commit and branch.
export function title(r) {
  const how = { create: "created", update: "updated" }[r.trigger] || r.trigger || "";
  const from = origin(r);
  return el("span", { class: "run-title" },
    el("a", { href: "#/resources/" + enc(r.resource.resource) + "/" + enc(r.resource.name) }, r.resource.resource + "/" + r.resource.name),
    el("span", { class: "muted" }, (how ? " " + how : "") + startedBy(r)),
    ...(from ? [" ", el("span", { class: "run-origin mono" }, from)] : []));
}

export function runsView(params) {
  const filter = el("select", { id: "status-filter", "aria-label": "status" },
    ["", "queued", "running", "succeeded", "failed", "cancelled"].map(s => el("option", { value: s }, s || "any status")));
  const resource = el("input", { id: "resource-filter", "aria-label": "resource", placeholder: "resource TYPE[/NAME]", size: 22 });
  const pipeline = el("input", { id: "pipeline-filter", "aria-label": "pipeline", placeholder: "pipeline", size: 14 });
  // The time span is kept in the address as the local time the inputs
  // show; the API gets it as an instant.
  const since = el("input", { id: "since-filter", type: "datetime-local", step: 1, "aria-label": "started since" });
  const until = el("input", { id: "until-filter", type: "datetime-local", step: 1, "aria-label": "started until" });
  since.value = params.get("since") || "";
  until.value = params.get("until") || "";
  filter.value = params.get("status") || "";
  resource.value = params.get("resource") || "";
  pipeline.value = params.get("pipeline") || "";
  const apply = () => {
    const q = new URLSearchParams();
    for (const [k, v] of [["status", filter.value], ["resource", resource.value.trim()], ["pipeline", pipeline.value.trim()],
      ["since", since.value], ["until", until.value]]) if (v) q.set(k, v);
    location.hash = "#/runs" + (q.toString() ? "?" + q : "");
  };
  for (const input of [filter, since, until]) input.addEventListener("change", apply);
  for (const input of [resource, pipeline]) input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") apply(); });
  // Paging: the first page follows new runs; a later page stays where it is.
  const cont = params.get("continue") || "";
  const next = el("a", { id: "next-page", hidden: true }, "Older runs →");
  const first = el("a", { href: "#/runs" + (() => { const q = new URLSearchParams(params); q.delete("continue"); return q.toString() ? "?" + q : ""; })(), hidden: !cont }, "← Newest");
  const body = el("tbody", { id: "runs" });
  const err = el("div");
  show(el("h1", {}, "Runs"), el("div", { class: "toolbar" }, filter, resource, pipeline,
      el("label", {}, "since ", since), el("label", {}, "until ", until)),
    el("table", {}, el("thead", {}, el("tr", {}, ["Run", "What started it", "Pipeline", "Status", "Started", "Duration"].map(h => el("th", { class: h === "Started" ? "wide" : null }, h)))), body),
    el("div", { class: "toolbar" }, first, next), err);
  every(2000, async () => {
    try {
      const q = new URLSearchParams({ limit: "50" });
      for (const k of ["status", "resource", "pipeline", "continue"]) if (params.get(k)) q.set(k, params.get(k));
      for (const k of ["since", "until"]) if (params.get(k)) q.set(k, new Date(params.get(k)).toISOString());
      const page = await api("GET", "/runs?" + q);
      const first = !body.hasChildNodes();
      body.replaceChildren(...page.items.map(r => el("tr", { "data-run": r.id },
        el("td", { class: "mono" }, el("a", { href: "#/runs/" + r.id }, shortID(r.id))),
        el("td", {}, title(r)), el("td", {}, r.pipeline.name),
        el("td", {}, status(r.status)), el("td", { class: "wide" }, when(r.startedAt)),
        el("td", { class: "duration" }, duration(r.startedAt, r.finishedAt)))));
      // A status filter examines a bounded stretch of runs per page (see
      // docs/api.md): a page can be short, or empty, and still go on.
      if (page.items.length === 0) {
        body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "muted" },
          page.continue ? "None in this stretch of runs; older runs may match." : "No runs.")));
      }
      if (page.continue) {
        const q2 = new URLSearchParams(params);
        q2.set("continue", page.continue);
        next.setAttribute("href", "#/runs?" + q2);
        next.hidden = false;
      } else next.hidden = true;
      // A mark for measuring: when the first page of runs is on screen.
      if (first) requestAnimationFrame(() => performance.mark("conveyor:runs-shown"));
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  });
}


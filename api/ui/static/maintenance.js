// The maintenance page: verify the read models against the log, rebuild
// them from it (with progress), and the events set aside as parked.

import { api, el, token, show, failure, every, json, may } from "./lib.js";

// job runs a maintenance endpoint, which answers one JSON object per line:
// progress ({phase, done, total}), then {result} or {error}.
async function job(path, bar, phase, out) {
  const resp = await fetch(path, { method: "POST", headers: { "Authorization": "Bearer " + token() } });
  if (!resp.ok) {
    const text = await resp.text();
    let detail = resp.statusText;
    try { detail = JSON.parse(text).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(detail);
  }
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let i;
    while ((i = buffered.indexOf("\n")) >= 0) {
      const msg = JSON.parse(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
      if (msg.phase !== undefined) {
        bar.max = msg.total || 1;
        bar.value = msg.done;
        phase.textContent = msg.phase + ": " + msg.done + (msg.total ? " of " + msg.total : "");
      } else if (msg.error !== undefined) {
        throw new Error(msg.error);
      } else {
        out.replaceChildren(json(msg.result));
        if (bar.max) bar.value = bar.max;
      }
    }
  }
}

export function maintenanceView() {
  const bar = el("progress", { id: "job-progress", value: 0, max: 1 });
  const phase = el("span", { id: "job-phase", class: "muted" });
  const out = el("div", { id: "job-result" });
  const err = el("div");
  const parked = el("tbody", { id: "parked" });
  const run = (label, path, confirmText) => el("button", { type: "button", id: "job-" + label.toLowerCase(), onclick: async (ev) => {
    if (confirmText && !confirm(confirmText)) return;
    ev.target.disabled = true;
    err.replaceChildren();
    out.replaceChildren();
    try { await job(path, bar, phase, out); } catch (e) { err.replaceChildren(failure(e)); }
    ev.target.disabled = false;
  } }, label);
  const buttons = may("admin") ? [run("Verify", "/admin/projections/verify"),
    run("Rebuild", "/admin/projections/rebuild", "Rebuild every read model from the event log? Reads go on from the old ones until the new ones are ready.")]
    : [el("p", { class: "muted" }, "Verifying and rebuilding need an admin token.")];
  show(el("h1", {}, "Maintenance"),
    el("h2", {}, "Read models"),
    el("p", { class: "muted" }, "Verify compares the read models with the event log; rebuild writes them again from it."),
    el("div", { class: "toolbar" }, ...buttons, bar, phase), err, out,
    el("h2", {}, "Parked events"),
    el("p", { class: "muted" }, "Events a consumer of the log could not handle and set aside, so that the events after them went on."),
    el("table", {}, el("thead", {}, el("tr", {}, ["Event", "Consumer", "Why", "Parked", ""].map(h => el("th", {}, h)))), parked));
  every(5000, async () => {
    try {
      const page = await api("GET", "/admin/parked?limit=100");
      if (page.items.length === 0) { parked.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "None."))); return; }
      parked.replaceChildren(...page.items.map(p => el("tr", {},
        el("td", {}, el("details", {}, el("summary", {}, "#" + p.sequence + " " + (p.type || "")), json(p))),
        el("td", {}, p.consumer), el("td", {}, p.error), el("td", {}, new Date(p.parkedAt).toLocaleString()),
        el("td", {}, may("admin") ? el("button", { type: "button", onclick: async () => {
          try { await api("DELETE", "/admin/parked/" + encodeURIComponent(p.id)); } catch (e) { err.replaceChildren(failure(e)); }
        } }, "Dismiss") : ""))));
    } catch (e) { parked.replaceChildren(el("tr", {}, el("td", {}, failure(e)))); }
  });
}

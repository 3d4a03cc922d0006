// A run's page: steps, actions and the log.

import { api, el, status, shortID, when, duration, every, show, failure, json, may, needsOf } from "./lib.js";
import { logLines } from "./log.js";

// traceList shows the run's causal chain: the resource change that caused
// it, then each of its events, each with its JSON.
function traceList(trace) {
  const item = (e, label) => el("li", {}, el("details", {},
    el("summary", {}, el("span", { class: "mono" }, "#" + (e.sequence ?? "")), " ", label || e.type, " ",
      el("span", { class: "muted" }, when(e.time) + (e.step ? " · " + e.step : ""))), json(e)));
  return el("ol", { class: "trace", id: "trace" },
    trace.cause ? item(trace.cause, "caused by " + trace.cause.type) : [],
    trace.events.map(e => item(e)));
}

export function runView(id, params) {
  const head = el("div");
  const steps = el("tbody", { id: "steps" });
  const actions = el("div", { class: "toolbar" });
  const log = el("pre", { class: "log", id: "log", tabindex: 0, "aria-label": "log" });
  const trace = el("div");
  const err = el("div");
  show(head, actions, err,
    el("table", {}, el("thead", {}, el("tr", {}, ["Step", "Needs", "Driver", "Status", "Attempt", "Started", "Duration", "Message"]
      .map(h => el("th", { class: h === "Started" ? "wide" : null }, h)))), steps),
    el("h2", {}, "Log"), log, el("h2", {}, "Trace"), trace);
  const act = (label, method, path, body) => el("button", { type: "button", onclick: async () => {
    try { await api(method, path, body); refresh(); } catch (e) { err.replaceChildren(failure(e)); }
  } }, label);
  let traced = -1, traceRounds = 0, traceLength = -1;
  const refresh = async () => {
    try {
      const r = await api("GET", "/runs/" + id);
      head.replaceChildren(el("h1", {}, "Run ", el("span", { class: "mono" }, shortID(r.id)), " ", status(r.status)),
        el("p", { class: "muted" }, r.pipeline.name + " over ",
          el("a", { href: "#/resources/" + r.resource.resource + "/" + r.resource.name }, r.resource.resource + "/" + r.resource.name),
          " (" + r.trigger + "), started " + when(r.startedAt) + (r.message ? " — " + r.message : "")));
      steps.replaceChildren(...r.steps.map((s, i) => el("tr", { "data-step": s.id },
        el("td", {}, s.id), el("td", {}, needsOf(r.pipeline.steps, i).join(", ")), el("td", {}, s.driver || "(approval)"),
        el("td", {}, status(s.status)), el("td", {}, String(s.attempt)), el("td", { class: "wide" }, when(s.dispatchedAt)),
        el("td", {}, duration(s.dispatchedAt, s.finishedAt)),
        el("td", {}, s.waiting || (s.result && s.result.message) || s.reason || "",
          s.result && s.result.data ? el("details", {}, el("summary", {}, "result data"), json(s.result.data)) : []))));
      const buttons = [];
      if (r.status === "running" && may("operator")) buttons.push(act("Cancel", "POST", "/runs/" + id + "/cancel"));
      if (r.status === "failed" && may("operator")) buttons.push(act("Retry", "POST", "/runs/" + id + "/retry"));
      for (const s of r.steps.filter(s => s.status === "waiting" && may("operator"))) {
        buttons.push(act("Approve " + s.id, "POST", "/runs/" + id + "/steps/" + s.id + "/approve", {}));
        buttons.push(act("Reject " + s.id, "POST", "/runs/" + id + "/steps/" + s.id + "/reject", {}));
      }
      actions.replaceChildren(...buttons);
      // The trace grows with each dispatch and result: read it again for a
      // few rounds after the steps changed (it may come a moment after the
      // run's state), and redraw it only when it grew, so that open events
      // stay open.
      const mark = r.steps.reduce((n, s) => n + s.attempt + (s.finishedAt ? 1 : 0), 0) + (r.finishedAt ? 1 : 0);
      if (mark !== traced) { traced = mark; traceRounds = 3; }
      if (traceRounds > 0) {
        traceRounds--;
        const t = await api("GET", "/runs/" + id + "/trace");
        if (t.events.length !== traceLength) { traceLength = t.events.length; trace.replaceChildren(traceList(t)); }
      }
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  };
  every(2000, refresh);
  logLines(id, log, params);
}

// A run's page: steps, actions and the log.

import { api, el, status, shortID, when, duration, every, show, failure } from "./lib.js";

// ansi renders a log line's SGR colours as spans; everything else is text.
function ansi(text) {
  const out = [];
  let classes = [];
  const re = /\x1b\[([0-9;]*)m/g;
  let last = 0, m;
  const push = (s) => { if (s) out.push(classes.length ? el("span", { class: classes.join(" ") }, s) : document.createTextNode(s)); };
  while ((m = re.exec(text)) !== null) {
    push(text.slice(last, m.index));
    last = re.lastIndex;
    for (const code of (m[1] || "0").split(";").map(Number)) {
      if (code === 0) classes = [];
      else if (code === 1) classes.push("ansi-bold");
      else if (code === 39) classes = classes.filter(c => !/^ansi-\d/.test(c));
      else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) {
        classes = classes.filter(c => !/^ansi-\d/.test(c));
        classes.push("ansi-" + (code >= 90 ? code - 60 : code));
      }
    }
  }
  push(text.slice(last).replace(/\x1b\[[0-9;]*[A-Za-z]/g, ""));
  return out;
}

function needsOf(p, i) {
  const s = p.steps[i];
  if (s && s.needs) return s.needs;
  return i > 0 ? [p.steps[i - 1].id] : [];
}

export function runView(id) {
  const head = el("div");
  const steps = el("tbody", { id: "steps" });
  const actions = el("div", { class: "toolbar" });
  const log = el("pre", { class: "log", id: "log", "aria-live": "polite" });
  const err = el("div");
  show(head, actions, err,
    el("table", {}, el("thead", {}, el("tr", {}, ["Step", "Needs", "Driver", "Status", "Attempt", "Duration", "Message"].map(h => el("th", {}, h)))), steps),
    el("h2", {}, "Log"), log);
  let after = 0;
  const act = (label, method, path, body) => el("button", { type: "button", onclick: async () => {
    try { await api(method, path, body); refresh(); } catch (e) { err.replaceChildren(failure(e)); }
  } }, label);
  const refresh = async () => {
    try {
      const r = await api("GET", "/runs/" + id);
      head.replaceChildren(el("h1", {}, "Run ", el("span", { class: "mono" }, shortID(r.id)), " ", status(r.status)),
        el("p", { class: "muted" }, r.pipeline.name + " over " + r.resource.resource + "/" + r.resource.name +
          " (" + r.trigger + "), started " + when(r.startedAt) + (r.message ? " — " + r.message : "")));
      steps.replaceChildren(...r.steps.map((s, i) => el("tr", { "data-step": s.id },
        el("td", {}, s.id), el("td", {}, needsOf(r.pipeline, i).join(", ")), el("td", {}, s.driver || "(approval)"),
        el("td", {}, status(s.status)), el("td", {}, String(s.attempt)), el("td", {}, duration(s.dispatchedAt, s.finishedAt)),
        el("td", {}, s.waiting || (s.result && s.result.message) || s.reason || ""))));
      const buttons = [];
      if (r.status === "running") buttons.push(act("Cancel", "POST", "/runs/" + id + "/cancel"));
      if (r.status === "failed") buttons.push(act("Retry", "POST", "/runs/" + id + "/retry"));
      for (const s of r.steps.filter(s => s.status === "waiting")) {
        buttons.push(act("Approve " + s.id, "POST", "/runs/" + id + "/steps/" + s.id + "/approve", {}));
        buttons.push(act("Reject " + s.id, "POST", "/runs/" + id + "/steps/" + s.id + "/reject", {}));
      }
      actions.replaceChildren(...buttons);
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  };
  every(2000, refresh);
  // The log: its history, then every line after the last one seen.
  every(1000, async () => {
    try {
      const page = await api("GET", "/runs/" + id + "/logs?after=" + after);
      for (const l of page.items) {
        const anchor = "L" + l.sequence;
        log.append(el("div", { class: "log-line", id: anchor }, el("a", { href: "#/runs/" + id + "?line=" + l.sequence }, String(l.sequence)),
          el("span", { class: "muted" }, l.driver + " "), ...ansi(l.message)));
        after = Math.max(after, l.sequence);
      }
    } catch (e) { /* the run may not be readable yet */ }
  });
}


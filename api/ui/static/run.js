// A run's page: its steps as a graph, actions, the selected step's pane,
// the run's log and its trace.

import { api, exchange, el, status, shortID, when, duration, every, show, failure, json, may, needsOf, levels, origin, startedBy } from "./lib.js";
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

// icons of the statuses a step is shown in, each with its colour (app.css,
// .node-STATUS).
const icons = { waiting: "⏸", queued: "◷", pending: "○", running: "▶", succeeded: "✓", failed: "✗", cancelled: "⊘", skipped: "↷" };

// reportNotice tells of a commit status of the run that the git host was
// not sent or did not take (GET /runs/{id}'s statusReports), as the CLI's
// `conveyor run` does.
function reportNotice(f) {
  const attempts = f.attempts === 1 ? "1 attempt" : f.attempts + " attempts";
  return el("p", { class: "report-failed" }, "Commit status '" + f.status + "' could not be reported to the git host: " +
    f.message + " (" + attempts + ")");
}

// shownStatus is the status a step is drawn with: a dispatched step is
// queued while it waits for a driver (none connected, or a retry's
// backoff) and running otherwise; a step that waits for a place in its
// concurrency group is queued too; a step the run left unfinished when it
// ended is cancelled.
export function shownStatus(run, s) {
  const open = s.status === "pending" || s.status === "dispatched" || s.status === "waiting" || s.status === "queued";
  if (open && run.finishedAt) return "cancelled";
  if (s.status === "dispatched") return s.waiting || s.retryAt ? "queued" : "running";
  return s.status;
}

// stepReason is why a step did not run or waits: for a step queued in its
// concurrency group, with its place in the group's queue.
export function stepReason(s) {
  const c = s.concurrency;
  if (s.status === "queued" && c && c.queuedPosition) return (s.reason || "") + ", position " + c.queuedPosition;
  return s.reason;
}

// runSteps is the run's steps as levels() reads them: each with the needs
// of its pipeline step (a matrix instance has its group's), a need that
// names a matrix group standing for every instance of it.
function runSteps(run) {
  const p = run.pipeline.steps;
  const members = new Map();
  for (const s of run.steps) {
    const group = s.matrix ? s.matrix.group : s.id;
    members.set(group, [...(members.get(group) || []), s.id]);
  }
  return run.steps.map((s) => {
    const i = p.findIndex(ps => ps.id === (s.matrix ? s.matrix.group : s.id));
    const needs = i < 0 ? [] : needsOf(p, i).flatMap(n => members.get(n) || [n]);
    return { id: s.id, needs };
  });
}

// graph draws a run's steps as nodes, a column per level of needs, with
// an edge from each step to each step that needs it; update redraws what
// changed, keeping the nodes (and the keyboard's focus) in place.
function runGraph(onSelect) {
  const box = el("div", { class: "run-graph", id: "graph" });
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "edges");
  svg.setAttribute("aria-hidden", "true");
  let shape = "", nodes = new Map(), edges = [];
  const draw = () => {
    const at = box.getBoundingClientRect();
    svg.setAttribute("width", box.scrollWidth);
    svg.setAttribute("height", box.scrollHeight);
    svg.replaceChildren(...edges.map(([from, to]) => {
      const a = nodes.get(from).getBoundingClientRect(), b = nodes.get(to).getBoundingClientRect();
      const x1 = a.right - at.left + box.scrollLeft, y1 = a.top + a.height / 2 - at.top;
      const x2 = b.left - at.left + box.scrollLeft, y2 = b.top + b.height / 2 - at.top;
      const mid = (x1 + x2) / 2;
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`);
      path.setAttribute("class", "edge edge-" + nodes.get(from).dataset.status);
      path.setAttribute("data-from", from);
      path.setAttribute("data-to", to);
      return path;
    }));
  };
  const observer = new ResizeObserver(draw);
  observer.observe(box);
  const update = (run, selected) => {
    const steps = runSteps(run);
    const key = JSON.stringify(steps);
    if (key !== shape) {
      shape = key;
      const level = levels(steps);
      const columns = Array.from({ length: Math.max(0, ...level.values()) + 1 }, (_, l) =>
        el("div", { class: "level", "data-level": String(l), role: "list", "aria-label": "level " + (l + 1) }));
      nodes = new Map();
      for (const s of steps) {
        // A link, so that it is reached with the keyboard and can be
        // opened apart; a click selects the step without routing again.
        const node = el("a", { class: "step-node", href: "#/runs/" + run.id + "?step=" + encodeURIComponent(s.id), "data-step": s.id, role: "listitem",
          onclick: (ev) => { if (ev.ctrlKey || ev.metaKey || ev.shiftKey) return; ev.preventDefault(); onSelect(s.id); } });
        nodes.set(s.id, node);
        columns[level.get(s.id)].append(node);
      }
      edges = steps.flatMap(s => s.needs.filter(n => nodes.has(n)).map(n => [n, s.id]));
      box.replaceChildren(svg, ...columns);
    }
    for (const s of run.steps) {
      const node = nodes.get(s.id), shown = shownStatus(run, s);
      node.dataset.status = shown;
      node.className = "step-node node-" + shown + (s.id === selected ? " selected" : "");
      if (s.id === selected) node.setAttribute("aria-current", "true"); else node.removeAttribute("aria-current");
      node.setAttribute("aria-label", s.id + ", " + shown);
      if (s.status === "queued") node.title = stepReason(s) || ""; else node.removeAttribute("title");
      node.replaceChildren(
        el("span", { class: "step-icon", "aria-hidden": "true" }, icons[shown] || "•"),
        el("span", { class: "step-id" }, s.id),
        el("span", { class: "step-meta muted" }, [s.driver || "approval", s.attempt > 1 ? "#" + s.attempt : "",
          s.status === "queued" && s.concurrency && s.concurrency.queuedPosition ? "in line " + s.concurrency.queuedPosition : "",
          duration(s.dispatchedAt, s.finishedAt || run.finishedAt)].filter(Boolean).join(" · ")));
    }
    requestAnimationFrame(draw);
  };
  return { box, update };
}

// attemptList is what became of each attempt of step s, from the run's
// trace: when it was dispatched, and its result (with its message) or
// its timeout; the last attempt's, while it runs, is "running".
function attemptList(s, trace) {
  const tries = Array.from({ length: s.attempt }, (_, i) => ({ n: i + 1, at: "", outcome: "" }));
  for (const e of (trace && trace.events) || []) {
    if (e.step !== s.id || !e.attempt || e.attempt > tries.length) continue;
    const t = tries[e.attempt - 1];
    if (e.type === "StepDispatched.v1") t.at = t.at || e.time;
    else if (e.type === "DriverResultRecorded.v1" && !e.ignored) t.outcome = (e.result.success ? "succeeded" : "failed") + (e.result.message ? ": " + e.result.message : "");
    else if (e.type === "StepTimedOut.v1") t.outcome = "timed out: " + e.reason;
  }
  return el("ol", { class: "attempts", id: "step-attempt-list" }, tries.map(t => el("li", { "data-attempt": String(t.n) },
    "attempt " + t.n + (t.at ? " (" + when(t.at) + ")" : "") + ": " + (t.outcome || (t.n === s.attempt && !s.finishedAt ? "running" : "—")))));
}

// timesKey keeps in localStorage whether the step's log shows its times.
const timesKey = "conveyor-log-times";
// unlinked is the step pane's linked line when the address names none.
const unlinked = { step: "", attempt: 0, line: "" };

// stepPane shows one step: its status, attempts, parameters, result, and
// its log (of every attempt, or of the one picked), searched and with its
// lines' times on demand, each line's number a link to it. linked is the
// line the address names ({ step, attempt, line }: ?step=&attempt=&stepline=):
// that step's pane opens on that attempt with the line marked and in view,
// the search cleared so that the line is shown. A click on a line's number
// marks it and puts its link in the address; address(f) changes the
// address's query with f, without routing again.
function stepPane(id, linked, address) {
  const pane = el("section", { id: "step-pane", class: "step-pane", hidden: true, "aria-live": "polite" });
  const facts = el("div");
  const picker = el("div", { class: "toolbar", id: "attempts", role: "group", "aria-label": "attempts" });
  const log = el("pre", { class: "log", id: "step-log", tabindex: 0, "aria-label": "step log" });
  let step = null, attempt = 0, attempts = -1, followed = 0, lines = null;
  // The log's header: its times, and a search whose count says how many
  // lines it lets through.
  const look = { find: "", times: localStorage.getItem(timesKey) === "true" };
  const times = el("input", { type: "checkbox", id: "step-times", checked: look.times });
  const find = el("input", { type: "search", id: "step-find", autocomplete: "off", spellcheck: "false", placeholder: "text in the lines" });
  const found = el("span", { class: "muted", id: "step-found", role: "status" });
  const counted = (shown, total) => {
    found.textContent = look.find ? shown + " of " + total + (total === 1 ? " line" : " lines") : "";
  };
  times.addEventListener("change", () => {
    look.times = times.checked;
    localStorage.setItem(timesKey, String(look.times));
    if (lines) lines.view(look);
  });
  find.addEventListener("input", () => { look.find = find.value; if (lines) lines.view(look); });
  const tools = el("div", { class: "toolbar log-tools", id: "step-log-tools" },
    el("label", {}, times, " Timestamps"),
    el("label", { for: "step-find" }, "Search"), find, found);
  pane.append(facts, picker, tools, log);
  const stop = () => { if (lines) lines.stop(); lines = null; };
  const follow = (tries) => {
    followed = tries;
    stop();
    log.replaceChildren();
    delete log.dataset.ended;
    const target = step === linked.step && attempt === linked.attempt ? linked.line : "";
    if (target) look.find = find.value = "";
    lines = logLines(id, log, { step, attempt, target, counted, linked: (n, href) => {
      linked = { step, attempt, line: n };
      history.replaceState(null, "", href);
    } });
    lines.view(look);
  };
  // pick shows one attempt's log (0: every attempt's), and says so in the
  // address; a line linked in another attempt's numbering is no longer.
  const pick = (n) => {
    attempt = n;
    linked = unlinked;
    address((q) => { if (n) q.set("attempt", String(n)); else q.delete("attempt"); q.delete("stepline"); });
    follow(attempts);
    drawPicker();
  };
  const drawPicker = () => {
    picker.replaceChildren(el("span", { class: "muted" }, "Log of "),
      ...[0, ...Array.from({ length: attempts }, (_, i) => i + 1)].map(n =>
        el("button", { type: "button", "data-attempt": String(n), "aria-pressed": String(n === attempt), onclick: () => pick(n) },
          n ? "attempt " + n : "every attempt")));
  };
  const update = (run, selected, trace) => {
    const s = run.steps.find(s => s.id === selected);
    pane.hidden = !s;
    // A link holds for the step it names, until another is selected.
    if (!s || s.id !== linked.step) linked = unlinked;
    if (!s) { stop(); step = null; return; }
    if (s.id !== step) { step = s.id; attempt = s.id === linked.step ? linked.attempt : 0; attempts = -1; follow(s.attempt); }
    // A retried step runs again: a log that ended with its run is
    // followed anew.
    else if (log.dataset.ended && s.attempt > followed) follow(s.attempt);
    if (s.attempt !== attempts) { attempts = s.attempt; drawPicker(); }
    const shown = shownStatus(run, s);
    const message = s.waiting || (s.result && s.result.message) || stepReason(s) || "";
    facts.replaceChildren(
      el("h2", {}, "Step ", el("span", { class: "mono" }, s.id), " ", status(shown)),
      el("dl", { class: "facts" },
        el("dt", {}, "Driver"), el("dd", {}, s.driver || "(approval)"),
        el("dt", {}, "Attempts"), el("dd", { id: "step-attempts" }, String(s.attempt)),
        el("dt", {}, "Started"), el("dd", {}, when(s.dispatchedAt) || "—"),
        el("dt", {}, "Duration"), el("dd", {}, duration(s.dispatchedAt, s.finishedAt || run.finishedAt) || "—"),
        el("dt", {}, "Message"), el("dd", { id: "step-message" }, message || "—")),
      ...(s.attempt > 1 ? [el("h3", {}, "Attempts"), attemptList(s, trace)] : []),
      ...(s.with ? [el("h3", {}, "Parameters (with)"), el("pre", { class: "json", id: "step-with" }, JSON.stringify(s.with, null, 2))] : []),
      ...(s.result && s.result.data ? [el("details", {}, el("summary", {}, "result data"), json(s.result.data))] : []));
  };
  return { pane, update };
}

export function runView(id, params) {
  const head = el("div");
  const actions = el("div", { class: "toolbar" });
  const log = el("pre", { class: "log", id: "log", tabindex: 0, "aria-label": "log" });
  const trace = el("div");
  const err = el("div");
  // The selected step is in the address (?step=), kept there without
  // routing again, so that a page can be shared with its step open; so are
  // the attempt its pane shows (&attempt=) and its line linked to
  // (&stepline=). ?line= alone is a line of the run's log.
  let selected = params.get("step") || "", last = null, lastTrace = null;
  const address = (f) => {
    const q = new URLSearchParams(location.hash.split("?")[1] || "");
    f(q);
    history.replaceState(null, "", "#/runs/" + id + (q.toString() ? "?" + q : ""));
  };
  const select = (stepID) => {
    selected = selected === stepID ? "" : stepID;
    address((q) => {
      if (selected) q.set("step", selected); else q.delete("step");
      q.delete("attempt");
      q.delete("stepline");
    });
    if (last) { graph.update(last, selected); pane.update(last, selected, lastTrace); }
  };
  const graph = runGraph(select);
  const pane = stepPane(id, { step: selected, attempt: Math.max(0, Math.floor(Number(params.get("attempt")))) || 0, line: params.get("stepline") || "" }, address);
  show(head, actions, err, el("h2", {}, "Steps"),
    el("p", { class: "muted small" }, "A column per level of needs; select a step for its log, attempts and parameters."),
    graph.box, pane.pane, el("h2", {}, "Log"), log, el("h2", {}, "Trace"), trace);
  const act = (label, method, path, body) => el("button", { type: "button", onclick: async () => {
    try { await api(method, path, body); refresh(); } catch (e) { err.replaceChildren(failure(e)); }
  } }, label);
  // again is Run again: the resource replaced by itself as it is now
  // (its spec, pipeline and own metadata, guarded by its version), which
  // records a new version and starts a new run; the page goes to it.
  // Retry only resumes a failed run; this runs any ended one's pipeline
  // anew (docs/ui.md).
  const again = (r) => el("button", { type: "button", id: "run-again", onclick: async () => {
    try {
      const path = "/resources/" + encodeURIComponent(r.resource.resource) + "/" + encodeURIComponent(r.resource.name);
      const res = await api("GET", path);
      if (!res.pipeline) throw new Error(r.resource.resource + "/" + r.resource.name + " names no pipeline now: nothing to run");
      const body = { spec: res.spec, pipeline: res.pipeline };
      const meta = {};
      for (const [k, v] of Object.entries(res.metadata || {})) if (k !== "version" && !k.startsWith("driverresults.")) meta[k] = v;
      if (Object.keys(meta).length) body.metadata = meta;
      const made = await exchange("PUT", path, body, { "If-Match": '"' + res.metadata.version + '"' });
      location.hash = "#/runs/" + made.headers.get("Conveyor-Run-Id");
    } catch (e) { err.replaceChildren(failure(e)); }
  } }, "Run again");
  let traced = -1, traceRounds = 0, traceLength = -1, runLog = null, logTries = null;
  const refresh = async () => {
    try {
      const r = await api("GET", "/runs/" + id);
      head.replaceChildren(el("h1", {}, "Run ", el("span", { class: "mono" }, shortID(r.id)), " ", status(r.status)),
        el("p", { class: "muted" }, r.pipeline.name + " over ",
          el("a", { href: "#/resources/" + r.resource.resource + "/" + r.resource.name }, r.resource.resource + "/" + r.resource.name),
          " (" + r.trigger + startedBy(r) + (r.origin ? ": " + origin(r) : "") +
          "), started " + when(r.startedAt) + (r.message ? " — " + r.message : "")),
        ...(r.status === "queued" && r.concurrency ? [el("p", { class: "queued-note" }, "Waits in concurrency group " + r.concurrency.group +
          (r.concurrency.queuedPosition ? ", position " + r.concurrency.queuedPosition : "") + " (limit " + r.concurrency.limit + ")")] : []),
        ...(r.statusReports || []).map(reportNotice));
      last = r;
      // A retried run runs again: a log that ended with it is followed
      // anew once a step has a new attempt (the retry may have ended too
      // by the time the page looks).
      const tries = r.steps.reduce((n, s) => n + s.attempt, 0);
      if (logTries === null) logTries = tries;
      if (log.dataset.ended && tries > logTries) {
        logTries = tries;
        runLog.stop();
        log.replaceChildren();
        delete log.dataset.ended;
        runLog = logLines(id, log, { target: params.get("line") || "" });
      }
      graph.update(r, selected);
      pane.update(r, selected, lastTrace);
      const buttons = [];
      if ((r.status === "running" || r.status === "queued") && may("operator")) buttons.push(act("Cancel", "POST", "/runs/" + id + "/cancel"));
      if (r.status === "failed" && may("operator")) buttons.push(act("Retry", "POST", "/runs/" + id + "/retry"));
      if (r.finishedAt && may("operator")) buttons.push(again(r));
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
        if (t.events.length !== traceLength) {
          traceLength = t.events.length;
          trace.replaceChildren(traceList(t));
          lastTrace = t;
          pane.update(r, selected, lastTrace);
        }
      }
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  };
  every(2000, refresh);
  runLog = logLines(id, log, { target: params.get("line") || "" });
}

// Conveyor's web UI: a few views over the REST API, with the token the user
// signs in with (kept in this tab's sessionStorage). No build step.

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const tokenKey = "conveyor-token";
let timers = [];

function token() { return sessionStorage.getItem(tokenKey) || ""; }

// api calls the REST API; a problem answer becomes an Error with its detail.
async function api(method, path, body) {
  const headers = { "Authorization": "Bearer " + token() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (resp.status === 401) { signOut(); throw new Error("sign in again: the token was refused"); }
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) throw new Error((data && (data.detail || data.title)) || resp.statusText);
  return data;
}

// el builds an element: el("td", {class: "x"}, "text", child).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.addEventListener("click", v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

function status(s) { return el("span", { class: "status status-" + s }, s); }
function shortID(id) { return id.slice(0, 8); }
function when(t) { return t ? new Date(t).toLocaleString() : ""; }
function duration(a, b) {
  if (!a) return "";
  const ms = (b ? new Date(b) : new Date()) - new Date(a);
  return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s";
}
function every(ms, f) { f(); timers.push(setInterval(f, ms)); }
function show(...children) { main.replaceChildren(...children); }
function failure(err) { return el("p", { class: "error", role: "alert" }, String(err.message || err)); }

function signOut() {
  sessionStorage.removeItem(tokenKey);
  location.hash = "#/signin";
}

function signIn() {
  nav.hidden = true;
  // No name: a form submitted without this script would not carry the token
  // into a URL.
  const input = el("input", { type: "password", id: "token", autocomplete: "off", placeholder: "cvy_…", size: 40 });
  const msg = el("p", { class: "error", role: "alert" });
  const form = el("form", {}, el("h1", {}, "Sign in"),
    el("p", { class: "muted" }, "An API token: the server's admin.token, or one from ", el("code", {}, "conveyor tokens create NAME --role viewer"), "."),
    el("label", { for: "token" }, "Token "), input, " ", el("button", { type: "submit", id: "signin" }, "Sign in"), msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(tokenKey, input.value.trim());
    try { await api("GET", "/runs?limit=1"); location.hash = "#/runs"; }
    catch (err) { sessionStorage.removeItem(tokenKey); msg.textContent = err.message; }
  });
  show(form);
  input.focus();
}

function runsView(params) {
  const filter = el("select", { id: "status-filter", "aria-label": "status" },
    ["", "running", "succeeded", "failed", "cancelled"].map(s => el("option", { value: s }, s || "any status")));
  const resource = el("input", { id: "resource-filter", "aria-label": "resource", placeholder: "resource TYPE[/NAME]", size: 22 });
  const pipeline = el("input", { id: "pipeline-filter", "aria-label": "pipeline", placeholder: "pipeline", size: 14 });
  filter.value = params.get("status") || "";
  resource.value = params.get("resource") || "";
  pipeline.value = params.get("pipeline") || "";
  const apply = () => {
    const q = new URLSearchParams();
    for (const [k, v] of [["status", filter.value], ["resource", resource.value.trim()], ["pipeline", pipeline.value.trim()]]) if (v) q.set(k, v);
    location.hash = "#/runs" + (q.toString() ? "?" + q : "");
  };
  filter.addEventListener("change", apply);
  for (const input of [resource, pipeline]) input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") apply(); });
  // Paging: the first page follows new runs; a later page stays where it is.
  const cont = params.get("continue") || "";
  const next = el("a", { id: "next-page", hidden: true }, "Older runs →");
  const first = el("a", { href: "#/runs" + (() => { const q = new URLSearchParams(params); q.delete("continue"); return q.toString() ? "?" + q : ""; })(), hidden: !cont }, "← Newest");
  const body = el("tbody", { id: "runs" });
  const err = el("div");
  show(el("h1", {}, "Runs"), el("div", { class: "toolbar" }, filter, resource, pipeline),
    el("table", {}, el("thead", {}, el("tr", {}, ["Run", "Pipeline", "Resource", "Status", "Started"].map(h => el("th", { class: h === "Started" ? "wide" : null }, h)))), body),
    el("div", { class: "toolbar" }, first, next), err);
  every(2000, async () => {
    try {
      const q = new URLSearchParams({ limit: "50" });
      for (const k of ["status", "resource", "pipeline", "continue"]) if (params.get(k)) q.set(k, params.get(k));
      const page = await api("GET", "/runs?" + q);
      body.replaceChildren(...page.items.map(r => el("tr", { "data-run": r.id },
        el("td", { class: "mono" }, el("a", { href: "#/runs/" + r.id }, shortID(r.id))),
        el("td", {}, r.pipeline.name), el("td", {}, r.resource.resource + "/" + r.resource.name),
        el("td", {}, status(r.status)), el("td", { class: "wide" }, when(r.startedAt)))));
      if (page.continue) {
        const q2 = new URLSearchParams(params);
        q2.set("continue", page.continue);
        next.setAttribute("href", "#/runs?" + q2);
        next.hidden = false;
      } else next.hidden = true;
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  });
}

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

function runView(id) {
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

function driversView() {
  const body = el("tbody", { id: "drivers" });
  const err = el("div");
  show(el("h1", {}, "Drivers"), err,
    el("table", {}, el("thead", {}, el("tr", {}, ["Driver", "Connected", "Instances", "Resources", "Pending", "In flight"].map(h => el("th", {}, h)))), body));
  every(3000, async () => {
    try {
      const list = await api("GET", "/drivers");
      body.replaceChildren(...list.items.map(d => el("tr", {}, el("td", {}, d.name), el("td", {}, d.connected ? "yes" : "no"),
        el("td", {}, String(d.instances.length)), el("td", {}, d.resources.join(", ")), el("td", {}, String(d.pending)), el("td", {}, String(d.inFlight)))));
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  });
}

function route() {
  timers.forEach(clearInterval);
  timers = [];
  const [path, query] = (location.hash.slice(1) || "/runs").split("?");
  const params = new URLSearchParams(query || "");
  if (!token() || path === "/signin") return signIn();
  nav.hidden = false;
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "runs" && parts[1]) return runView(parts[1]);
  if (parts[0] === "drivers") return driversView();
  return runsView(params);
}

document.getElementById("signout").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();

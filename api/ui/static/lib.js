// Shared helpers of the UI's pages: the API call with the signed-in token,
// element building, and small formatting.

export const main = document.getElementById("main");
export const nav = document.getElementById("nav");
const tokenKey = "conveyor-token";
const roleKey = "conveyor-role";
let timers = [];
let leaving = [];

// stopTimers ends the polling and the streams of the page being left.
export function stopTimers() {
  timers.forEach(clearInterval);
  timers = [];
  leaving.forEach(f => f());
  leaving = [];
}

// onLeave runs f when the user leaves the page.
export function onLeave(f) { leaving.push(f); }

export function token() { return sessionStorage.getItem(tokenKey) || ""; }

// api calls the REST API; a problem answer becomes an Error with its detail,
// its status and the whole problem (with its errors array) as err.problem.
// extra adds request headers (If-Match).
export async function api(method, path, body, extra) {
  return (await exchange(method, path, body, extra)).data;
}

// exchange is api with the answer's headers too: { data, headers }.
export async function exchange(method, path, body, extra) {
  const headers = { ...(extra || {}) };
  if (token()) headers["Authorization"] = "Bearer " + token();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (resp.status === 401) { signOut(); throw new Error("sign in again: the token was refused"); }
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) {
    const err = new Error((data && (data.detail || data.title)) || resp.statusText);
    err.status = resp.status;
    err.problem = data || {};
    throw err;
  }
  return { data, headers: resp.headers };
}

// el builds an element: el("td", {class: "x"}, "text", child).
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.addEventListener("click", v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

// pretty is JSON indented for reading (and for the line diff).
export function pretty(v) { return JSON.stringify(v, null, 2); }
// enc escapes one part of an address.
export const enc = encodeURIComponent;

export function status(s) { return el("span", { class: "status status-" + s }, s); }
export function shortID(id) { return id.slice(0, 8); }

// startedBy is " by token alice" (who made the change that started a run),
// "" when the run does not say.
export function startedBy(r) { return r.startedBy ? " by " + r.startedBy.kind + " " + r.startedBy.name : ""; }

// origin says which delivery started a run through a trigger: "push
// 1a2b3c4 on main" (the event, the commit, the branch or tag); "" for none.
export function origin(r) {
  const o = r.origin;
  if (!o) return "";
  const ref = (o.ref || "").replace(/^refs\/(heads|tags)\//, "");
  return o.event + (o.commit ? " " + o.commit.slice(0, 7) : "") + (ref ? " on " + ref : "");
}
export function when(t) { return t ? new Date(t).toLocaleString() : ""; }
export function duration(a, b) {
  if (!a) return "";
  const ms = (b ? new Date(b) : new Date()) - new Date(a);
  return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s";
}
export function every(ms, f) { f(); timers.push(setInterval(f, ms)); }
export function show(...children) { main.replaceChildren(...children); }
export function failure(err) { return el("p", { class: "error", role: "alert" }, String(err.message || err)); }

export function signOut() {
  sessionStorage.removeItem(tokenKey);
  sessionStorage.removeItem(roleKey);
  sessionStorage.removeItem(openKey);
  location.hash = "#/signin";
}

const openKey = "conveyor-open";

// isOpen says whether the server runs without authentication (--auth=false),
// asking it once a tab: GET /me without a token answers "open" there, and
// 401 on a server that wants a token. An open server's pages ask for no
// token, and every action is offered.
export async function isOpen() {
  if (sessionStorage.getItem(openKey) === null) {
    let open = false;
    try {
      const resp = await fetch("/me");
      open = resp.ok && (await resp.json()).open === true;
    } catch (e) { /* the server is away: ask for a token, as before */ }
    sessionStorage.setItem(openKey, String(open));
    if (open) sessionStorage.setItem(roleKey, "admin");
  }
  return sessionStorage.getItem(openKey) === "true";
}

export function signIn() {
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
    try {
      await api("GET", "/runs?limit=1");
      await learnRole();
      location.hash = "#/runs";
    } catch (err) { sessionStorage.removeItem(tokenKey); msg.textContent = err.message; }
  });
  show(form);
  input.focus();
}


// b64url is text in unpadded base64url (the token's form in a WebSocket
// subprotocol).
function b64url(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// follow opens a WebSocket stream of the API at path (asking batch=true,
// ending in "after=") with the signed-in token in its
// subprotocols (a browser cannot set headers there) and hands each message,
// parsed, to onMessage. After a drop it opens the stream again from where it
// was, with from(); a normal close (1000: the run ended) ends it. It ends
// too when the user leaves the page, or when the function it returns is
// called. onDrop, when given, hears each drop.
export function follow(path, from, onMessage, onEnd, onDrop) {
  let ws = null, done = false, retry = null;
  const open = () => {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path + from();
    ws = new WebSocket(url, token() ? ["conveyor.v1", "conveyor.bearer." + b64url(token())] : ["conveyor.v1"]);
    // Asked with batch=true, each message is an array of lines or events.
    ws.onmessage = (ev) => { for (const m of JSON.parse(ev.data)) onMessage(m); };
    ws.onclose = (ev) => {
      if (done) return;
      if (ev.code === 1000) { done = true; if (onEnd) onEnd(); return; }
      if (onDrop) onDrop(ev.code);
      // 1008: this page fell too far behind (a long history arriving at
      // once); it goes on at once from where it was. Anything else waits a
      // second, so that a server away is not asked without pause.
      retry = setTimeout(open, ev.code === 1008 ? 0 : 1000);
    };
  };
  const stop = () => { done = true; clearTimeout(retry); if (ws) ws.close(1000); };
  onLeave(stop);
  open();
  return stop;
}

// json is a value as indented JSON in a pre.
export function json(v) { return el("pre", { class: "json" }, JSON.stringify(v, null, 2)); }

// learnRole asks the server for the signed-in token's role (GET /me) and
// keeps it for the tab. A server without authentication answers admin (and
// open); one that has no /me at all leaves every action offered.
export async function learnRole() {
  let role = "admin";
  try { role = (await api("GET", "/me")).role; } catch (e) { /* no authentication: everything is allowed */ }
  sessionStorage.setItem(roleKey, role);
}

// may says whether the signed-in role may do what needs role; pages hide
// the buttons it may not use. The server decides anyway (403).
export function may(role) {
  const mine = sessionStorage.getItem(roleKey) || "admin";
  return mine === "admin" || mine === role || (role === "viewer" && (mine === "operator" || mine === "driver"));
}

// knowsRole says whether the role of the signed-in token is known.
export function knowsRole() { return sessionStorage.getItem(roleKey) !== null; }

// levels puts each step one level after the last of those it needs; a
// need that names no step (or a cycle) counts as nothing. It is the whole
// layout of a pipeline's graph (the pipeline page's and a run's): columns
// by level, in pipeline order within a column.
export function levels(steps) {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const level = new Map();
  const visiting = new Set();
  const of = (i) => {
    const id = steps[i].id;
    if (level.has(id)) return level.get(id);
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let l = 0;
    for (const n of needsOf(steps, i)) if (index.has(n)) l = Math.max(l, of(index.get(n)) + 1);
    visiting.delete(id);
    level.set(id, l);
    return l;
  };
  steps.forEach((_, i) => of(i));
  return level;
}

// needsOf is what step i of a pipeline's steps waits for: its needs, or
// without them the step before it (an empty list: nothing).
export function needsOf(steps, i) {
  if (steps[i].needs) return steps[i].needs;
  return i > 0 ? [steps[i - 1].id] : [];
}

// The events page: the audit log, filtered by aggregate, type, run and time,
// a page at a time, optionally following new events live; each event opens
// to its JSON.

import { api, el, when, show, failure, follow, json } from "./lib.js";

const pageSize = 100;

function eventItem(e) {
  const actor = e.actor ? e.actor.kind + " " + e.actor.name : "";
  return el("li", { "data-sequence": String(e.sequence) }, el("details", {},
    el("summary", {}, el("span", { class: "mono" }, "#" + e.sequence), " ", el("strong", {}, e.type), " ",
      e.aggregate + "/" + e.aggregateId, " ", el("span", { class: "muted" }, when(e.time) + (actor ? " · " + actor : ""))),
    json(e)));
}

export function eventsView(params) {
  const field = (id, label, placeholder, size, type) => {
    const input = el("input", { id, "aria-label": label, placeholder, size, type: type || "text" });
    input.value = params.get(id.replace("events-", "")) || "";
    return input;
  };
  const aggregate = field("events-aggregate", "aggregate", "aggregate KIND[/ID]", 22);
  const type = field("events-type", "type", "type, e.g. RunStarted.v1", 20);
  const run = field("events-runid", "run", "run id", 14);
  const since = field("events-since", "since", "", 0, "datetime-local");
  const until = field("events-until", "until", "", 0, "datetime-local");
  const live = el("input", { type: "checkbox", id: "events-live" });
  const apply = () => {
    const q = new URLSearchParams();
    for (const [k, input] of [["aggregate", aggregate], ["type", type], ["runid", run], ["since", since], ["until", until]]) {
      if (input.value.trim()) q.set(k, input.value.trim());
    }
    location.hash = "#/events" + (q.toString() ? "?" + q : "");
  };
  for (const input of [aggregate, type, run]) input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") apply(); });
  for (const input of [since, until]) input.addEventListener("change", apply);
  const list = el("ol", { class: "events", id: "events" });
  const more = el("a", { id: "events-next", hidden: true }, "Later events →");
  const err = el("div");
  show(el("h1", {}, "Events"),
    el("div", { class: "toolbar" }, aggregate, type, run, el("label", {}, "since ", since), el("label", {}, "until ", until),
      el("label", {}, live, " follow live")),
    err, list, el("div", { class: "toolbar" }, more));

  const filters = new URLSearchParams();
  for (const k of ["aggregate", "type", "runid"]) if (params.get(k)) filters.set(k, params.get(k));
  const q = new URLSearchParams(filters);
  for (const k of ["since", "until"]) if (params.get(k)) q.set(k, new Date(params.get(k)).toISOString());
  q.set("limit", String(pageSize));
  if (params.get("after")) q.set("after", params.get("after"));
  let last = Number(params.get("after") || 0);
  let following = false;
  api("GET", "/events?" + q).then((page) => {
    list.replaceChildren(...page.items.map(eventItem));
    for (const e of page.items) last = Math.max(last, e.sequence);
    if (page.items.length === pageSize) {
      const next = new URLSearchParams(params);
      next.set("after", String(last));
      more.setAttribute("href", "#/events?" + next);
      more.hidden = false;
    }
  }).catch((e) => err.replaceChildren(failure(e)));
  // Following goes on from the last event shown, with the same filters (the
  // stream has no time filter: it follows what comes next).
  live.addEventListener("change", () => {
    if (!live.checked || following) return;
    following = true;
    more.hidden = true;
    follow("/events/stream?batch=true&" + filters + (filters.toString() ? "&" : "") + "after=", () => last, (e) => {
      if (e.sequence <= last) return;
      last = e.sequence;
      list.append(eventItem(e));
    });
  });
}

// The triggers page: each trigger, the address a git host sends its
// deliveries to, its latest deliveries with their answers and the runs they
// started, and a
// form that tries it on a payload (POST /triggers/{name}/test, which writes
// nothing).

import { api, el, shortID, when, every, show, failure, enc, json, may } from "./lib.js";

// shownDeliveries is how many of a trigger's latest deliveries its row shows.
const shownDeliveries = 5;

// delivery is one of a trigger's latest deliveries: the answer's status,
// then the run it started, or why it wrote nothing (such a delivery is kept
// only in the memory of the server that answered it).
function delivery(d) {
  const answer = el("span", { class: "delivery-answer mono status " + (d.status === 201 ? "status-succeeded" : d.status < 300 ? "status-pending" : "status-failed") },
    String(d.status));
  if (d.kept === "memory") {
    return el("div", { class: "delivery-memory", title: "wrote nothing: kept only in this server's memory" }, answer, " ",
      (d.event || "no event") + " ", el("span", { class: "muted small" }, (d.reason || "") + ", " + when(d.time)));
  }
  return el("div", {}, answer, " ",
    d.runid ? el("a", { class: "mono", href: "#/runs/" + d.runid }, shortID(d.runid)) : el("span", { class: "muted" }, "no run"), " ",
    d.event + (d.commit ? " " + d.commit.slice(0, 7) : "") + " ",
    el("span", { class: "muted small" }, d.resource + ", " + when(d.time)));
}

// hookAddress is where a git host sends the trigger's deliveries.
function hookAddress(t) { return location.origin + "/hooks/" + enc(t.name); }

function takes(t) {
  return t.source === "schedule" ? t.schedule + " (" + (t.timeZone || "UTC") + ")" : (t.events || []).join(", ");
}

export function triggersView() {
  const body = el("tbody", { id: "triggers" });
  const err = el("div");
  const tryPane = el("section", { id: "trigger-try" });
  show(el("h1", {}, "Triggers"),
    el("p", { class: "muted small" }, "Saved with conveyor apply -f. Point a git host's webhook at the address, content type application/json, signed with the trigger's secret."),
    err,
    el("table", {}, el("thead", {}, el("tr", {}, ["Trigger", "Source", "Takes", "Writes", "Pipeline", "Webhook address", "Latest deliveries", ""].map(h => el("th", {}, h)))), body),
    tryPane);
  every(5000, async () => {
    try {
      const triggers = await api("GET", "/triggers?limit=500");
      const deliveries = await Promise.all(triggers.items.map(t => api("GET", "/triggers/" + enc(t.name) + "/deliveries")));
      body.replaceChildren(...triggers.items.map((t, i) => {
        const latest = deliveries[i].items.slice(0, shownDeliveries);
        return el("tr", { "data-trigger": t.name },
          el("td", {}, t.name),
          el("td", {}, t.source),
          el("td", {}, takes(t)),
          el("td", {}, t.resource.type),
          el("td", {}, t.pipeline || el("span", { class: "muted" }, "none")),
          el("td", { class: "mono" }, t.source === "schedule" ? el("span", { class: "muted" }, "fires on its schedule") : hookAddress(t)),
          el("td", { class: "trigger-deliveries" }, latest.length ? latest.map(delivery) : el("span", { class: "muted" }, "none yet")),
          el("td", {}, t.source !== "schedule" && may("admin") ?
            el("button", { type: "button", "data-try": t.name, onclick: () => tryForm(tryPane, t) }, "Try") : ""));
      }));
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  });
}

// tryForm lets the user try trigger t on a payload: what a delivery like it
// would write, or why nothing.
function tryForm(pane, t) {
  const event = el("input", { id: "try-event", "aria-label": "event", placeholder: "event, e.g. " + ((t.events || [])[0] || "push"), size: 18 });
  const payload = el("textarea", { id: "try-payload", "aria-label": "payload", rows: 10, cols: 80,
    placeholder: "the JSON payload, as the git host sends it (copy it from the host's recent deliveries)" });
  const out = el("div", { id: "try-result" });
  const run = el("button", { type: "button", id: "try-run", onclick: async () => {
    out.replaceChildren();
    let body;
    try { body = { payload: JSON.parse(payload.value) }; } catch (e) { out.replaceChildren(failure(new Error("the payload is not JSON: " + e.message))); return; }
    if (event.value.trim()) body.event = event.value.trim();
    try {
      const answer = await api("POST", "/triggers/" + enc(t.name) + "/test", body);
      const said = answer.outcome === "would fire"
        ? "would fire (event " + answer.event + "): write " + answer.resource.resource + "/" + answer.resource.name +
          (answer.resource.pipeline ? ", which starts a run of " + answer.resource.pipeline : "")
        : answer.outcome + " (event " + answer.event + "): " + answer.reason;
      out.replaceChildren(el("p", { class: "try-outcome" }, said), answer.resource ? json(answer.resource.spec) : "",
        el("p", { class: "muted small" }, "Nothing was written."));
    } catch (e) { out.replaceChildren(failure(e)); }
  } }, "Try");
  pane.replaceChildren(el("h2", {}, "Try " + t.name),
    el("p", { class: "muted small" }, "What a delivery with this payload would do; nothing is written. The event is the one given here."),
    el("div", { class: "toolbar" }, event, run), payload, out);
  payload.focus();
}

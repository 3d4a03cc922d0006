// The drivers page: which are connected, for which resource types.

import { api, el, status, shortID, when, duration, every, show, failure } from "./lib.js";

export function driversView() {
  const body = el("tbody", { id: "drivers" });
  const err = el("div");
  show(el("h1", {}, "Drivers"), err,
    el("table", {}, el("thead", {}, el("tr", {}, ["Driver", "Connected", "Instances", "Resources", "Labels", "Pending", "In flight"].map(h => el("th", {}, h)))), body));
  every(3000, async () => {
    try {
      const list = await api("GET", "/drivers");
      body.replaceChildren(...list.items.map(d => el("tr", {}, el("td", {}, d.name), el("td", {}, d.connected ? "yes" : "no"),
        el("td", {}, String(d.instances.length)), el("td", {}, d.resources.join(", ")), el("td", {}, labelSets(d.instances)), el("td", {}, String(d.pending)), el("td", {}, String(d.inFlight)))));
      err.replaceChildren();
    } catch (e) { err.replaceChildren(failure(e)); }
  });
}


// labelSets are the label sets of a driver's instances, each once: "gpu,linux linux", "-" when none has labels.
function labelSets(instances) {
  const sets = [...new Set(instances.filter(i => i.labels && i.labels.length).map(i => i.labels.join(",")))].sort();
  return sets.length ? sets.join(" ") : "-";
}

// Conveyor's web UI: a few views over the REST API, with the token the user
// signs in with (kept in this tab's sessionStorage). No build step: each page
// is an ES module, and this one routes between them.

import { nav, token, signIn, signOut, stopTimers, learnRole, knowsRole, isOpen } from "./lib.js";

// shown counts the pages routed to: a page whose module arrives after the
// user moved on is not drawn.
let shown = 0;

// routes maps the first part of the address after "#/" to its page; a page
// gets the remaining parts and the query. Each page's module is loaded when
// it is first shown, so the runs page needs three files, not every page's.
const page = (file, name) => (...args) => {
  const mine = shown;
  return import(file).then(m => { if (mine === shown) m[name](...args); });
};
const routes = {
  runs: (parts, params) => parts[1] ? page("./run.js", "runView")(parts[1], params) : page("./runs.js", "runsView")(params),
  drivers: page("./drivers.js", "driversView"),
  events: (parts, params) => page("./events.js", "eventsView")(params),
  maintenance: page("./maintenance.js", "maintenanceView"),
  resources: page("./resources.js", "resourcesView"),
  definitions: page("./defs.js", "definitionsView"),
  pipelines: page("./defs.js", "pipelinesView"),
  triggers: page("./triggers.js", "triggersView"),
};

async function route() {
  stopTimers();
  shown++;
  const [path, query] = (location.hash.slice(1) || "/runs").split("?");
  const params = new URLSearchParams(query || "");
  const open = !token() && await isOpen();
  if ((!token() && !open) || path === "/signin") return signIn();
  if (!knowsRole()) await learnRole();
  nav.hidden = false;
  document.getElementById("signout").hidden = open;
  const parts = path.split("/").filter(Boolean);
  return (routes[parts[0]] || routes.runs)(parts, params);
}

document.getElementById("signout").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();

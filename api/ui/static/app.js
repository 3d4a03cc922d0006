// Conveyor's web UI: a few views over the REST API, with the token the user
// signs in with (kept in this tab's sessionStorage). No build step: each page
// is an ES module, and this one routes between them.

import { nav, token, signIn, signOut, stopTimers, learnRole, knowsRole } from "./lib.js";
import { runsView } from "./runs.js";
import { runView } from "./run.js";
import { driversView } from "./drivers.js";
import { eventsView } from "./events.js";
import { maintenanceView } from "./maintenance.js";
import { resourcesView } from "./resources.js";
import { definitionsView, pipelinesView } from "./defs.js";

// routes maps the first part of the address after "#/" to its page; a page
// gets the remaining parts and the query.
const routes = {
  runs: (parts, params) => parts[1] ? runView(parts[1], params) : runsView(params),
  drivers: () => driversView(),
  events: (parts, params) => eventsView(params),
  maintenance: () => maintenanceView(),
  resources: (parts, params) => resourcesView(parts, params),
  definitions: (parts) => definitionsView(parts),
  pipelines: (parts) => pipelinesView(parts),
};

async function route() {
  stopTimers();
  const [path, query] = (location.hash.slice(1) || "/runs").split("?");
  const params = new URLSearchParams(query || "");
  if (!token() || path === "/signin") return signIn();
  if (!knowsRole()) await learnRole();
  nav.hidden = false;
  const parts = path.split("/").filter(Boolean);
  return (routes[parts[0]] || routes.runs)(parts, params);
}

document.getElementById("signout").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();

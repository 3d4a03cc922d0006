// A run's log on its page: the history, then each line as the server stores
// it, over the WebSocket stream (one ordered reader on the server: no gap,
// no duplicate; after a drop it reconnects from the last line it has).
//
// A log may hold 100,000 lines. They are kept as data in chunks of 200, and
// a chunk is drawn only while it is near the visible part of the log; a
// chunk away from it keeps its height and drops its elements. So the page
// holds a few hundred line elements however long the log is. (The browser's
// find-in-page sees only the drawn lines.)

import { el, follow } from "./lib.js";

const chunkSize = 200;

// ansi renders a log line's SGR colours as spans; everything else is text.
export function ansi(text) {
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

// logLines follows run id's log into pre: the whole run's, or with step
// (and attempt) one step's, each line shown with its number in that log
// (the server's line). A line of the run's log linked to (?line=N) is
// drawn, scrolled to and marked; otherwise the view stays at the newest
// line while the reader is there. It returns what stops the follow.
export function logLines(id, pre, params, step, attempt) {
  const target = step ? null : params.get("line");
  const chunks = [];
  let after = 0, line = 0, received = 0, queue = [], scheduled = false, lineHeight = 0;
  const lineOf = (l) => {
    const n = String(l.line || l.sequence);
    const e = el("div", step ? { class: "log-line" } : { class: "log-line", id: "L" + n },
      step ? el("span", { class: "log-no" }, n) : el("a", { class: "log-no", href: "#/runs/" + id + "?line=" + n }, n),
      el("span", { class: "muted" }, (step ? "" : (l.step ? l.step + "#" + (l.attempt || 1) + " " : "")) + l.driver + (step && l.attempt > 1 ? " #" + l.attempt : "") + " "),
      ...ansi(l.message));
    if (n === target) e.classList.add("log-target");
    return e;
  };
  // following: the view stays at the newest line, until the reader
  // scrolls away from it (and again once they scroll back to it).
  let following = !target, userScroll = false;
  const atEnd = () => pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  // toEnd keeps a following view at the newest line: once a frame at most,
  // since setting the scroll position makes the browser lay the log out.
  let endWanted = false;
  const toEnd = () => {
    if (!following || endWanted) return;
    endWanted = true;
    requestAnimationFrame(() => { endWanted = false; if (following) pre.scrollTop = pre.scrollHeight; });
  };
  for (const ev of ["wheel", "touchmove", "keydown", "mousedown"]) pre.addEventListener(ev, () => { userScroll = true; }, { passive: true });
  pre.addEventListener("scroll", () => { if (userScroll) { userScroll = false; following = atEnd(); } });
  const draw = (c) => {
    if (c.drawn) return;
    c.drawn = true;
    c.el.replaceChildren(...c.lines.map(lineOf));
    c.el.style.height = "";
    toEnd();
  };
  // undraw keeps the chunk's height as the observer measured it (reading
  // it from the element would make the browser lay the log out again).
  const undraw = (c, height) => {
    if (!c.drawn) return;
    c.el.style.height = height + "px";
    c.drawn = false;
    c.el.replaceChildren();
  };
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) draw(e.target.chunk);
      else undraw(e.target.chunk, e.boundingClientRect.height);
    }
  }, { root: pre, rootMargin: "1500px 0px" });
  const flush = () => {
    scheduled = false;
    const touched = new Set();
    let marked = null;
    for (const l of queue) {
      let c = chunks[chunks.length - 1];
      if (!c || c.lines.length === chunkSize) {
        // A new chunk starts as its height only; the observer draws it if
        // it is near the view. A history arriving at once thus makes
        // elements for the lines on screen, not for all of them.
        c = { lines: [], el: el("div", { class: "log-chunk" }), drawn: false };
        c.el.chunk = c;
        chunks.push(c);
        pre.append(c.el);
        seen.observe(c.el);
      }
      c.lines.push(l);
      if (c.drawn) c.el.append(lineOf(l));
      else touched.add(c);
      if (String(l.line || l.sequence) === target) marked = c;
    }
    queue = [];
    if (!lineHeight) {
      const first = pre.querySelector(".log-line");
      lineHeight = (first && first.offsetHeight) || 0;
    }
    for (const c of touched) if (!c.drawn) c.el.style.height = (c.lines.length * (lineHeight || 21)) + "px";
    pre.dataset.lines = String(received);
    if (marked) { draw(marked); document.getElementById("L" + target).scrollIntoView({ block: "center" }); }
    else toEnd();
  };
  const filter = step ? "&step=" + encodeURIComponent(step) + (attempt ? "&attempt=" + attempt : "") : "";
  // A reconnect names the last line's number too (line=), which spares
  // the server counting the lines before it.
  const stop = follow("/runs/" + id + "/logs/stream?batch=true" + filter + "&after=", () => after + (line ? "&line=" + line : ""), (l) => {
    if (l.sequence <= after) return;
    after = l.sequence;
    line = l.line || 0;
    received++;
    queue.push(l);
    if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
  }, () => { pre.dataset.ended = "true"; }, () => { pre.dataset.drops = String(Number(pre.dataset.drops || 0) + 1); });
  return () => { stop(); seen.disconnect(); };
}

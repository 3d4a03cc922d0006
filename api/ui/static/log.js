// A run's log on its page: the history, then each line as the server stores
// it, over the WebSocket stream (one ordered reader on the server: no gap,
// no duplicate; after a drop it reconnects from the last line it has).
//
// A log may hold 100,000 lines. They are kept as data in chunks of 200, and
// a chunk is drawn only while it is near the visible part of the log; a
// chunk away from it keeps its height and drops its elements. So the page
// holds a few hundred line elements however long the log is. (The browser's
// find-in-page sees only the drawn lines; a step's pane has its own search,
// which reads the data.)

import { el, follow, when } from "./lib.js";

const chunkSize = 200;

// clock is t's local time of day to the millisecond: "14:03:09.120".
function clock(t) {
  const d = new Date(t), two = (n) => String(n).padStart(2, "0");
  return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

// plain is a line's message as searched: without its escape sequences, in
// lower case (kept on the line once asked).
function plain(l) {
  if (l.plain === undefined) l.plain = l.message.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").toLowerCase();
  return l.plain;
}

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
// (the server's line) as a link to it: #/runs/ID?line=N in the run's log,
// #/runs/ID?step=STEP&attempt=A&stepline=N in a step's (attempt only when
// one is picked: a step's lines are numbered per attempt then). The line
// numbered target is drawn wherever it is in the log, scrolled to and
// marked; otherwise the view stays at the newest line while the reader is
// there. With linked, a click on a line's number (without a modifier key)
// marks that line in place and tells linked(n, href) instead of following
// the link.
//
// It returns { stop, view }: stop ends the follow; view({ find, times })
// shows only the lines whose message contains find, in any case (all of
// them when it is empty), and each line's time when times is set, the
// lines that arrive later too. counted, when given, is told how many lines
// are shown and how many there are, after view and as lines arrive.
export function logLines(id, pre, { step = "", attempt = 0, target = "", counted, linked } = {}) {
  const chunks = [];
  let after = 0, line = 0, received = 0, shown = 0, queue = [], scheduled = false, lineHeight = 0;
  let find = "", times = false;
  const matches = (l) => !find || plain(l).includes(find);
  const href = (n) => "#/runs/" + id + (step
    ? "?step=" + encodeURIComponent(step) + (attempt ? "&attempt=" + attempt : "") + "&stepline=" + n
    : "?line=" + n);
  // mark moves the mark to line element e, numbered n.
  const mark = (e, n) => {
    target = n;
    following = false;
    for (const m of pre.querySelectorAll(".log-target")) m.classList.remove("log-target");
    e.classList.add("log-target");
  };
  const lineOf = (l) => {
    const n = String(l.line || l.sequence);
    const e = el("div", step ? { class: "log-line", "data-line": n } : { class: "log-line", id: "L" + n },
      el("a", linked ? { class: "log-no", href: href(n), onclick: (ev) => {
        if (ev.button || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
        ev.preventDefault();
        mark(e, n);
        linked(n, href(n));
      } } : { class: "log-no", href: href(n) }, n),
      times && l.time ? el("time", { class: "log-time muted", datetime: l.time, title: when(l.time) }, clock(l.time)) : [],
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
    c.el.replaceChildren(...(find ? c.lines.filter(matches) : c.lines).map(lineOf));
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
        c = { lines: [], shown: 0, el: el("div", { class: "log-chunk" }), drawn: false };
        c.el.chunk = c;
        chunks.push(c);
        pre.append(c.el);
        seen.observe(c.el);
      }
      c.lines.push(l);
      if (String(l.line || l.sequence) === target) marked = c;
      if (!matches(l)) continue;
      c.shown++;
      shown++;
      if (c.drawn) c.el.append(lineOf(l));
      else touched.add(c);
    }
    queue = [];
    if (!lineHeight) {
      const first = pre.querySelector(".log-line");
      lineHeight = (first && first.offsetHeight) || 0;
    }
    for (const c of touched) if (!c.drawn) c.el.style.height = (c.shown * (lineHeight || 21)) + "px";
    pre.dataset.lines = String(received);
    if (counted) counted(shown, received);
    // The marked line's chunk is drawn wherever it is; the chunks drawn
    // then near it keep it in place as their measured heights replace
    // the estimated ones (the browser's scroll anchoring).
    if (marked) { draw(marked); pre.querySelector(".log-target")?.scrollIntoView({ block: "center" }); }
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
  // view gives every chunk the height of the lines it now shows, drawn
  // or not, and observes it anew: the observer draws again the chunks
  // near the view, as many as before whatever the search let through.
  const view = (look) => {
    find = (look.find || "").toLowerCase();
    times = !!look.times;
    shown = 0;
    for (const c of chunks) {
      c.shown = find ? c.lines.filter(matches).length : c.lines.length;
      shown += c.shown;
      c.drawn = false;
      c.el.replaceChildren();
      c.el.style.height = (c.shown * (lineHeight || 21)) + "px";
      seen.unobserve(c.el);
      seen.observe(c.el);
    }
    if (counted) counted(shown, received);
  };
  return { stop: () => { stop(); seen.disconnect(); }, view };
}

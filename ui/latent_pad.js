// The decoder view: the decoding (an image, a text block and/or a sound, as the display module
// previews it) with its off-manifold meter, and the latent pad, a square
// over the current map's plane. Dragging the pad's handle sends the map point to Python while the
// pointer moves (flow-controlled: the next point leaves when the server has acknowledged the
// previous one, so the image never lags behind a queue); the answer comes back as this
// component's data, so a drag step redraws this one element and nothing else on the page.
// The same code marks the current point, an interpolation path and A/B marks on the big Plotly
// map without touching the figure (an SVG laid over the chart), and turns a click on empty map
// space into a new point.
const STATES = new WeakMap();
const SVGNS = "http://www.w3.org/2000/svg";
const RESEND_AFTER_MS = 400; // an unacknowledged point is given up on after this long
// Points sent and not yet answered, at most. Two keep the server busy: Streamlit queues a fragment rerun
// that arrives during another (it does not interrupt it) and runs it with the newest point, so the next
// decoding starts while the last one travels to the browser and is drawn, instead of after it.
const IN_FLIGHT = 2;
let TIMING = false; // data.timing: the debug switch VAE_DEBUG=timing (vae/debug.py)

function log(kind, rec) {
  // a small ring buffer the browser benchmarks read (scripts/benchmark.py --browser, loadtest.py)
  if (!TIMING) return;
  const w = window;
  w.__latentPad = w.__latentPad || { sent: [] };
  const buf = w.__latentPad[kind] || (w.__latentPad[kind] = []);
  buf.push(rec);
  if (buf.length > 2000) buf.splice(0, buf.length - 2000);
}

function toUnit(b, p) { // map point -> [0, 1000] svg units, y down
  return [((p[0] - b[0]) / (b[1] - b[0])) * 1000, ((b[3] - p[1]) / (b[3] - b[2])) * 1000];
}

function fromEvent(s, e) {
  const r = s.pad.getBoundingClientRect();
  const b = s.data.bounds;
  const u = Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1);
  const v = Math.min(Math.max((e.clientY - r.top) / r.height, 0), 1);
  return [b[0] + u * (b[1] - b[0]), b[3] - v * (b[3] - b[2])];
}

function inFlight() { // a timing build lets the benchmark compare limits (scripts/benchmark.py --drag --in-flight)
  const d = TIMING ? Number(window.__latentPadInFlight) : 0;
  return d >= 1 ? d : IN_FLIGHT;
}

function send(s, pos, dragging, source) {
  const t = performance.now();
  if (s.seq - s.acked >= inFlight() && t - s.sentAt < RESEND_AFTER_MS) {
    s.pending = { pos, dragging, source };
    clearTimeout(s.timer);
    s.timer = setTimeout(() => flush(s, true), RESEND_AFTER_MS - (t - s.sentAt) + 5);
    return;
  }
  s.pending = null;
  if (s.seq - s.acked >= inFlight()) s.acked = s.seq;  // the server never answered: give up on those points
  s.seq += 1;
  s.sentAt = t;
  log("sent", { seq: s.seq, t });
  s.set("point", { x: pos[0], y: pos[1], seq: s.seq, dragging, source });
}

function flush(s, timedOut) {
  if (timedOut) s.acked = s.seq;
  if (s.pending && s.seq - s.acked < inFlight()) { const p = s.pending; send(s, p.pos, p.dragging, p.source); }
}

function svgEl(tag, attrs, parent) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function drawPadStatic(s) { // the path and the marks: they change with the data, not with the pointer
  const svg = s.pad.querySelector("svg");
  const b = s.data.bounds;
  const path = (s.data.path || []).map((p) => toUnit(b, p).map((v) => v.toFixed(1)).join(",")).join(" ");
  svg.querySelector(".lp-path").setAttribute("points", path);
  const marks = svg.querySelector(".lp-marks");
  marks.replaceChildren();
  for (const m of s.data.marks || []) {
    const [u, v] = toUnit(b, [m.x, m.y]);
    svgEl("circle", { cx: u, cy: v, r: 14, class: "lp-mark" }, marks);
    const t = svgEl("text", { x: u + 18, y: v + 10, class: "lp-mark-label" }, marks);
    t.textContent = m.label;
  }
}

function drawPad(s) { // the handle, its cross-hair and the read-out
  if (!s.pos) return;
  const svg = s.pad.querySelector("svg");
  const [u, v] = toUnit(s.data.bounds, s.pos);
  const hl = svg.querySelector(".lp-h"), vl = svg.querySelector(".lp-v"), h = svg.querySelector(".lp-handle");
  hl.setAttribute("y1", v); hl.setAttribute("y2", v);
  vl.setAttribute("x1", u); vl.setAttribute("x2", u);
  h.setAttribute("cx", u); h.setAttribute("cy", v);
  const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
  const ax = s.data.axes || ["x", "y"];
  s.readout.textContent = `${ax[0]} ${fmt(s.pos[0])}   ${ax[1]} ${fmt(s.pos[1])}`;
}

function showImage(s, root) {
  const img = root.querySelector("img.decoded");
  const d = s.data;
  if (img) img.hidden = !d.image;
  if (img && d.image && img.getAttribute("src") !== d.image) {
    img.setAttribute("src", d.image);
    img.setAttribute("alt", d.alt || "decoded image");
    img.dataset.seq = String(d.ack);
    const seq = Number(d.ack);
    const t = performance.now();
    (img.decode ? img.decode() : Promise.resolve()).catch(() => {}).then(() => log("shown", { seq, t, painted: performance.now() }));
  }
  const text = root.querySelector(".decoded-text");
  if (text) {
    text.hidden = !d.text;
    if (text.textContent !== (d.text || "")) text.textContent = d.text || "";  // literal text
    if (d.text && text.dataset.seq !== String(d.ack)) {  // a new answer, even when it decodes to the same words
      text.dataset.seq = String(d.ack);
      const seq = Number(d.ack), t = performance.now();
      requestAnimationFrame(() => log("shown", { seq, t, painted: performance.now() }));
    }
  }
  showAudio(s, root);
  const help = root.querySelector(".lp-help");
  if (help && help.textContent !== (d.help || "")) help.textContent = d.help || "";
  const side = root.querySelector(".lp-side");
  if (side && side.dataset.html !== (d.side || "")) {
    side.innerHTML = d.side || "";  // our own markup from Python (the meter), never user text
    side.dataset.html = d.side || "";
  }
}

// "Play while dragging": a step sequencer in Web Audio that loops the two bars and reads the current
// decoding's notes at every step, so a new decoding is heard from the next sixteenth on, without the
// restart an <audio> element would make. The same plain instrument as the WAV: a few harmonics, an envelope.
const LOOKAHEAD_S = 0.12;

function liveTone(ctx, midi, when, seconds) {
  const f = 440 * Math.pow(2, (midi - 69) / 12), out = ctx.createGain();
  // attack, decay to the sustain level, release: every point inside the note, so a short note ends silent
  const attack = Math.min(0.008, seconds / 4), decay = Math.min(0.16, 0.6 * seconds), release = Math.min(0.05, seconds / 3);
  out.gain.setValueAtTime(0, when);
  out.gain.linearRampToValueAtTime(0.22, when + attack);
  out.gain.linearRampToValueAtTime(0.13, when + Math.max(attack, Math.min(decay, seconds - release)));
  out.gain.setValueAtTime(0.13, when + seconds - release);
  out.gain.linearRampToValueAtTime(0, when + seconds);
  out.connect(ctx.destination);
  [1, 0.45, 0.2].forEach((a, k) => {
    const o = ctx.createOscillator(), g = ctx.createGain();
    o.frequency.value = f * (k + 1); g.gain.value = a / 1.65;
    o.connect(g); g.connect(out); o.start(when); o.stop(when + seconds + 0.02);
  });
}

function liveTick(s, box) {
  const L = s.live, ctx = L.ctx, notes = s.data.notes || [], step = s.data.step_s || 0.125;
  if (!box.isConnected) { clearInterval(L.timer); ctx.close(); s.live = null; return; }  // the pad is gone
  if (L.next < ctx.currentTime) {  // the timer fell behind (a busy page, a background tab): skip, never pile up
    const missed = Math.ceil((ctx.currentTime - L.next) / step);
    L.next += missed * step; L.step += missed;
  }
  while (L.next < ctx.currentTime + LOOKAHEAD_S) {
    const k = L.step % 32;
    for (const [a, b, m] of notes) if (a === k) liveTone(ctx, m, L.next, (b - a) * step);
    L.next += step; L.step += 1;
    box.dataset.steps = String(L.step);  // how far the loop has played (tests read it)
  }
}

function liveAudio(s, root) {
  const box = root.querySelector(".lp-live"), toggle = root.querySelector(".lp-live-toggle");
  if (!box || !toggle) return;
  box.hidden = !(s.data.notes && s.data.notes.length) && !s.live;
  box.dataset.notes = JSON.stringify(s.data.notes || []);
  if (toggle.dataset.bound) return;
  toggle.dataset.bound = "1";
  toggle.addEventListener("change", () => {
    if (toggle.checked) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { toggle.checked = false; box.title = "This browser has no Web Audio."; return; }
      const ctx = s.live ? s.live.ctx : new Ctx();
      ctx.resume();
      s.live = { ctx, next: ctx.currentTime + 0.05, step: 0, timer: setInterval(() => liveTick(s, box), 25) };
    } else if (s.live) {
      clearInterval(s.live.timer);
      s.live.ctx.close();
      s.live = null;
    }
  });
}

function showAudio(s, root) {
  // The sound of the current point: its player shows when there is one; it plays by itself once the
  // answer to a released drag (or a key step) arrives, never during a drag (a sound per step would stutter).
  const box = root.querySelector(".lp-audio"), audio = root.querySelector("audio.decoded-audio");
  if (!box || !audio) return;
  const d = s.data;
  // a drag's answers carry no sound (the server leaves it out while dragging): the last one stays, also for
  // answers still arriving after release for points sent before it
  const keep = !d.audio && !!audio.getAttribute("src") && (s.dragging || Number(d.ack) < s.seq);
  box.hidden = !d.audio && !keep;
  if (!keep && (audio.getAttribute("src") || "") !== (d.audio || "")) {
    if (d.audio) audio.setAttribute("src", d.audio); else audio.removeAttribute("src");
    audio.dataset.seq = String(d.ack);
  }
  liveAudio(s, root);
  if (s.live) s.playAfter = 0;  // the loop is playing: no second sound on release
  if (d.audio && s.playAfter && Number(d.ack) >= s.playAfter && !s.dragging) {
    s.playAfter = 0;
    audio.dataset.played = String(Number(audio.dataset.played || 0) + 1);  // how many releases played (tests read it)
    audio.currentTime = 0;
    const p = audio.play();
    if (p && p.catch) p.catch(() => {});  // the browser may refuse: the play button is there
  }
}

// ------------------------------------------------------------------ the overlay on the big map

function mapGraph(s) { // Streamlit documents a keyed element's CSS class, st-key-KEY; Plotly's graph div
  const key = s.data.map_key;
  return key ? document.querySelector(`.st-key-${key} .js-plotly-plot`) : null;
}

function attachMap(s) {
  const gd = mapGraph(s);
  if (s.map && s.map.gd === gd && gd && gd.contains(s.map.svg)) return;
  detachMap(s);
  if (!gd || typeof gd.on !== "function") return;
  if (getComputedStyle(gd).position === "static") gd.style.position = "relative";
  const svg = svgEl("svg", { class: "latent-pad-overlay" });
  svg.style.cssText = "position:absolute;left:0;top:0;width:100%;height:100%;pointer-events:none;overflow:visible;z-index:5";
  const path = svgEl("polyline", { fill: "none", stroke: "#111", "stroke-width": 2, "stroke-dasharray": "5 3" }, svg);
  const marks = svgEl("g", {}, svg);
  const ring = svgEl("circle", { r: 9, fill: "none", stroke: "#fff", "stroke-width": 4 }, svg);
  const dot = svgEl("circle", { r: 9, fill: "none", stroke: "#e5484d", "stroke-width": 2.5 }, svg);
  const centre = svgEl("circle", { r: 2.5, fill: "#e5484d" }, svg);
  gd.appendChild(svg);
  const three = Number(s.data.map_dims) === 3;
  const redraw = () => { drawMapStatic(s); drawMap(s); };
  const press = { x: 0, y: 0, row: null };
  const click = (ev) => {
    const pts = (ev && ev.points) || [];
    if (three) { // a 3-D scene reports a click on a point while the button is down: kept until release
      const c = pts.length ? pts[0].customdata : null;
      const row = Array.isArray(c) ? c[0] : c;
      if (row !== null && row !== undefined && Number.isFinite(Number(row))) press.row = Math.round(Number(row));
      return;
    }
    // layout.clickanywhere makes Plotly report clicks on empty space too: points is then empty
    if (pts.length === 0 && ev.xvals && ev.yvals && ev.xvals.length) {
      const x = Number(ev.xvals[0]), y = Number(ev.yvals[0]);
      if (Number.isFinite(x) && Number.isFinite(y)) {
        s.pos = [x, y];
        drawPad(s); drawMap(s);
        send(s, s.pos, false, "map");
      }
    }
  };
  const ac = new AbortController();
  let frame = 0;
  if (three) {
    // a click, not an orbit: the pointer comes up within a few pixels of where it went down
    gd.addEventListener("pointerdown", (e) => { press.x = e.clientX; press.y = e.clientY; press.row = null; },
                        { capture: true, signal: ac.signal });
    gd.addEventListener("pointerup", (e) => {
      const row = press.row;
      press.row = null;
      if (row !== null && Math.hypot(e.clientX - press.x, e.clientY - press.y) < 5) sendRow(s, row);
    }, { capture: true, signal: ac.signal });
    // the camera turns without a Plotly event on every frame: follow it while the map is shown
    let last = "";
    const follow = () => {
      const key = cameraKey(gd);
      if (key !== last) { last = key; drawMapStatic(s); drawMap(s); }
      frame = requestAnimationFrame(follow);
    };
    frame = requestAnimationFrame(follow);
  }
  const restyled = () => saveLegend(s);
  gd.on("plotly_afterplot", redraw);
  gd.on("plotly_relayout", redraw);
  gd.on("plotly_click", click);
  gd.on("plotly_restyle", restyled);
  s.map = { gd, svg, path, marks, ring, dot, centre, redraw, click, restyled, three,
            stop: () => { ac.abort(); cancelAnimationFrame(frame); } };
  restoreLegend(s, gd);
  redraw();
}

// ------------------------------------------------ selections and the legend filter on the big map
// Plotly's public API (Plotly.restyle / relayout) through the global the page's Plotly bundle sets;
// without it the map keeps its selection until a double-click and the legend filter is not restored.

function plotlyApi() {
  const P = window.Plotly;
  if (P && typeof P.restyle === "function" && typeof P.relayout === "function") return P;
  if (!window.__latentPadWarned) {
    window.__latentPadWarned = true;
    console.warn("latent explorer: no window.Plotly; map selections are not cleared and the legend filter is not kept");
  }
  return null;
}

function clearSelection(s) { // a consumed click or a lasso that became a slider: nothing stays selected
  const gd = mapGraph(s), P = plotlyApi();
  if (!gd || !P || !gd.data) return;
  gd.emit("plotly_doubleclick"); // Streamlit forgets the selection (and tells Python it is empty)...
  const clear = () => { // ...then the figure lets go of it, after Streamlit has redrawn its own copy
    if (!gd.isConnected) return;
    if ((gd.layout.selections || []).length) P.relayout(gd, { selections: [] });
    if (gd.data.some((t) => t.selectedpoints)) P.restyle(gd, { selectedpoints: [null] });
  };
  requestAnimationFrame(() => requestAnimationFrame(clear));
  setTimeout(clear, 500);
  setTimeout(clear, 1500);
  log("cleared", { t: performance.now() });
}

function legendKey(s) { return `latentExplorer.hidden.${s.data.legend_key || ""}`; }

function hiddenNow(gd) {
  return [...new Set((gd.data || []).filter((t) => t.visible === "legendonly").map((t) => t.name))].sort();
}

function saveLegend(s) { // which classes the person hid, kept in the tab's sessionStorage
  const gd = s.map && s.map.gd;
  if (!gd || !gd.data) return;
  try { sessionStorage.setItem(legendKey(s), JSON.stringify(hiddenNow(gd))); } catch (e) { /* storage off */ }
}

function restoreLegend(s, gd) { // a map drawn again (other page, reload, new colouring) hides them again
  let want = [];
  try { want = JSON.parse(sessionStorage.getItem(legendKey(s)) || "[]"); } catch (e) { want = []; }
  if (!Array.isArray(want) || !gd.data) return;
  const P = want.length || hiddenNow(gd).length ? plotlyApi() : null;
  if (!P || JSON.stringify(hiddenNow(gd)) === JSON.stringify([...want].sort())) return;
  const idx = [], vis = [];
  gd.data.forEach((t, i) => { idx.push(i); vis.push(want.includes(t.name) ? "legendonly" : true); });
  P.restyle(gd, { visible: vis }, idx);
}

function sendRow(s, row) { // a point clicked on the 3-D map: Python selects that encoding
  s.seq += 1;
  s.sentAt = performance.now();
  s.pending = null;
  log("sent", { seq: s.seq, t: s.sentAt });
  s.set("point", { row, seq: s.seq, dragging: false, source: "map3d" });
}

function detachMap(s) {
  if (!s.map) return;
  const { gd, svg, redraw, click, restyled, stop } = s.map;
  stop();
  if (gd && gd.removeListener) {
    gd.removeListener("plotly_restyle", restyled);
    gd.removeListener("plotly_afterplot", redraw);
    gd.removeListener("plotly_relayout", redraw);
    gd.removeListener("plotly_click", click);
  }
  svg.remove();
  s.map = null;
}

// Plotly's computed layout (gd._fullLayout: axes' pixel offsets, the 3-D scene's camera matrices) is not
// public API: each read is guarded. Without it a 2-D map is placed from the public layout ranges and the
// plot area's box; a 3-D map's marks are not drawn. Either is said once in the console.
const PRIVATE_MISSED = new Set();

function privateMissed(what, effect) {
  if (PRIVATE_MISSED.has(what)) return;
  PRIVATE_MISSED.add(what);
  console.warn(`latent explorer: Plotly's ${what} is not there; ${effect}`);
}

function scene3d(gd) {
  const fl = gd && gd._fullLayout;
  const sc = fl && fl.scene && fl.scene._scene;
  if (sc && sc.glplot && sc.glplot.cameraParams && sc.dataScale && sc.container) return sc;
  if (gd && gd.layout && gd.layout.scene && gd.querySelector("canvas")) {  // drawn, yet no camera to read
    privateMissed("3-D camera (_fullLayout.scene._scene)", "the current point is not marked on the 3-D map");
  }
  return null;
}

function cameraKey(gd) {
  const sc = scene3d(gd);
  if (!sc) return "";
  const c = sc.glplot.cameraParams;
  const r = sc.container.getBoundingClientRect();
  return [c.model, c.view, c.projection].map((m) => Array.prototype.join.call(m, ",")).join(";") + `;${r.width}x${r.height}`;
}

function xform(m, v) { // column-major 4x4 matrix times a 4-vector
  const out = [0, 0, 0, 0];
  for (let i = 0; i < 4; ++i) for (let j = 0; j < 4; ++j) out[j] += m[4 * i + j] * v[i];
  return out;
}

function mapAxes(m) {
  if (m.three) return sceneAxes(m.gd);
  const fl = m.gd._fullLayout;
  const xa = fl && fl.xaxis, ya = fl && fl.yaxis;
  const ok = (a) => a && typeof a.l2p === "function" && [a._offset, a._length].every(Number.isFinite);
  if (!ok(xa) || !ok(ya)) return publicAxes(m.gd);
  return {
    px: (x) => xa._offset + xa.l2p(x),
    py: (y) => ya._offset + ya.l2p(y),
    inside: (a, b) => a >= xa._offset - 1 && a <= xa._offset + xa._length + 1 &&
                      b >= ya._offset - 1 && b <= ya._offset + ya._length + 1,
  };
}

function publicAxes(gd) { // the public layout's ranges (Plotly writes autoranges back) over the plot area's box
  const L = gd.layout || {}, xr = L.xaxis && L.xaxis.range, yr = L.yaxis && L.yaxis.range;
  const area = gd.querySelector(".nsewdrag"); // the plot area's drag surface
  const ok = (r) => Array.isArray(r) && r.length === 2 && r.every(Number.isFinite) && r[0] !== r[1];
  if (!area || !ok(xr) || !ok(yr)) return null;  // not drawn yet
  privateMissed("axis placement (_fullLayout.xaxis._offset, l2p)", "the map's marks are placed from its public ranges");
  const a = area.getBoundingClientRect(), g = gd.getBoundingClientRect();
  const left = a.left - g.left, top = a.top - g.top;
  return {
    px: (x) => left + ((x - xr[0]) / (xr[1] - xr[0])) * a.width,
    py: (y) => top + ((yr[1] - y) / (yr[1] - yr[0])) * a.height,
    inside: (u, v) => u >= left - 1 && u <= left + a.width + 1 && v >= top - 1 && v <= top + a.height + 1,
  };
}

function sceneAxes(gd) { // a 3-D point -> pixels over the chart, as Plotly places its own hover labels
  const sc = scene3d(gd);
  if (!sc) return null;
  const c = sc.glplot.cameraParams, ds = sc.dataScale;
  const r = sc.container.getBoundingClientRect(), g = gd.getBoundingClientRect();
  return {
    xyz: (p) => {
      const q = xform(c.projection, xform(c.view, xform(c.model, [p[0] * ds[0], p[1] * ds[1], p[2] * ds[2], 1])));
      if (!(q[3] > 0)) return null; // behind the camera
      return [r.left - g.left + (0.5 + 0.5 * q[0] / q[3]) * r.width, r.top - g.top + (0.5 - 0.5 * q[1] / q[3]) * r.height];
    },
    inside: (a, b) => a >= r.left - g.left && a <= r.right - g.left && b >= r.top - g.top && b <= r.bottom - g.top,
  };
}

function drawMapStatic(s) { // path and marks, after a data change, a zoom or a turn of the 3-D camera
  const m = s.map;
  if (!m) return;
  const ax = mapAxes(m);
  if (!ax) { m.path.setAttribute("points", ""); m.marks.replaceChildren(); return; }  // nowhere to place them
  // a map point -> pixels: the 3-D map uses each point's third coordinate (0 where none was sent)
  const at = m.three ? (p) => ax.xyz([p[0], p[1], p.length > 2 ? p[2] : 0]) : (p) => [ax.px(p[0]), ax.py(p[1])];
  const path = (s.data.path || []).map(at).filter((q) => q);
  m.path.setAttribute("points", path.map((q) => `${q[0].toFixed(1)},${q[1].toFixed(1)}`).join(" "));
  m.marks.replaceChildren();
  for (const mk of s.data.marks || []) {
    const q = at([mk.x, mk.y, mk.z || 0]);
    if (!q || !ax.inside(q[0], q[1])) continue;
    const [a, b] = q;
    svgEl("circle", { cx: a, cy: b, r: 6, fill: "#111", stroke: "#fff", "stroke-width": 2 }, m.marks);
    const t = svgEl("text", { x: a + 9, y: b - 7, "font-size": 13, "font-weight": 700, fill: "#111",
      stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" }, m.marks);
    t.textContent = mk.label;
  }
}

function drawMap(s) { // the current point's ring, on every pointer move
  const m = s.map;
  if (!m) return;
  const ax = mapAxes(m);  // none: the ring is hidden rather than left where it was
  let at = null;
  if (ax && s.pos && m.three) {
    const p3 = s.data.point3 || [0, 0, 0];  // the pad moves the first two axes; the third stays
    at = ax.xyz([s.pos[0], s.pos[1], p3[2]]);
  } else if (ax && s.pos) {
    at = [ax.px(s.pos[0]), ax.py(s.pos[1])];
  }
  const show = !!at && ax.inside(at[0], at[1]);
  m.svg.dataset.ring = show ? `${at[0].toFixed(1)},${at[1].toFixed(1)}` : "";
  for (const c of [m.ring, m.dot, m.centre]) {
    c.style.display = show ? "" : "none";
    if (show) { c.setAttribute("cx", at[0]); c.setAttribute("cy", at[1]); }
  }
}

// ------------------------------------------------------------------------------------ entry

function listen(s) {
  // Bound once per mounted pad: Streamlit calls the default export again on every data update
  // and runs the returned cleanup only when the pad leaves the page.
  const pad = s.pad, ac = new AbortController(), opts = { signal: ac.signal };
  pad.addEventListener("pointerdown", (e) => {
    if (s.data.disabled || e.button !== 0) return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    pad.focus({ preventScroll: true });
    s.dragging = true;
    s.pos = fromEvent(s, e);
    drawPad(s); drawMap(s);
    send(s, s.pos, true, "pad");
  }, opts);
  pad.addEventListener("pointermove", (e) => {
    if (!s.dragging) return;
    s.pos = fromEvent(s, e);
    log("move", { t: performance.now() });
    drawPad(s); drawMap(s);
    send(s, s.pos, true, "pad");
  }, opts);
  const end = (e) => {
    if (!s.dragging) return;
    s.dragging = false;
    if (e.type === "pointerup") s.pos = fromEvent(s, e);
    drawPad(s); drawMap(s);
    send(s, s.pos, false, "pad");
    s.playAfter = s.pending ? s.seq + 1 : s.seq;  // its answer's sound plays
  };
  pad.addEventListener("pointerup", end, opts);
  pad.addEventListener("pointercancel", end, opts);
  pad.addEventListener("keydown", (e) => {
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const st = steps[e.key];
    if (!st || !s.pos || s.data.disabled) return;
    e.preventDefault();
    const b = s.data.bounds, f = e.shiftKey ? 0.1 : 0.02;
    s.pos = [Math.min(Math.max(s.pos[0] + st[0] * f * (b[1] - b[0]), b[0]), b[1]),
             Math.min(Math.max(s.pos[1] + st[1] * f * (b[3] - b[2]), b[2]), b[3])];
    drawPad(s); drawMap(s);
    send(s, s.pos, false, "pad");
    s.playAfter = s.pending ? s.seq + 1 : s.seq;
  }, opts);
  // the chart may be redrawn or replaced (new projection, colouring): re-attach when it changes
  const poll = setInterval(() => attachMap(s), 700);
  return () => { ac.abort(); clearInterval(poll); clearTimeout(s.timer); detachMap(s); };
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const pad = parentElement.querySelector(".lp-pad");
  if (!pad || !data) return undefined;
  let s = STATES.get(parentElement);
  const fresh = !s;
  if (fresh) {
    s = { seq: Number(data.ack) || 0, acked: Number(data.ack) || 0, sentAt: 0, pending: null, dragging: false,
          rev: null, pos: null, timer: null, map: null, playAfter: 0 };
    STATES.set(parentElement, s);
  }
  s.data = data; s.set = setStateValue; s.pad = pad;
  TIMING = !!data.timing;
  s.readout = parentElement.querySelector(".lp-readout");
  pad.classList.toggle("lp-disabled", !!data.disabled);
  showImage(s, parentElement);
  const bg = pad.querySelector(".lp-bg");
  if ((bg.getAttribute("src") || "") !== (data.bg || "")) bg.setAttribute("src", data.bg || "");
  bg.style.display = data.bg ? "" : "none";
  if (data.rev !== s.rev) { // Python moved the point (slider, reset, sample, click): follow it
    s.rev = data.rev;
    if (!s.dragging && data.point) s.pos = data.point.slice();
  }
  if (Number(data.ack) > s.acked) { // an answer: the points up to it are no longer in flight
    s.acked = Math.min(Number(data.ack), s.seq);
    log("ack", { seq: s.acked, t: performance.now() });
  }
  flush(s, false);
  drawPad(s);
  const hadMap = s.map;
  attachMap(s);  // (re)attaching draws the map's path and marks itself
  if (s.clearSel !== undefined && data.clear_sel !== s.clearSel) clearSelection(s);
  s.clearSel = data.clear_sel;
  const key = JSON.stringify([data.path, data.marks, data.bounds]);
  if (key !== s.staticKey) { // path, marks or bounds changed: redraw them (not on every drag step)
    s.staticKey = key;
    drawPadStatic(s);
    if (hadMap === s.map) drawMapStatic(s);
  }
  drawMap(s);
  if (fresh) {
    const stop = listen(s);
    s.cleanup = () => { stop(); STATES.delete(parentElement); };
  }
  return s.cleanup; // every call returns it: Streamlit keeps only the latest one for the unmount

}

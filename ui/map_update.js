// Map changes drawn in place (ui/map_update.py): the big map's st.plotly_chart keeps one figure per
// session and map kind, so Streamlit keeps the chart; this script hands the chosen view's figure to
// Plotly.react on that chart (a redraw of the same WebGL context), keeps the classes the person hid
// in the legend, and tells Streamlit's chart to adopt the new figure (it does so after any Plotly
// update event, as after a legend click). Without window.Plotly it reports "failed", and Python
// goes back to a new chart per view.

const WAIT_MS = 50, WAIT_TRIES = 200;  // the chart may still be mounting: look again for up to 10 s

function chart(key) { return document.querySelector(`.st-key-${key} .js-plotly-plot`); }

function hiddenNames(gd) {
  return new Set((gd._fullData || []).filter((t) => t.visible === "legendonly").map((t) => t.name));
}

// Plotly JSON carries numpy arrays as {dtype, bdata (base64), shape}. Decoded here once into typed arrays:
// Plotly would decode them anew whenever Streamlit's chart hands the figure back (Plotly.react after every
// update event), see new arrays each time and redraw every point.
const TYPED = { f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array,
                i4: Int32Array, u4: Uint32Array };

function decoded(v) {
  if (Array.isArray(v)) return v.map(decoded);
  if (!v || typeof v !== "object") return v;
  if (typeof v.bdata === "string" && TYPED[v.dtype]) {
    const bytes = Uint8Array.from(atob(v.bdata), (c) => c.charCodeAt(0));
    const flat = new TYPED[v.dtype](bytes.buffer);
    const shape = String(v.shape || flat.length).split(",").map(Number);
    if (shape.length !== 2) return flat;
    const rows = [];
    // rows as plain arrays: a selected point's customdata goes to Python as a JSON list
    for (let i = 0; i < shape[0]; i++) rows.push(Array.from(flat.subarray(i * shape[1], (i + 1) * shape[1])));
    return rows;
  }
  const out = {};
  for (const k of Object.keys(v)) out[k] = decoded(v[k]);
  return out;
}

function apply(d, set, tries) {
  const gd = chart(d.chart_key);
  if (!gd || !gd._fullLayout) {
    if (tries < WAIT_TRIES) setTimeout(() => apply(d, set, tries + 1), WAIT_MS);
    return;
  }
  const P = window.Plotly;
  if (!P || typeof P.react !== "function" || typeof gd.emit !== "function") {
    set("failed", "no window.Plotly.react on the page");
    return;
  }
  const shown = gd.__mapView || d.shell_view;
  if (shown === d.view || !d.figure || gd.__mapWant === d.view) return;
  gd.__mapWant = d.view;
  const t0 = performance.now();  // (window.__mapUpdates: when and how long, for scripts/bench_map.py)
  const fig = JSON.parse(d.figure);
  fig.data = fig.data.map(decoded);
  const hide = hiddenNames(gd);
  fig.data.forEach((t, i) => {
    if (hide.has(t.name)) t.visible = "legendonly";
    // the view's own trace ids: Plotly carries a legend click over to the trace of the same id (by default,
    // the same number), which in another view can be another class
    t.uid = `${d.view.replace(/[^A-Za-z0-9_-]/g, "_")}-${i}`;  // Plotly puts it in CSS selectors
  });
  // what Streamlit put on its copy of the layout: size, theme, click and drag modes
  const layout = { ...fig.layout };
  for (const k of ["width", "height", "template", "clickmode", "hovermode", "dragmode"]) {
    if (gd.layout[k] !== undefined) layout[k] = gd.layout[k];  // dragmode: the tool the person picked
  }
  P.react(gd, fig.data, layout).then(() => {
    gd.__mapView = d.view;
    gd.__mapWant = null;
    // Streamlit's chart takes the figure as its own, the latent pad redraws its overlay
    gd.emit("plotly_relayout", {});
    window.__mapUpdates = (window.__mapUpdates || []).concat([{ view: d.view, at: t0, ms: performance.now() - t0 }]);
  }, (err) => {
    gd.__mapWant = null;
    set("failed", `Plotly.react failed: ${err}`);
  });
}

export default function (component) {
  const { data, setStateValue } = component;
  if (data && data.chart_key) apply(data, setStateValue, 0);
  return undefined;
}

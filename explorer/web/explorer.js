"use strict";
// The fieldmint explorer: one page, routed by the URL's fragment, drawn from
// the API's JSON (docs/api.md, "Explorer"). No build step and nothing fetched
// from elsewhere: the map's countries (Natural Earth via world-atlas) and
// topojson-client are served by the API itself. Every value from the API is
// put in the page as text, never as HTML.

const main = document.getElementById("main");

// el("td", {class: "n"}, "12"): an element with attributes and children
// (strings become text nodes).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

const link = (href, text, attrs) => el("a", Object.assign({ href }, attrs), text);
const kindName = (k) => String(k).replace(/^RESOURCE_KIND_/, "").toLowerCase();
const deviceLink = (id) => link("#/device/" + encodeURIComponent(id), id, { class: "mono" });
const ownerLink = (a) => link("#/owner/" + a, a, { class: "mono" });
const epochLink = (e) => link("#/epoch/" + e, String(e));

// Base units (18 decimals) as an exact decimal string.
function tokens(baseUnits) {
  if (baseUnits === "" || baseUnits === undefined || baseUnits === null) return "–";
  const v = BigInt(baseUnits), unit = 10n ** 18n;
  const frac = (v % unit).toString().padStart(18, "0").replace(/0+$/, "");
  return (v / unit).toString() + (frac ? "." + frac : "") + " FMNT";
}

// Basis points as a percentage, exactly (10000 is 100%).
const bp = (v) => (v / 100).toString() + " %";

class APIError extends Error {
  constructor(status, code, message) { super(code + ": " + message); this.status = status; this.code = code; }
}

async function api(path) {
  const resp = await fetch(path);
  const body = await resp.json().catch(() => ({ code: "BAD_RESPONSE", message: "not JSON" }));
  if (!resp.ok) throw new APIError(resp.status, body.code, body.message);
  return body;
}

function table(headers, rows, attrs) {
  return el("table", attrs,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { class: h.n ? "n" : undefined }, h.t || h)))),
    el("tbody", {}, rows));
}

function dl(pairs, attrs) {
  return el("dl", attrs, pairs.flatMap(([k, v, id]) => [el("dt", {}, k), el("dd", { id }, v)]));
}

// ---- routes

const routes = [
  [/^#?\/?$/, () => mapPage({})],
  [/^#\/map(?:\?(.*))?$/, (m) => mapPage(Object.fromEntries(new URLSearchParams(m[1] || "")))],
  [/^#\/device\/([^/?]+)$/, (m) => devicePage(decodeURIComponent(m[1]))],
  [/^#\/device\/([^/?]+)\/rejections(?:\?(.*))?$/, (m) => rejectionsPage(decodeURIComponent(m[1]), new URLSearchParams(m[2] || ""))],
  [/^#\/owner\/(0x[0-9a-fA-F]{40})$/, (m) => ownerPage(m[1])],
  [/^#\/epochs$/, () => epochsPage()],
  [/^#\/epoch\/(\d+)$/, (m) => epochPage(m[1])],
];

async function route() {
  document.body.dataset.state = "loading";
  main.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  const hash = location.hash || "#/";
  try {
    for (const [re, page] of routes) {
      const m = hash.match(re);
      if (m) { await page(m); document.body.dataset.state = "ready"; return; }
    }
    throw new APIError(404, "NOT_FOUND", "no page at " + hash);
  } catch (e) {
    main.replaceChildren(el("h1", {}, "Not shown"), el("p", { class: "error", id: "error" }, e.message));
    document.body.dataset.state = "error";
  }
}

window.addEventListener("hashchange", route);
document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = document.getElementById("q").value.trim();
  location.hash = /^0x[0-9a-fA-F]{40}$/.test(q) ? "#/owner/" + q : "#/device/" + encodeURIComponent(q);
});

// ---- device

const FORMULA = `base     = uptime × weight   (a counter kind: min(delivered, capacity × uptime) × weight ÷ capacity;
                              a coverage kind: witnessed × weight)
score    = 0 unless frauds = 0, no information check stopped it, uptime > 0, quality > 0 and trust > 0, else
           base ÷ sharing × quality ÷ 10000 × trust ÷ 10000 × crowding ÷ 10000   (each ÷ rounds down)
reward   = owner's reward × score ÷ owner's score   (rounded down)`;

async function devicePage(id) {
  const d = await api("/v1/explorer/devices/" + encodeURIComponent(id));
  const dev = d.device;
  const state = el("span", { class: "state-" + dev.state, id: "state" }, dev.state);
  const info = [
    ["Kind", kindName(dev.kind), "kind"],
    ["Owner", ownerLink(dev.owner), "owner"],
    ["Asserted location", (dev.latE7 / 1e7).toFixed(5) + ", " + (dev.lonE7 / 1e7).toFixed(5), "location"],
    ["State", state, "state-dd"],
  ];
  if (dev.state === "denylisted") {
    info.push(["Denylisted because", dev.deniedReason, "denied-reason"], ["Signed by admin", el("span", { class: "mono" }, dev.deniedBy), "denied-by"]);
  }
  info.push(["Maker", dev.makerId || "–", "maker"], ["Registered", dev.registeredAt, "registered"], ["Last signed change", dev.lastChange, "last-change"]);

  const rows = d.epochs.map((e) => {
    const p = e.parts || {};
    const rejected = Object.entries(e.rejected).sort((a, b) => b[1] - a[1]).map(([reason, n]) =>
      el("div", {}, link("#/device/" + encodeURIComponent(id) + "/rejections?epoch=" + e.epoch + "&reason=" + reason, reason + " × " + n, { "data-reason": reason })));
    const num = (field, v) => el("td", { class: "n", "data-field": field }, v === undefined ? "–" : v);
    // Readings without the device's signature, vouched for by a LoRaWAN network server.
    const trusted = Object.entries(e.trustedBy || {}).sort().map(([ns, n]) => el("div", { class: "muted", "data-trusted-by": ns }, n + " unsigned, trusted by " + ns));
    const valid = num("valid", e.parts ? e.valid : undefined);
    valid.append(...trusted);
    return el("tr", { "data-epoch": e.epoch },
      el("td", {}, epochLink(e.epoch)), valid, el("td", { "data-field": "rejected" }, rejected.length ? rejected : "–"),
      num("uptime", p.uptime), num("weight", p.weight),
      num("quality", p.quality === undefined ? undefined : bp(p.quality)), num("trust", p.trust === undefined ? undefined : bp(p.trust)),
      num("sharing", p.sharing), num("crowding", p.crowding === undefined ? undefined : bp(p.crowding)),
      num("frauds", p.frauds), el("td", { "data-field": "evidence" }, p.evidence || "–"), num("score", p.score),
      el("td", { "data-field": "settlement" }, e.settlement || "–"),
      el("td", { class: "n", "data-field": "reward", "data-base-units": e.reward }, e.reward ? tokens(e.reward) : "–"));
  });
  const h = ["Epoch", { t: "Valid", n: 1 }, "Rejected (evidence)", { t: "Uptime", n: 1 }, { t: "Weight", n: 1 }, { t: "Quality", n: 1 },
    { t: "Location trust", n: 1 }, { t: "Cell share", n: 1 }, { t: "Crowding", n: 1 }, { t: "Frauds", n: 1 }, "Stopped by", { t: "Score", n: 1 }, "Settlement", { t: "Reward", n: 1 }];

  const evidence = d.rejections.length ? rejectionTable(d.rejections) : el("p", { class: "muted" }, "No rejected readings.");
  main.replaceChildren(
    el("h1", {}, "Device ", el("span", { class: "mono", id: "device-id" }, dev.deviceId)),
    dl(info, { id: "device" }),
    el("h2", {}, "Per epoch"),
    d.epochs.length ? table(h, rows, { id: "epochs" }) : el("p", { class: "muted" }, "No epochs yet."),
    el("p", {}, "The formula applied (", link("/docs/scoring.md", "docs/scoring.md", { id: "formula-link" }),
      "; the rest of the parts are in the JSON: ", link("/v1/explorer/devices/" + encodeURIComponent(id), "/v1/explorer/devices/" + id), "):"),
    el("div", { class: "formula" }, FORMULA),
    el("h2", {}, "Information checks"),
    findingsTable(id, d.epochs),
    el("h2", {}, "Newest rejected readings"),
    evidence);
}

// findingsTable lists, per epoch, what the information checks compared the
// device's streams with and how close each came to stopping its pay
// (docs/scoring.md, "Streams without information of their own").
function findingsTable(id, epochs) {
  const rows = [];
  for (const e of epochs) {
    for (const f of e.findings || []) {
      rows.push(el("tr", { "data-epoch": e.epoch, "data-reason": f.reason, class: f.flagged ? "flagged" : "" },
        el("td", {}, epochLink(e.epoch)), el("td", {}, f.reason), el("td", { "data-field": "verdict" }, f.flagged ? "stopped its pay" : "passed"),
        el("td", { "data-field": "finding" }, findingText(f))));
    }
  }
  if (!rows.length) return el("p", { class: "muted" }, "No information checks yet.");
  return table(["Epoch", "Check", "Verdict", "Evidence"], rows, { id: "findings" });
}

function findingText(f) {
  const m = f.measurement.replace(/^witness:/, "witness reports' ");
  const secs = (ms) => (ms / 1000).toFixed(1) + " s";
  const slope = "slope " + (f.betaBP / 10000).toFixed(2) + ", " + (f.value / 1000).toFixed(2) + " standard errors above ½, " + f.samples + " changes";
  const stretch = f.from.slice(11, 19) + "–" + f.to.slice(11, 19);
  switch (f.reason) {
    case "TRACKED_STREAM":
      return el("span", {}, "its " + m + " followed ", deviceLink(f.other), " " + secs(f.lagMs) + " behind, over " + stretch + " (" + slope + ")");
    case "LOOPED_STREAM":
      return "its " + m + " repeated its own readings of " + stretch + ", " + secs(f.lagMs) + " later (" + slope + ")";
    case "NOISY_STREAM":
      return "its " + m + " changed between readings " + (f.value / 100).toFixed(0) + "% of the most a sensor of its kind does";
    case "GENERATED_STREAM":
      return "its " + m + "'s changes had a kurtosis of " + (f.value / 1000).toFixed(2) + " (noise has 3, a load's steps more; even random steps 1.8)";
    case "SHARED_CLOCK":
      return el("span", {}, "its readings kept time with ", deviceLink(f.other), " to within " + f.value + " ms (" + f.lagMs + " ms apart)");
  }
  return f.reason;
}

function rejectionTable(list) {
  return table(["Epoch", "Seq", "Event time", "Reason", "Evidence (detail)"], list.map((x) =>
    el("tr", { "data-seq": x.seq }, el("td", {}, epochLink(x.epoch)), el("td", { class: "n" }, x.seq), el("td", {}, x.eventTime),
      el("td", {}, x.reason), el("td", { class: "mono", "data-field": "detail" }, x.detail))), { id: "rejections" });
}

async function rejectionsPage(id, params) {
  const q = new URLSearchParams();
  for (const k of ["epoch", "reason"]) if (params.get(k)) q.set(k, params.get(k));
  const d = await api("/v1/explorer/devices/" + encodeURIComponent(id) + "/rejections?" + q);
  main.replaceChildren(
    el("h1", {}, "Rejected readings of ", deviceLink(id)),
    el("p", {}, [params.get("reason") && "Reason " + params.get("reason"), params.get("epoch") && "epoch " + params.get("epoch")].filter(Boolean).join(", ")),
    d.rejections.length ? rejectionTable(d.rejections) : el("p", { class: "muted" }, "None."));
}

// ---- owner

async function ownerPage(addr) {
  const d = await api("/v1/explorer/owners/" + addr);
  const c = d.claim;
  const active = c && /[1-9a-f]/.test(c.root.slice(2));
  const claim = c ? [
    [active ? "Earned in all (active root, epoch " + c.epoch + ")" : "Earned in all (no root active yet)", tokens(c.cumulativeAmount), "cumulative"],
    ["Claimed", tokens(c.claimed), "claimed"],
    ["Claimable now", tokens(c.claimable), "claimable"],
    ["Pending", c.pending ? tokens(c.pending.more) + " more with epoch " + c.pending.epoch + ", claimable from " + c.pending.activatesAt : "–", "pending"],
  ] : [["Rewards", "none in the active or the pending root", "cumulative"]];
  main.replaceChildren(
    el("h1", {}, "Owner ", el("span", { class: "mono", id: "owner-id" }, d.owner)),
    dl(claim, { id: "claim" }),
    c && c.claimable !== "0" ? el("p", {}, link("/claim?address=" + d.owner, "Claim with my wallet", { id: "claim-link", class: "button" })) : "",
    el("h2", {}, "Rewards per epoch"),
    table(["Epoch", "Settlement", { t: "Score", n: 1 }, { t: "Reward", n: 1 }, { t: "Cumulative", n: 1 }], d.epochs.map((e) =>
      el("tr", { "data-epoch": e.epoch }, el("td", {}, epochLink(e.epoch)), el("td", {}, e.settlement || "–"), el("td", { class: "n" }, e.score),
        el("td", { class: "n", "data-base-units": e.reward }, tokens(e.reward)), el("td", { class: "n", "data-base-units": e.cumulative }, tokens(e.cumulative)))), { id: "epochs" }),
    el("h2", {}, "Devices (" + d.devices.length + (d.devicesTruncated ? " shown; more not listed" : "") + ")"),
    table(["Device", "Kind", "State"], d.devices.map((x) => el("tr", {}, el("td", {}, deviceLink(x.deviceId)), el("td", {}, kindName(x.kind)),
      el("td", { class: "state-" + x.state }, x.state))), { id: "devices" }));
}

// ---- epochs

async function epochsPage() {
  const d = await api("/v1/epochs?limit=200");
  main.replaceChildren(el("h1", {}, "Epochs"),
    table(["Epoch", "State", { t: "Accounts", n: 1 }, { t: "Emission", n: 1 }, { t: "Paid in all", n: 1 }, "Root", "Updated"], d.epochs.map((e) =>
      el("tr", { "data-epoch": e.epoch }, el("td", {}, epochLink(e.epoch)), el("td", {}, e.status + (e.reason ? " (" + e.reason + ")" : "")),
        el("td", { class: "n" }, e.accounts), el("td", { class: "n" }, tokens(e.emission)), el("td", { class: "n" }, tokens(e.total)),
        el("td", { class: "mono" }, e.root.slice(0, 10) + "…"), el("td", {}, e.updatedAt))), { id: "epochs" }));
}

async function epochPage(n) {
  const d = await api("/v1/explorer/epochs/" + n);
  const s = d.settlement;
  main.replaceChildren(
    el("h1", {}, "Epoch " + d.epoch),
    dl([
      ["State", s ? s.status + (s.reason ? " (" + s.reason + ")" : "") : d.scored ? "scored, not computed yet" : "not scored yet", "status"],
      ["Root", s ? el("span", { class: "mono" }, s.root) : "–", "root"],
      ["Transaction", s && s.tx ? el("span", { class: "mono" }, s.tx + " (block " + s.block + ")") : "–", "tx"],
      ["Emission", s ? tokens(s.emission) : "–", "emission"],
      ["Accounts in the tree", s ? s.accounts : "–", "accounts"],
      ["Devices scored / paid", d.devices + " / " + d.paid, "devices"],
      ["Owners paid", d.owners, "owners"],
      ["Readings valid / rejected", d.valid + " / " + d.rejected, "readings"],
      ["Tree dump", s ? link(d.tree, d.tree, { id: "tree-link" }) : "–", "tree"],
      ["Map", link("#/map?epoch=" + d.epoch, "this epoch on the map"), "map-link"],
    ], { id: "epoch" }),
    el("h2", {}, "Share by kind"),
    table(["Kind", { t: "Devices", n: 1 }, { t: "Paid", n: 1 }, { t: "Valid readings", n: 1 }, { t: "Score", n: 1 }, { t: "Share", n: 1 }, { t: "Reward", n: 1 }],
      d.kinds.map((k) => el("tr", { "data-kind": k.kind }, el("td", {}, kindName(k.kind)), el("td", { class: "n" }, k.devices), el("td", { class: "n" }, k.paid),
        el("td", { class: "n" }, k.valid), el("td", { class: "n" }, k.score),
        el("td", { class: "n" }, d.score ? (Number((BigInt(k.score) * 10000n) / BigInt(d.score)) / 100).toString() + " %" : "–"),
        el("td", { class: "n" }, tokens(k.reward)))), { id: "kinds" }),
    el("h2", {}, "Top rejection reasons"),
    d.reasons.length ? table(["Reason", { t: "Readings", n: 1 }, { t: "Devices", n: 1 }], d.reasons.map((r) =>
      el("tr", { "data-reason": r.reason }, el("td", {}, r.reason), el("td", { class: "n" }, r.readings), el("td", { class: "n" }, r.devices))), { id: "reasons" })
      : el("p", { class: "muted" }, "No rejections."),
    el("h2", {}, "Signers' votes"),
    d.votes.length ? table(["Signer", { t: "Round", n: 1 }, "Root", "Inputs (the cut of the raw log)", "For the root in the tree"], d.votes.map((v) =>
      el("tr", { "data-signer": v.signer }, el("td", { class: "mono" }, v.signer), el("td", { class: "n" }, v.round),
        el("td", { class: "mono" }, v.root.slice(0, 10) + "…"), el("td", { class: "mono" }, v.inputs),
        el("td", {}, s && v.root.toLowerCase() === s.root.toLowerCase() ? "yes" : "no"))), { id: "votes" })
      : el("p", { class: "muted" }, "No votes read for this epoch (a single settler before k-of-n, or none yet)."));
}

// ---- map

let world = null; // {land, borders}: GeoJSON from the countries TopoJSON

async function loadWorld() {
  if (world) return world;
  const topo = await (await fetch("/explorer/world.json")).json();
  world = { land: topojson.feature(topo, topo.objects.countries), borders: topojson.mesh(topo, topo.objects.countries, (a, b) => a !== b) };
  return world;
}

// Web Mercator, in units of the world's width (0..1).
const mx = (lon) => (lon + 180) / 360;
const my = (lat) => { const s = Math.sin(Math.max(-85, Math.min(85, lat)) * Math.PI / 180); return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI); };
const unLat = (y) => Math.atan(Math.sinh((0.5 - y) * 2 * Math.PI)) * 180 / Math.PI;
// The H3 resolution whose cells are about 6 pixels across or more at scale.
const EDGE_KM = [1108, 419, 158, 60, 23, 8.5, 3.2, 1.2, 0.46];

async function mapPage(params) {
  await loadWorld();
  const by = params.by === "rejections" ? "rejections" : "reward";
  const epochs = await api("/v1/epochs?limit=50");
  const W = Math.min(960, Math.max(480, window.innerWidth - 420)), H = Math.round(W * 0.62);
  const canvas = el("canvas", { width: W, height: H, id: "map", "aria-label": "map of devices by H3 cell" });
  const cellBox = el("div", { id: "cell" }, el("p", { class: "muted" }, "Click a cell for its devices."));
  const legend = el("span", { id: "legend", class: "muted" });
  const pick = el("select", { id: "epoch-select" }, epochs.epochs.map((e) => el("option", { value: e.epoch }, e.epoch + " (" + e.status + ")")));
  const byPick = el("select", { id: "by-select" }, el("option", { value: "reward" }, "reward"), el("option", { value: "rejections" }, "rejections"));
  byPick.value = by;
  let epoch = params.epoch || (epochs.epochs[0] && String(epochs.epochs[0].epoch)) || "";
  if (epoch && !epochs.epochs.some((e) => String(e.epoch) === epoch)) pick.append(el("option", { value: epoch }, epoch));
  pick.value = epoch;
  const go = () => { location.hash = "#/map?epoch=" + pick.value + "&by=" + byPick.value; };
  pick.addEventListener("change", go);
  byPick.addEventListener("change", go);
  const zoomIn = el("button", { type: "button" }, "+"), zoomOut = el("button", { type: "button" }, "−");
  main.replaceChildren(el("h1", {}, "Devices by H3 cell"),
    el("div", { class: "controls" }, el("label", {}, "Epoch ", pick), el("label", {}, "Colour by ", byPick), zoomIn, zoomOut, legend),
    el("div", { id: "map-wrap" }, canvas, cellBox));

  // The view: the map's top-left corner in world units and pixels per world width.
  const view = { x: 0, y: 0.1, k: W };
  let cells = [], seq = 0;
  const ctx = canvas.getContext("2d");
  const px = (lon, lat) => [(mx(lon) - view.x) * view.k, (my(lat) - view.y) * view.k];

  function drawRings(rings) {
    for (const ring of rings) {
      // A ring that jumps across the map (a coastline cut at the
      // antimeridian) is not drawn across it.
      let last = null;
      for (const [lon, lat] of ring) {
        const [x, y] = px(lon, lat);
        last === null || Math.abs(lon - last) > 180 ? ctx.moveTo(x, y) : ctx.lineTo(x, y);
        last = lon;
      }
    }
  }
  function draw() {
    ctx.fillStyle = "#cfe3f3";
    ctx.fillRect(0, 0, W, H);
    ctx.beginPath();
    for (const f of world.land.features) {
      const g = f.geometry;
      if (!g) continue;
      (g.type === "Polygon" ? [g.coordinates] : g.coordinates).forEach(drawRings);
    }
    ctx.fillStyle = "#f3f1ea";
    ctx.fill("evenodd");
    ctx.beginPath();
    drawRings(world.borders.coordinates);
    ctx.strokeStyle = "#9aa";
    ctx.lineWidth = 0.6;
    ctx.stroke();
    const value = (c) => by === "reward" ? Number(c.score) : c.rejected;
    const max = Math.max(1, ...cells.map(value));
    for (const c of cells) {
      const v = value(c);
      if (!v && by === "rejections") continue;
      const t = v ? Math.log1p(v) / Math.log1p(max) : 0;
      ctx.beginPath();
      c.boundary.forEach(([lat, lon], i) => { const [x, y] = px(lon, lat); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.closePath();
      ctx.fillStyle = by === "reward" ? `rgba(27,94,32,${0.25 + 0.75 * t})` : `rgba(176,0,32,${0.25 + 0.75 * t})`;
      ctx.fill();
      ctx.strokeStyle = "rgba(0,0,0,.35)";
      ctx.lineWidth = 0.5;
      ctx.stroke();
      // Cells smaller than 3 px still show, as dots.
      c.px = px(c.lon, c.lat);
      if (v) ctx.fillRect(c.px[0] - 1.5, c.px[1] - 1.5, 3, 3);
    }
    legend.textContent = cells.length + " cells at H3 resolution " + resolution() + (by === "reward" ? ", darker: more reward" : ", darker: more rejected readings");
  }
  function resolution() {
    const kmPerPx = 40075 / view.k;
    let r = 0;
    while (r < 8 && EDGE_KM[r + 1] / kmPerPx >= 3) r++;
    return r;
  }
  async function load() {
    if (!epoch) { draw(); return; }
    const mine = ++seq;
    const south = unLat(view.y + H / view.k), north = unLat(view.y), west = view.x * 360 - 180, east = (view.x + W / view.k) * 360 - 180;
    const bbox = [south, Math.max(-180, west), north, Math.min(180, east)].map((v) => v.toFixed(4)).join(",");
    const d = await api(`/v1/explorer/map?epoch=${epoch}&res=${resolution()}&bbox=${bbox}`);
    if (mine !== seq) return;
    cells = d.cells;
    draw();
    canvas.dataset.cells = String(cells.length);
  }
  function zoom(f, cx, cy) {
    const wx = view.x + cx / view.k, wy = view.y + cy / view.k;
    view.k = Math.max(W, Math.min(W * 2 ** 16, view.k * f));
    view.x = wx - cx / view.k;
    view.y = wy - cy / view.k;
    draw();
    clearTimeout(zoom.t);
    zoom.t = setTimeout(load, 150);
  }
  zoomIn.onclick = () => zoom(2, W / 2, H / 2);
  zoomOut.onclick = () => zoom(0.5, W / 2, H / 2);
  canvas.addEventListener("wheel", (ev) => { ev.preventDefault(); zoom(ev.deltaY < 0 ? 1.5 : 1 / 1.5, ev.offsetX, ev.offsetY); }, { passive: false });
  let drag = null;
  canvas.addEventListener("pointerdown", (ev) => { drag = { x: ev.offsetX, y: ev.offsetY, vx: view.x, vy: view.y, moved: false }; canvas.setPointerCapture(ev.pointerId); });
  canvas.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.offsetX - drag.x, dy = ev.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    view.x = drag.vx - dx / view.k;
    view.y = drag.vy - dy / view.k;
    draw();
  });
  canvas.addEventListener("pointerup", (ev) => {
    const d = drag;
    drag = null;
    if (d && d.moved) { load(); return; }
    const hit = cells.find((c) => { ctx.beginPath(); c.boundary.forEach(([lat, lon], i) => { const [x, y] = px(lon, lat); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); }); return ctx.isPointInPath(ev.offsetX, ev.offsetY); })
      || cells.find((c) => c.px && Math.hypot(c.px[0] - ev.offsetX, c.px[1] - ev.offsetY) < 5);
    if (hit) showCell(hit.cell).catch((e) => cellBox.replaceChildren(el("p", { class: "error" }, e.message)));
  });
  async function showCell(cell) {
    const d = await api(`/v1/explorer/cells/${cell}?epoch=${epoch}`);
    const c = cells.find((x) => x.cell === cell); // drawn at this resolution: its reward too
    const sum = (f) => d.devices.reduce((s, x) => s + BigInt(x[f]), 0n);
    cellBox.replaceChildren(el("h2", {}, "Cell ", el("span", { class: "mono", id: "cell-id" }, cell)),
      dl([["Devices scored / paid", d.devices.filter((x) => x.readings > 0).length + " / " + d.devices.filter((x) => x.score > 0).length],
        ["Score", sum("score")], ["Reward", c ? tokens(c.reward) : "–"], ["Rejected readings", sum("rejected")]]),
      table(["Device", "Kind", { t: "Score", n: 1 }, { t: "Rejected", n: 1 }], d.devices.map((x) => el("tr", {}, el("td", {}, deviceLink(x.deviceId)),
        el("td", {}, kindName(x.kind)), el("td", { class: "n" }, x.score), el("td", { class: "n" }, x.rejected))), { id: "cell-devices" }),
      d.truncated ? el("p", { class: "muted" }, "The first 1,000 devices.") : "");
  }

  // Start on the network: the world's occupied cells at resolution 2, then
  // zoom to fit them.
  if (epoch) {
    const all = await api(`/v1/explorer/map?epoch=${epoch}&res=2`);
    if (all.cells.length) {
      const xs = all.cells.flatMap((c) => c.boundary.map(([, lon]) => mx(lon))), ys = all.cells.flatMap((c) => c.boundary.map(([lat]) => my(lat)));
      const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
      view.k = Math.max(W, Math.min(W * 2 ** 16, 0.8 * Math.min(W / (x1 - x0), H / (y1 - y0))));
      view.x = (x0 + x1) / 2 - W / 2 / view.k;
      view.y = (y0 + y1) / 2 - H / 2 / view.k;
    }
  }
  await load();
  if (params.cell) await showCell(params.cell);
}

route();

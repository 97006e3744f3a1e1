// dx7d's page: status, the cartridge, feeding it, generating for it.
// Plain script, no build step, nothing from elsewhere: every request goes to this module.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "dx7d-token";  // sessionStorage: kept for this tab only
const STATUS_EVERY_MS = 1000;
const KNOB_EVERY_MS = 80;  // at most ~12 knob moves a second reach the module

// the generator's screen figures (dx7d.generator.sound), as column heads
const FIGURE_LABELS = { level_db: "level dB", brightness: "brightness Hz", attack_s: "attack s",
                        decay_s: "decay s", flatness: "flatness", pitch: "pitch st" };

let algorithms = {};  // "1".."32" -> SVG text
let cartridgeNames = null;  // the names last drawn, to notice a cartridge that changed
let currentProgram = null;  // {number, bank}
let generator = null;  // what GET /generator said
let generated = null;  // the last POST /generate answer

// -- requests -----------------------------------------------------------------------------

class Refusal extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function askToken() {
  return new Promise((resolve) => {
    const dialog = $("token-dialog");
    const form = $("token-form");
    const done = (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      form.removeEventListener("submit", done);
      dialog.close();
      resolve(token);
    };
    form.addEventListener("submit", done);
    if (!dialog.open) dialog.showModal();
    $("token-input").focus();
  });
}

let asking = null;  // one token question at a time, however many requests wait on it

async function api(method, path, body, as = "json") {
  for (let attempt = 0; attempt < 3; attempt++) {
    const headers = {};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    if (body instanceof ArrayBuffer || body instanceof Uint8Array) {
      headers["Content-Type"] = "application/octet-stream";
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    const reply = await fetch(path, { method, headers, body, cache: "no-store" });
    if (reply.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      if (!asking) asking = askToken().finally(() => { asking = null; });
      await asking;
      continue;
    }
    if (!reply.ok) {
      let message = reply.status + " " + reply.statusText;
      try { message = (await reply.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Refusal(reply.status, message);
    }
    if (as === "json") return reply.json();
    if (as === "blob") return reply.blob();
    return reply.arrayBuffer();
  }
  throw new Refusal(401, "no valid token");
}

function say(text, error = false) {
  const box = $("message");
  box.textContent = text;
  box.className = error ? "error" : "";
  box.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { box.hidden = true; }, error ? 12000 : 5000);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svgNode(text) {  // our own server's SVG, parsed (never innerHTML of other text)
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  return document.importNode(doc.documentElement, true);
}

async function play(path) {
  const blob = await api("GET", path, undefined, "blob");
  const url = URL.createObjectURL(blob);
  const audio = new Audio(url);
  audio.addEventListener("ended", () => URL.revokeObjectURL(url));
  try { await audio.play(); } catch (e) { /* the browser wants a gesture first */ }
  return blob.size;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// -- status -------------------------------------------------------------------------------

function showStatus(doc) {
  const a = doc.audio, m = doc.midi, s = doc.sysex, p = doc.program;
  const rows = [
    ["Audio", `${a.device}${a.device.startsWith(a.output) ? "" : ` (${a.output})`}, ` +
              `${a.sample_rate} Hz, ${a.buffer_frames}-frame blocks`],
    ["Underflows", String(a.underflows), a.underflows > 0],
    ["MIDI", `${m.api}, ${m.listening ? "listening" : "no MIDI system"}; channel ${m.channel}`],
    ["Ports", m.connected.length ? m.connected.join(", ") : "none connected"],
    ["Sounding", `${doc.engine.sounding_voices} of ${doc.engine.polyphony} voices`],
    ["Program", `${p.number} of bank ${p.bank}: ${p.name}`],
    ["Sysex", `accepted ${s.accepted}, refused ${s.refused}`],
  ];
  if (s.last_refusal) rows.push(["Last refusal", s.last_refusal, true]);
  rows.push(["Up", `${Math.round(doc.uptime_s)} s, dx7d ${doc.version}`]);
  const list = $("status");
  list.replaceChildren(...rows.flatMap(([k, v, warn]) =>
    [el("dt", {}, k), el("dd", warn ? { class: "warn" } : {}, v)]));
  $("program").textContent = `${p.number} ${p.name.trim()}`;
  currentProgram = { number: p.number, bank: p.bank };
  markCurrent();
  const names = JSON.stringify(doc.cartridge);
  if (cartridgeNames !== null && names !== cartridgeNames) loadCartridge();
}

async function pollStatus() {
  try {
    showStatus(await api("GET", "/status"));
  } catch (e) {
    $("status").replaceChildren(el("dt", {}, "Status"), el("dd", { class: "warn" }, e.message));
  }
  setTimeout(pollStatus, document.hidden ? 5 * STATUS_EVERY_MS : STATUS_EVERY_MS);
}

// -- the cartridge ------------------------------------------------------------------------

function markCurrent() {
  for (const node of document.querySelectorAll("#voices .voice")) {
    const here = currentProgram && currentProgram.bank === 0 &&
      Number(node.dataset.number) === currentProgram.number;
    node.classList.toggle("current", Boolean(here));
  }
}

async function loadCartridge() {
  showCartridge(await api("GET", "/cartridge/voices"));
}

function showCartridge(doc) {
  cartridgeNames = JSON.stringify(doc.voices.map((v) => v.name));
  $("protect").textContent = doc.memory_protect ? "memory protected" : "";
  $("voices").replaceChildren(...doc.voices.map((v) => {
    const item = el("li", { class: "voice", tabindex: "0", "data-number": String(v.number),
                            title: `voice ${v.number}: algorithm ${v.algorithm}, feedback ${v.feedback}` },
      el("span", { class: "top" }, el("span", {}, String(v.number)),
         el("span", { class: "alg" }, `alg ${v.algorithm}`)),
      el("span", { class: "drawing" }, svgNode(algorithms[String(v.algorithm)])),
      el("span", { class: "name" }, v.display === undefined ? v.name : v.display));
    item.addEventListener("click", () => pickVoice(v.number));
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") pickVoice(v.number); });
    return item;
  }));
  markCurrent();
}

async function pickVoice(number) {
  try {
    const chosen = await api("POST", `/cartridge/${number}/select`);
    currentProgram = { number, bank: 0 };
    markCurrent();
    say(`voice ${number}: ${chosen.name.trim()}`);
    const [table] = await Promise.all([api("GET", `/cartridge/${number}/table`),
                                       play(`/cartridge/${number}/audition.wav`)]);
    showTable(table, `Voice ${number}: ${table.name}`);
  } catch (e) { say(e.message, true); }
}

function showTable(t, title) {
  const g = t.global;
  const head = ["OP", "level", "frequency", "detune", "R1", "R2", "R3", "R4", "L1", "L2", "L3",
                "L4", "break", "left", "right", "rate sc.", "AMS", "velocity"];
  const rows = t.operators.map((o) => el("tr", o.on ? {} : { class: "off" },
    ...[o.op + (o.on ? "" : " off"), o.level, o.frequency, o.detune, ...o.rates, ...o.levels,
        o.break_point, o.left, o.right, o.rate_scaling, o.amp_mod, o.velocity]
      .map((x, i) => el("td", [2, 12, 13, 14].includes(i) ? { class: "text" } : {}, String(x)))));
  const lfo = g.lfo;
  const facts = [
    ["Algorithm", g.algorithm], ["Feedback", g.feedback], ["Osc key sync", g.osc_key_sync],
    ["Transpose", g.transpose],
    ["LFO", `${lfo.wave}, speed ${lfo.speed}, delay ${lfo.delay}, PMD ${lfo.pitch_mod_depth}, ` +
            `AMD ${lfo.amp_mod_depth}, key sync ${lfo.key_sync}`],
    ["Pitch mod sens.", g.pitch_mod_sensitivity],
    ["Pitch EG", `rates ${g.pitch_envelope.rates.join(" ")}, levels ${g.pitch_envelope.levels.join(" ")}`],
  ];
  $("voice-title").textContent = title;
  $("voice-table").replaceChildren(
    el("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))])),
    el("table", { class: "grid", id: "operators" },
       el("tr", {}, ...head.map((h) => el("th", {}, h))), ...rows));
  $("voice-detail").hidden = false;
}

// -- feeding it ---------------------------------------------------------------------------

async function sendSyx(file) {
  const data = new Uint8Array(await file.arrayBuffer());
  // a single-voice dump is F0 43 0n 00 ...; anything else goes to /cartridge, whose
  // refusal says what it is not
  const where = data.length > 3 && data[0] === 0xf0 && data[3] === 0x00 ? "/voice" : "/cartridge";
  try {
    const done = await api("PUT", where, data);
    if (done.stored) {
      say(`${file.name}: cartridge stored (${done.stored.map((n) => n.trim()).slice(0, 4).join(", ")}, ...)`);
      await Promise.all([loadCartridge(), loadBackups()]);
    } else {
      say(`${file.name}: voice loaded: ${done.voice.trim()}`);
    }
  } catch (e) { say(`${file.name}: ${e.message}`, true); }
}

function setUpDrop() {
  const zone = $("drop");
  const over = (on) => (e) => { e.preventDefault(); zone.classList.toggle("over", on); };
  for (const target of [zone, document.body]) {
    target.addEventListener("dragover", over(true));
    target.addEventListener("dragleave", over(false));
    target.addEventListener("drop", (e) => {
      over(false)(e);
      e.stopPropagation();
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (file) sendSyx(file);
    });
  }
  $("drop-input").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) sendSyx(file);
    e.target.value = "";
  });
  $("download").addEventListener("click", async () => {
    try { save(await api("GET", "/cartridge", undefined, "blob"), "dx7d-cartridge.syx"); }
    catch (e) { say(e.message, true); }
  });
}

function backupTime(name) {  // cartridge-20261201T224823.740369354Z.syx -> 2026-12-01 22:48:23 UTC
  const m = /^cartridge-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]} UTC` : name;
}

async function loadBackups() {
  const doc = await api("GET", "/backups");
  const items = doc.backups.map((b) => el("li", {},
    backupTime(b.name),
    el("button", { onclick: () => restore(b.name) }, "restore"),
    el("div", { class: "names" }, b.voices.map((n) => n.trimEnd()).join(", ") + ", ...")));
  $("backups").replaceChildren(...(items.length ? items : [el("li", { class: "dim" }, "none yet")]));
}

async function restore(name) {
  try {
    await api("POST", `/backups/${encodeURIComponent(name)}/restore`);
    say(`${name} restored (the cartridge it replaced is kept as a backup)`);
    await Promise.all([loadCartridge(), loadBackups()]);
  } catch (e) { say(e.message, true); }
}

async function browse(dir = "") {
  let doc;
  try { doc = await api("GET", "/library?dir=" + encodeURIComponent(dir)); }
  catch (e) { say(e.message, true); return; }
  $("library-where").textContent = doc.folder ? `${doc.folder}, ${doc.total} banks` : "(none)";
  const crumbs = [el("button", { onclick: () => browse("") }, "top")];
  let path = "";
  for (const part of doc.dir ? doc.dir.split("/") : []) {
    path = path ? `${path}/${part}` : part;
    const here = path;
    crumbs.push(el("button", { onclick: () => browse(here) }, part));
  }
  $("library-path").replaceChildren(...crumbs);
  const items = [
    ...doc.dirs.map((d) => el("li", {}, el("button", { class: "folder",
      onclick: () => browse(doc.dir ? `${doc.dir}/${d.name}` : d.name) }, `${d.name}/`),
      el("span", { class: "dim" }, ` ${d.banks} banks`))),
    ...doc.banks.map((b) => {
      const names = el("div", { class: "names" });
      return el("li", { class: "bank", "data-bank": String(b.bank) }, `${b.bank}: ${b.name}`,
        el("button", { onclick: () => peek(b.bank, names) }, "voices"),
        el("button", { class: "load", onclick: () => loadBank(b.bank, b.name) }, "load"), names);
    }),
  ];
  $("library").replaceChildren(...(items.length ? items : [el("li", { class: "dim" }, "empty")]));
}

async function peek(bank, where) {
  try {
    const doc = await api("GET", `/library/${bank}/voices`);
    where.textContent = doc.voices.map((v) => v.name.trim()).join(", ");
  } catch (e) { where.textContent = e.message; }
}

async function loadBank(bank, name) {
  try {
    await api("POST", `/library/${bank}/load`);
    say(`${name} is the cartridge now (the one it replaced is kept as a backup)`);
    await Promise.all([loadCartridge(), loadBackups()]);
  } catch (e) { say(`${name}: ${e.message}`, true); }
}

// -- generating ---------------------------------------------------------------------------

async function setUpGenerator() {
  try { generator = await api("GET", "/generator"); }
  catch (e) { generator = { available: false, reason: e.message }; }
  const off = !generator.available;
  $("gen-unavailable").hidden = !off;
  $("gen-unavailable").textContent = off ? `The generator is not available: ${generator.reason}` : "";
  for (const node of $("gen-form").elements) node.disabled = off;
  if (off) return;
  $("gen-style").replaceChildren(...generator.styles.map((s) => el("option", { value: s }, s)));
  if (generator.styles.includes("any")) $("gen-style").value = "any";
  $("gen-form").addEventListener("submit", generate);
  $("gen-send").addEventListener("click", sendGenerated);
  $("gen-download").addEventListener("click", async () => {
    try { save(await api("GET", `/generated/${generated.id}.syx`, undefined, "blob"), "dx7d-generated.syx"); }
    catch (e) { say(e.message, true); }
  });
  showKnobs();
}

function showKnobs() {
  $("knobs").replaceChildren(...generator.knobs.map((k) => {
    const value = el("span", { class: "value" }, "0.0");
    const slider = el("input", { type: "range", min: String(k.min), max: String(k.max),
                                 step: "0.1", value: "0", "data-knob": String(k.dimension),
                                 "aria-label": k.label });
    slider.addEventListener("input", () => {
      value.textContent = Number(slider.value).toFixed(1);
      moveKnob(k.dimension, Number(slider.value));
    });
    return el("label", { class: "knob" }, el("span", {}, k.label), value, slider,
              el("span", { class: "what" }, k.what));
  }));
}

async function generate(event) {
  event.preventDefault();
  const go = $("gen-go");
  go.disabled = true;
  go.textContent = "Generating...";
  try {
    generated = await api("POST", "/generate?store=0", {
      style: $("gen-style").value, seed: Number($("gen-seed").value),
      temperature: Number($("gen-temperature").value) });
    showGenerated();
    say(`generated ${generated.voices.length} voices (seed ${generated.seed})`);
  } catch (e) { say(e.message, true); }
  finally { go.disabled = false; go.textContent = "Generate"; }
}

function showGenerated() {
  const figures = generated.figures || [];
  const head = ["#", "name", "alg", "category", ...figures.map((f) => FIGURE_LABELS[f] || f), ""];
  const rows = generated.voices.map((v) => el("tr", { class: "generated" },
    el("td", {}, String(v.number)), el("td", { class: "text" }, v.name),
    el("td", {}, String(v.algorithm)), el("td", { class: "text" }, v.category || ""),
    ...figures.map((f) => el("td", {}, v.figures[f] === undefined ? "" : String(v.figures[f]))),
    el("td", {}, el("button", { class: "hear", onclick: () =>
      play(`/generated/${generated.id}/${v.number}/audition.wav`).catch((e) => say(e.message, true)) },
      "hear"),
      el("button", { class: "edit", onclick: () => editGenerated(v) }, "knobs"))));
  $("gen-voices").replaceChildren(el("tr", {}, ...head.map((h) => el("th", {}, h))), ...rows);
  $("gen-result").hidden = false;
}

async function sendGenerated() {
  try {
    await api("POST", `/generated/${generated.id}/send`);
    say("the generated cartridge is on the module (the one it replaced is kept as a backup)");
    await Promise.all([loadCartridge(), loadBackups()]);
  } catch (e) { say(e.message, true); }
}

async function editGenerated(v) {
  try {
    await api("POST", `/generated/${generated.id}/${v.number}/edit`);
    showKnobs();  // the knobs start again from the centre: this voice
    say(`${v.name.trim()} is the edit voice: the knobs move it`);
  } catch (e) { say(e.message, true); }
}

const knobPending = new Map();  // dimension -> the latest value not sent yet
let knobTimer = null, knobBusy = false;

function moveKnob(dimension, value) {
  knobPending.set(dimension, value);
  if (knobTimer || knobBusy) return;
  knobTimer = setTimeout(sendKnobs, KNOB_EVERY_MS);
}

async function sendKnobs() {
  knobTimer = null;
  knobBusy = true;
  try {
    while (knobPending.size) {
      const [dimension, value] = knobPending.entries().next().value;
      knobPending.delete(dimension);
      const done = await api("POST", "/knobs", { dimension, value });
      $("program").textContent = `edit ${done.name.trim()}`;
    }
  } catch (e) { say(e.message, true); }
  finally { knobBusy = false; }
}

// -- start --------------------------------------------------------------------------------

async function start() {
  setUpDrop();
  try {
    const [drawings, voices] = await Promise.all([api("GET", "/algorithms"),
                                                  api("GET", "/cartridge/voices")]);
    algorithms = drawings;
    showCartridge(voices);
  } catch (e) { say(e.message, true); }
  pollStatus();
  loadBackups().catch((e) => say(e.message, true));
  browse("");
  setUpGenerator();
}

document.addEventListener("DOMContentLoaded", start);

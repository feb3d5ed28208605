// texstyle studio: a view of the server's state. The server keeps everything (runs, queue,
// uploads); this script draws what /api/events sends and posts what the user asks for.
"use strict";
const $ = (id) => document.getElementById(id);
let options = null, state = null, selected = null, restored = false;

async function api(method, url, body, type) {
  const init = { method, body };
  if (type) init.headers = { "Content-Type": type };
  const response = await fetch(url, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function mode() { return document.querySelector("input[name=mode]:checked").value; }

function buildForm() {
  for (const m of options.modes) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="radio" name="mode" value="${m}"> ${m} <code>texstyle ${m}</code> `;
    $("modes").append(label);
  }
  document.querySelector("input[name=mode][value=stylize]").checked = true;
  for (const c of options.controls) {
    const row = document.createElement("div");
    row.className = "control";
    row.dataset.name = c.name;
    let input;
    if (c.kind === "choice") {
      input = document.createElement("select");
      for (const choice of c.choices) input.add(new Option(choice, choice));
    } else {
      input = document.createElement("input");
      input.type = c.kind === "bool" ? "checkbox" : "number";
      if (c.kind === "float") input.step = "any";
    }
    input.id = "opt-" + c.name;
    const label = document.createElement("label");
    label.htmlFor = input.id;
    label.innerHTML = `${c.label} <code>${c.flag}</code>`;
    const cell = document.createElement("span");
    cell.append(input);
    row.append(label, cell);
    $("controls").append(row);
  }
  document.querySelectorAll("input[name=mode]").forEach((r) => r.addEventListener("change", () => applyMode(true)));
  applyMode(true);
}

// Show the controls of this mode, each with this mode's default (from the option declarations).
function applyMode(withDefaults) {
  const m = mode();
  document.querySelector(".input[data-role=content]").classList.toggle("off", m !== "stylize");
  for (const c of options.controls) {
    const row = document.querySelector(`.control[data-name=${c.name}]`);
    const input = $("opt-" + c.name);
    const on = m in c.defaults;
    row.classList.toggle("off", !on);
    row.title = on ? c.help[m] : "";
    if (on && withDefaults) setValue(input, c.defaults[m]);
  }
}

function setValue(input, value) {
  if (input.type === "checkbox") input.checked = !!value; else input.value = value;
}

function request() {
  const m = mode(), settings = {};
  for (const c of options.controls) {
    if (!(m in c.defaults)) continue;
    const input = $("opt-" + c.name);
    settings[c.name] = input.type === "checkbox" ? input.checked
      : c.kind === "choice" ? input.value : Number(input.value);
  }
  const req = { mode: m, style: $("style").value, settings };
  if (m === "stylize") req.content = $("content").value;
  return req;
}

function restore(req) {
  document.querySelector(`input[name=mode][value=${req.mode}]`).checked = true;
  applyMode(true);
  if (req.content) { $("content").value = req.content; showThumb("content"); }
  $("style").value = req.style; showThumb("style");
  for (const [name, value] of Object.entries(req.settings || {})) {
    const input = $("opt-" + name);
    if (input) setValue(input, value);
  }
}

function fillInputs(inputs) {
  for (const role of ["content", "style"]) {
    const select = $(role), keep = select.value;
    if (select.options.length === inputs.length) continue;
    select.innerHTML = "";
    for (const i of inputs) select.add(new Option((i.kind === "sample" ? "sample: " : "upload: ") + i.name, i.ref));
    select.value = keep || (role === "content" ? "sample:cat" : "sample:mosaic");
    showThumb(role);
  }
}

function showThumb(role) {
  const ref = $(role).value;
  if (ref) $(role + "-thumb").src = "/api/thumbnail?ref=" + encodeURIComponent(ref);
}

async function upload(role, file) {
  $("error").textContent = "";
  if (file.size > options.max_upload_bytes) {
    $("error").textContent = `${file.name} is too large to upload: ${file.size.toLocaleString("en")} bytes, over the limit of ${options.max_upload_bytes.toLocaleString("en")} bytes`;
    return;
  }
  try {
    const url = `/api/uploads?role=${role}&name=${encodeURIComponent(file.name)}`;
    const added = await api("POST", url, file, "application/octet-stream");
    fillInputs((await api("GET", "/api/state")).inputs);
    $(role).value = added.ref;
    showThumb(role);
  } catch (e) { $("error").textContent = e.message; }
}

function wireInputs() {
  for (const role of ["content", "style"]) {
    $(role).addEventListener("change", () => showThumb(role));
    $(role + "-file").addEventListener("change", (e) => {
      const file = e.target.files[0];
      e.target.value = "";  // the picture is now the server's (or refused); the input is free again
      if (file) upload(role, file);
    });
    const drop = $(role + "-drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault(); drop.classList.remove("over");
      if (e.dataTransfer.files[0]) upload(role, e.dataTransfer.files[0]);
    });
  }
}

function seconds(s) {
  if (s === null || s === undefined) return "–";
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function progressText(p) {
  if (!p) return "";
  return `level ${p.level}/${p.levels} (${p.size[0]}x${p.size[1]}) · iteration ${p.iteration}/${p.total}` +
    ` · loss ${p.loss === null ? "–" : p.loss.toPrecision(4)} · ${seconds(p.elapsed)} elapsed · ETA ${seconds(p.eta)}`;
}

const KIND = { preview: "feed-forward preview (AdaIN)", current: "current image of the optimisation", result: "result" };

function statusText(run) {
  if (run.status === "queued") return `run ${run.id}: waiting in the queue, position ${run.queue_position}`;
  if (run.status === "running") return `run ${run.id}: running`;
  if (run.status === "failed") return `run ${run.id} failed: ${run.error}`;
  if (run.status === "stopped") return `run ${run.id}: stopped` + (run.has_result ? ", best image so far kept" : " before its first iteration");
  return `run ${run.id}: ${run.status}`;
}

function drawCurrent() {
  const runs = state.runs;
  const run = runs.find((r) => r.id === selected) || runs.find((r) => r.status === "running") || runs[runs.length - 1];
  if (!run) return;
  $("frame-kind").textContent = run.frame_kind ? KIND[run.frame_kind] : "";
  const frame = $("frame");
  const src = run.frame_version ? `/api/runs/${run.id}/frame.jpg?v=${run.frame_version}` : "";
  if (src && frame.dataset.src !== src) { frame.src = src; frame.dataset.src = src; }
  if (!src) { frame.removeAttribute("src"); frame.dataset.src = ""; }
  $("status").textContent = statusText(run);
  $("status").dataset.status = run.status;
  $("progress").textContent = progressText(run.progress);
  $("stop").disabled = !(run.status === "running" || run.status === "queued");
  $("stop").dataset.run = run.id;
  for (const kind of ["png", "json"]) {
    const a = $("download-" + kind);
    a.hidden = !run.has_result;
    a.href = `/api/runs/${run.id}/result.${kind}`;
  }
  $("command-line").hidden = false;
  $("command").value = run.command;
}

let galleryKey = "";
function drawGallery() {
  const list = $("gallery");
  // Redrawn only when something it shows changed (not on every progress event).
  const key = JSON.stringify([selected, state.runs.map((r) => [r.status, r.frame_version, r.queue_position])]);
  if (key === galleryKey) return;
  galleryKey = key;
  list.innerHTML = "";
  for (const run of state.runs.slice().reverse()) {
    const li = document.createElement("li");
    li.className = run.id === selected ? "selected" : "";
    li.dataset.run = run.id;
    const img = document.createElement("img");
    if (run.frame_version) img.src = `/api/runs/${run.id}/frame.jpg?v=${run.frame_version}`;
    const s = run.request.settings || {};
    const name = (ref) => (state.inputs.find((i) => i.ref === ref) || { name: ref }).name;
    const what = run.mode === "stylize" ? `${name(run.request.content)} in ${name(run.request.style)}` : name(run.request.style);
    const text = document.createElement("div");
    text.textContent = `#${run.id} ${run.mode}: ${what}, ${s.size} px, ${run.status}` +
      (run.queue_position ? ` (queue ${run.queue_position})` : "");
    li.title = run.command;
    li.append(img, text);
    li.addEventListener("click", () => { selected = run.id; restore(run.request); draw(); });
    list.append(li);
  }
}

function draw() {
  fillInputs(state.inputs);
  if (!restored && state.runs.length) { restore(state.runs[state.runs.length - 1].request); }
  restored = true;
  drawCurrent();
  drawGallery();
}

function listen() {
  const events = new EventSource("/api/events");
  events.onopen = () => { $("connection").textContent = "connected"; };
  events.onerror = () => { $("connection").textContent = "reconnecting…"; };
  events.onmessage = (e) => { state = JSON.parse(e.data); draw(); };
}

$("setup").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("error").textContent = "";
  try { selected = (await api("POST", "/api/runs", JSON.stringify(request()), "application/json")).id; }
  catch (err) { $("error").textContent = err.message; }
});
$("stop").addEventListener("click", () => api("POST", `/api/runs/${$("stop").dataset.run}/stop`).catch((err) => { $("error").textContent = err.message; }));
$("copy").addEventListener("click", async () => {
  try { await navigator.clipboard.writeText($("command").value); }
  catch { $("command").select(); document.execCommand("copy"); }
  $("copy").textContent = "Copied";
  setTimeout(() => { $("copy").textContent = "Copy command"; }, 1500);
});

(async () => {
  options = await api("GET", "/api/options");
  buildForm();
  wireInputs();
  state = await api("GET", "/api/state");
  draw();
  listen();
})();

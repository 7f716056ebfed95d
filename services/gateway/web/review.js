// Docent review page: raters score sampled or imported answers 1-5 on three dimensions
// (PUT /v1/review/items/{id}/ratings/{rater}); agreement and exports come from /v1/review.
"use strict";

const $ = (id) => document.getElementById(id);
const DIMENSIONS = ["helpfulness", "accuracy", "safety"];
const KEY = "docent.apiKey";  // shared with the chat page
const RATER = "docent.rater";
// Optional answer length for imports from the page URL, e.g. /review?max_tokens=48.
const MAX_TOKENS = Number(new URLSearchParams(location.search).get("max_tokens")) || null;

function apiKey() { return localStorage.getItem(KEY) || ""; }
function rater() { return localStorage.getItem(RATER) || ""; }
function setStatus(text) { $("status").textContent = text; }

function headers(json) {
  const h = json ? { "content-type": "application/json" } : {};
  if (apiKey()) h.authorization = "Bearer " + apiKey();
  return h;
}

async function api(method, path, body) {
  const reply = await fetch(path, {
    method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!reply.ok) {
    let message = reply.status + " " + reply.statusText;
    try { const err = await reply.json(); message = (err.error && err.error.message) || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return reply;
}

function fmt(x) { return x === null || x === undefined ? "—" : x.toFixed(3); }

function renderSources(list, sources) {
  list.innerHTML = "";
  sources.forEach((s) => {
    const li = document.createElement("li");
    li.value = s.n || 0;
    li.className = "source";
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "[" + s.n + "] " + (s.title || "Untitled");
    const path = document.createElement("div");
    path.className = "path";
    path.textContent = s.source_path || "";
    const quote = document.createElement("blockquote");
    quote.textContent = s.text || "";
    details.append(summary, path, quote);
    li.appendChild(details);
    list.appendChild(li);
  });
}

function markSaved(el, state, text) {
  const span = el.querySelector(".saved-state");
  span.className = "saved-state " + state;
  span.textContent = text;
}

function renderItem(item) {
  const el = $("item-template").content.firstElementChild.cloneNode(true);
  el.dataset.id = item.id;
  el.querySelector(".meta").textContent = item.source === "import"
    ? "imported · " + (item.question_id || "") : "conversation · " + (item.conversation_id || "");
  el.querySelector(".question").textContent = item.question;
  el.querySelector(".answer").textContent = item.answer;
  el.querySelector(".sources summary").textContent = "Sources (" + item.sources.length + ")";
  renderSources(el.querySelector(".source-list"), item.sources);
  el.querySelectorAll(".scale").forEach((fieldset) => {
    const dim = fieldset.dataset.dimension;
    for (let v = 1; v <= 5; v++) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      Object.assign(input, { type: "radio", name: item.id + "-" + dim, value: String(v), className: "score-" + v });
      input.required = true;
      if (item.rating && item.rating[dim] === v) input.checked = true;
      label.append(input, " " + v);
      fieldset.appendChild(label);
    }
  });
  if (item.rating) {
    el.querySelector(".comment").value = item.rating.comment;
    el.classList.add("rated");
    markSaved(el, "saved", "Saved");
  }
  const form = el.querySelector("form.rating");
  form.addEventListener("input", () => markSaved(el, "dirty", "Unsaved changes"));
  form.addEventListener("submit", (e) => { e.preventDefault(); saveRating(el); });
  return el;
}

async function saveRating(el) {
  if (!rater()) { setStatus("Enter your rater name first."); $("rater-name").focus(); return; }
  const body = { comment: el.querySelector(".comment").value };
  for (const dim of DIMENSIONS) {
    const checked = el.querySelector(".scale[data-dimension=" + dim + "] input:checked");
    if (!checked) { markSaved(el, "error", "Score " + dim + " first"); return; }
    body[dim] = Number(checked.value);
  }
  const path = "/v1/review/items/" + el.dataset.id + "/ratings/" + encodeURIComponent(rater());
  try {
    await api("PUT", path, body);
    el.classList.add("rated");
    markSaved(el, "saved", "Saved " + new Date().toLocaleTimeString());
    showCount();
    await loadAgreement();
  } catch (err) {
    markSaved(el, "error", "Not saved: " + err.message);
  }
}

async function loadItems() {
  const query = rater() ? "?rater=" + encodeURIComponent(rater()) : "";
  try {
    const body = await (await api("GET", "/v1/review/items" + query)).json();
    $("items").innerHTML = "";
    body.items.forEach((item) => $("items").appendChild(renderItem(item)));
    showCount();
  } catch (err) {
    setStatus("Could not load items: " + err.message);
  }
}

function showCount() {
  const all = document.querySelectorAll("#items article.item").length;
  const rated = document.querySelectorAll("#items article.item.rated").length;
  setStatus(all + " items" + (rater() ? ", " + rated + " rated by " + rater() : ""));
}

async function loadAgreement() {
  let body;
  try { body = await (await api("GET", "/v1/review/agreement")).json(); } catch (_) { return; }
  $("agreement-summary").textContent = body.ratings + " ratings by " + body.raters.length + " raters";
  const rows = $("agreement-table").querySelector("tbody");
  rows.innerHTML = "";
  $("agreement-pairs").innerHTML = "";
  for (const dim of DIMENSIONS) {
    const d = body[dim];
    const tr = document.createElement("tr");
    tr.dataset.dimension = dim;
    tr.innerHTML = "<td></td><td class='alpha'></td><td class='items'></td>";
    tr.children[0].textContent = dim;
    tr.children[1].textContent = fmt(d.alpha);
    tr.children[2].textContent = d.items;
    rows.appendChild(tr);
    d.pairs.forEach((p) => {
      const line = document.createElement("div");
      line.className = "pair";
      line.dataset.dimension = dim;
      line.textContent = dim + " · " + p.raters.join(" × ") + " (" + p.items + " items): κ " + fmt(p.kappa) + ", weighted κ " + fmt(p.weighted_kappa);
      $("agreement-pairs").appendChild(line);
    });
  }
}

async function sample() {
  const body = { count: Number($("sample-count").value) };
  if ($("sample-seed").value !== "") body.seed = Number($("sample-seed").value);
  try {
    const reply = await (await api("POST", "/v1/review/sample", body)).json();
    setStatus("Sampled " + reply.items.length + " new conversations.");
    await loadItems();
  } catch (err) { setStatus("Sampling failed: " + err.message); }
}

async function importFile() {
  const file = $("import-file").files[0];
  if (!file) { setStatus("Choose a .jsonl questions file first."); return; }
  const questions = (await file.text()).split("\n").filter((l) => l.trim()).map((l) => {
    const row = JSON.parse(l);
    return { _id: String(row._id), text: row.text };
  });
  const body = { questions };
  const maxTokens = Number($("import-max-tokens").value) || MAX_TOKENS;
  if (maxTokens) body.max_tokens = maxTokens;
  let job;
  try { job = await (await api("POST", "/v1/review/import", body)).json(); } catch (err) {
    $("import-status").textContent = "Import failed: " + err.message; return;
  }
  $("import-button").disabled = true;
  $("import-progress").hidden = false;
  while (job.state === "running") {
    showProgress(job);
    await new Promise((r) => setTimeout(r, 1000));
    try { job = await (await api("GET", "/v1/review/import/" + job.job_id)).json(); } catch (err) {
      $("import-status").textContent = "Lost the import job: " + err.message; break;
    }
  }
  showProgress(job);
  $("import-button").disabled = false;
  await loadItems();
}

function showProgress(job) {
  $("import-progress").max = job.total;
  $("import-progress").value = job.done + job.failed;
  const failed = job.failed ? ", " + job.failed + " failed" : "";
  $("import-status").textContent = job.state + ": " + job.done + "/" + job.total + " answered" + failed;
  $("import-status").dataset.state = job.state;
}

async function download(format) {
  try {
    const reply = await api("GET", "/v1/review/export?format=" + format);
    const blob = await reply.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "review." + format;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    const text = await blob.text();
    const count = format === "csv" ? text.trim().split("\r\n").length - 1 : JSON.parse(text).items.length;
    $("export-status").textContent = "review." + format + ": " + count + (format === "csv" ? " rows" : " items");
  } catch (err) { $("export-status").textContent = "Export failed: " + err.message; }
}

$("save-settings").addEventListener("click", () => {
  localStorage.setItem(RATER, $("rater-name").value.trim());
  localStorage.setItem(KEY, $("api-key").value.trim());
  setStatus("Saved in this browser.");
  loadItems();
  loadAgreement();
});
$("sample-button").addEventListener("click", sample);
$("import-button").addEventListener("click", importFile);
$("export-csv").addEventListener("click", () => download("csv"));
$("export-json").addEventListener("click", () => download("json"));
$("rater-name").value = rater();
$("api-key").value = apiKey();
loadItems();
loadAgreement();

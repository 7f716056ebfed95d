// Docent chat page: streams answers from POST /v1/chat (server-sent events), shows numbered
// citations that open the cited passage, and lists the caller's conversations.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { conversationId: null, busy: false };
const CITATION = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
// Optional answer length from the page URL, e.g. /?max_tokens=64 (the gateway's default otherwise).
const MAX_TOKENS = Number(new URLSearchParams(location.search).get("max_tokens")) || null;

function apiKey() { return localStorage.getItem("docent.apiKey") || ""; }

function headers(json) {
  const h = json ? { "content-type": "application/json" } : {};
  if (apiKey()) h.authorization = "Bearer " + apiKey();
  return h;
}

function setStatus(text) { $("status").textContent = text; }

async function errorText(reply) {
  try {
    const body = await reply.json();
    return (body.error && body.error.message) || reply.statusText;
  } catch (_) {
    return reply.status + " " + reply.statusText;
  }
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// The answer as HTML: [n] markers become buttons that open source n.
function renderAnswer(el, text, sources, cited) {
  el.innerHTML = escapeHtml(text).replace(CITATION, (_, nums) =>
    nums.split(",").map((n) => {
      n = Number(n.trim());
      const known = sources.some((s) => s.n === n);
      if (!known) return "[" + n + "]";
      const mark = cited && cited.includes(n) ? " cited" : "";
      return '<button type="button" class="cite' + mark + '" data-n="' + n + '">[' + n + "]</button>";
    }).join(""));
  el.querySelectorAll("button.cite").forEach((button) => {
    button.addEventListener("click", () => showPassage(sources.find((s) => s.n === Number(button.dataset.n))));
  });
}

function showPassage(source) {
  if (!source) return;
  $("passage-title").textContent = "[" + source.n + "] " + (source.title || "Untitled");
  const heading = (source.heading_path || []).filter(Boolean).join(" › ");
  $("passage-path").textContent = source.source_path + (heading ? " — " + heading : "");
  $("passage-text").textContent = source.text;
  $("passage").hidden = false;
}

function addMessage(role, text) {
  const el = document.createElement("div");
  el.className = "message " + role;
  el.textContent = text;
  $("messages").appendChild(el);
  el.scrollIntoView({ block: "end" });
  return el;
}

function renderSourceList(el, sources, cited) {
  const list = document.createElement("div");
  list.className = "sources";
  list.textContent = "Sources: ";
  sources.forEach((s) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "cite" + (cited.includes(s.n) ? " cited" : "");
    b.dataset.n = s.n;
    b.textContent = "[" + s.n + "] " + (s.title || s.source_path);
    b.title = s.source_path;
    b.addEventListener("click", () => showPassage(s));
    list.appendChild(b);
    list.appendChild(document.createTextNode(" "));
  });
  el.appendChild(list);
}

// Server-sent events from a fetch body: yields {event, data} objects.
async function* readEvents(reply) {
  const reader = reply.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
    }
  }
}

async function ask(question) {
  state.busy = true;
  $("send").disabled = true;
  addMessage("user", question);
  const answerEl = addMessage("assistant", "");
  answerEl.classList.add("streaming");
  setStatus("Thinking…");
  let text = "";
  let sources = [];
  try {
    const reply = await fetch("/v1/chat", {
      method: "POST",
      headers: headers(true),
      body: JSON.stringify({
        message: question, conversation_id: state.conversationId, stream: true, max_tokens: MAX_TOKENS,
      }),
    });
    if (!reply.ok) throw new Error(await errorText(reply));
    for await (const { event, data } of readEvents(reply)) {
      if (event === "sources") {
        sources = data.sources;
      } else if (event === "delta") {
        text += data.text;
        renderAnswer(answerEl, text, sources, null);
        setStatus("Answering…");
      } else if (event === "error") {
        throw new Error(data.error ? data.error.message : "generation failed");
      } else if (event === "done") {
        state.conversationId = data.conversation_id;
        renderAnswer(answerEl, text, sources, data.citations);
        if (sources.length) renderSourceList(answerEl, sources, data.citations);
        answerEl.classList.remove("streaming");
        answerEl.classList.add("done");
        setStatus("");
      }
    }
    await loadConversations();
  } catch (err) {
    answerEl.classList.remove("streaming");
    answerEl.classList.add("error");
    answerEl.textContent = "Error: " + err.message;
    setStatus("");
  } finally {
    state.busy = false;
    $("send").disabled = false;
  }
}

async function loadConversations() {
  const reply = await fetch("/v1/conversations", { headers: headers(false) });
  const list = $("conversations");
  if (!reply.ok) {
    list.innerHTML = "";
    if (reply.status === 401) { $("key-box").open = true; setStatus("This gateway needs an API key."); }
    return;
  }
  const body = await reply.json();
  list.innerHTML = "";
  body.conversations.forEach((c) => {
    const li = document.createElement("li");
    li.textContent = c.title || c.id;
    li.dataset.id = c.id;
    li.title = new Date(c.updated_at * 1000).toLocaleString();
    if (c.id === state.conversationId) li.classList.add("active");
    li.addEventListener("click", () => openConversation(c.id));
    list.appendChild(li);
  });
}

async function openConversation(id) {
  const reply = await fetch("/v1/conversations/" + encodeURIComponent(id), { headers: headers(false) });
  if (!reply.ok) { setStatus(await errorText(reply)); return; }
  const body = await reply.json();
  state.conversationId = id;
  $("messages").innerHTML = "";
  body.messages.forEach((m) => addMessage(m.role, m.content));
  await loadConversations();
}

$("ask").addEventListener("submit", (e) => {
  e.preventDefault();
  const question = $("question").value.trim();
  if (!question || state.busy) return;
  $("question").value = "";
  ask(question);
});
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ask").requestSubmit(); }
});
$("new-chat").addEventListener("click", () => {
  state.conversationId = null;
  $("messages").innerHTML = "";
  $("passage").hidden = true;
  loadConversations();
});
$("close-passage").addEventListener("click", () => { $("passage").hidden = true; });
$("save-key").addEventListener("click", () => {
  localStorage.setItem("docent.apiKey", $("api-key").value.trim());
  setStatus("API key saved in this browser.");
  loadConversations();
});
$("api-key").value = apiKey();
loadConversations();

// unclf review: the little the pages need beyond plain HTML. No framework, no build step.
"use strict";

async function send(method, url, body) {
  const response = await fetch(url, {
    method: method,
    headers: body === undefined ? {} : {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The paragraph's text with the given words (and word pairs) marked; the text stays as it is.
function markWords(element, words) {
  const text = element.textContent;
  element.textContent = "";
  if (!words.length) { element.textContent = text; return; }
  const pattern = new RegExp("\\b(" + words.map(w => escapeRegExp(w).replace(/ /g, "\\s+")).join("|") + ")\\b", "gi");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    element.append(text.slice(last, match.index));
    const b = document.createElement("b");
    b.className = "why-word";
    b.textContent = match[0];
    element.append(b);
    last = match.index + match[0].length;
  }
  element.append(text.slice(last));
}

function documentPage(view) {
  const status = document.getElementById("status");
  const targets = new Set(view.paragraphs.filter(p => p.is_target).map(p => p.position));
  const rejected = new Set(view.paragraphs.filter(p => p.is_rejected).map(p => p.position));
  const quoted = document.getElementById("suggested-text");  // a PDF: the suggestion's text
  let current = 0;

  // Where a paragraph is shown: its section of the text, or its boxes on the pages of a PDF.
  function shown(position) { return document.querySelectorAll('[data-position="' + position + '"]'); }

  function showMarks() {
    for (const p of view.paragraphs) {
      for (const element of shown(p.position)) {
        element.classList.toggle("target", targets.has(p.position));
        element.classList.toggle("rejected", rejected.has(p.position));
      }
    }
  }

  async function post(url, body, what) {
    status.textContent = "Saving…";
    try {
      await send("POST", url, body);
      status.textContent = "Saved: " + what + ".";
      status.className = "saved";
    } catch (error) {
      status.textContent = "Not saved: " + error.message;
      status.className = "error";
    }
  }

  const save = what => post("/api/labels", {id: view.id, targets: [...targets].sort((a, b) => a - b)}, what);

  // Move the highlight to candidate number `rank` (0 = the model's choice) and say why.
  async function showCandidate(rank) {
    if (!view.candidates.length) return;
    current = Math.max(0, Math.min(rank, view.candidates.length - 1));
    for (const old of document.querySelectorAll("#document mark.suggested")) {
      const span = document.createElement("span");
      span.className = "text";
      span.textContent = old.textContent;
      old.replaceWith(span);
    }
    for (const box of document.querySelectorAll(".box.suggested")) box.classList.remove("suggested");
    const position = view.candidates[current];
    const paragraph = view.paragraphs[position];
    const mark = document.createElement("mark");
    mark.className = "suggested";
    mark.textContent = paragraph.text;
    if (quoted) {
      quoted.textContent = "";
      quoted.append(mark);
      for (const box of shown(position)) box.classList.add("suggested");
    } else {
      document.getElementById("p" + position).querySelector(".text").replaceWith(mark);
    }
    const where = shown(position);
    if (where.length) where[0].scrollIntoView({block: "center"});
    document.getElementById("candidate-number").textContent = position + 1;
    document.getElementById("candidate-rank").textContent = current + 1;
    const page = document.getElementById("candidate-page");
    if (page) page.textContent = paragraph.page;
    document.getElementById("score-words").textContent = paragraph.score_in_words;
    const why = await send("GET", "/api/why?id=" + encodeURIComponent(view.id) + "&paragraph=" + position);
    showWhy(why, mark);
  }

  function showWhy(why, mark) {
    const words = why.words.map(w => w.words);
    document.getElementById("why-words").textContent = words.join(", ");
    const list = document.getElementById("why-features");
    list.textContent = "";
    for (const f of why.features) {
      const item = document.createElement("li");
      const side = f.weight > 0 ? "for" : "against";
      item.textContent = f.feature + ": " + side + " (" + (f.weight > 0 ? "+" : "") + f.weight.toFixed(2) + ")";
      list.append(item);
    }
    markWords(mark, words);
  }

  for (const p of view.paragraphs) {
    for (const element of shown(p.position)) {
      element.addEventListener("click", () => {
        if (targets.has(p.position)) targets.delete(p.position); else targets.add(p.position);
        rejected.delete(p.position);
        showMarks();
        save(targets.size ? "targets " + [...targets].map(k => k + 1).join(", ") : "none here");
      });
    }
  }
  const click = (id, action) => { const b = document.getElementById(id); if (b) b.addEventListener("click", action); };
  const accept = () => {
    const position = view.candidates[current];
    targets.add(position);
    rejected.delete(position);
    showMarks();
    save("accepted paragraph " + (position + 1));
  };
  // Not this one: written at once; the document stays to answer until a target is picked.
  const reject = () => {
    const position = view.candidates[current];
    rejected.add(position);
    targets.delete(position);
    showMarks();
    post("/api/rejections", {id: view.id, paragraph: position}, "not paragraph " + (position + 1));
    showCandidate(current + 1);
  };
  const previous = () => showCandidate(current - 1);
  const noneHere = () => { targets.clear(); showMarks(); save("none here"); };
  click("accept", accept);
  click("reject", reject);
  click("previous", previous);
  click("none-here", noneHere);
  document.addEventListener("keydown", event => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const next = document.getElementById("next-document");
    const keys = {a: accept, n: reject, p: previous, "0": noneHere, j: () => next && next.click()};
    if (view.candidates.length === 0 && "anp".includes(event.key)) return;
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
  const mark = document.querySelector("mark.suggested");
  if (mark && view.why) showWhy(view.why, mark);
}

function trainingPage(state) {
  const start = document.getElementById("start-training");
  const choose = document.getElementById("choose");
  const percent = figure => figure && figure["hit@1"] !== null ? figure["hit@1"].toFixed(2) : "–";

  function show(state) {
    document.getElementById("training").dataset.status = state.status;
    document.getElementById("training-progress").value = state.progress;
    document.getElementById("training-step").textContent = state.step;
    document.getElementById("training-message").textContent = state.message;
    document.getElementById("new-hit").textContent = percent(state.new_figure);
    document.getElementById("new-how").textContent = state.new_figure ? state.new_figure.how : "";
    document.getElementById("old-hit").textContent = state.old_figure ? percent(state.old_figure) : "no model yet";
    document.getElementById("old-how").textContent = state.old_figure ? state.old_figure.how : "";
    choose.hidden = state.status !== "ready";
    start.disabled = state.status === "running";
  }

  async function poll() {
    const state = await send("GET", "/api/train");
    show(state);
    if (state.status === "running") setTimeout(poll, 500);
  }

  start.addEventListener("click", async () => { show(await send("POST", "/api/train")); poll(); });
  document.getElementById("use-new").addEventListener("click", async () => show(await send("POST", "/api/train/use")));
  document.getElementById("keep-old").addEventListener("click", async () => show(await send("POST", "/api/train/keep")));
  show(state);
  if (state.status === "running") poll();
}

const viewData = document.getElementById("view-data");
if (viewData) documentPage(JSON.parse(viewData.textContent));
const trainingData = document.getElementById("training-data");
if (trainingData) trainingPage(JSON.parse(trainingData.textContent));

// unclf review: the little the pages need beyond plain HTML. No framework, no build step.
"use strict";

async function send(method, url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: method,
      headers: body === undefined ? {} : {"Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error("the review server does not answer (is it still running?)");
  }
  let data = {};
  try { data = await response.json(); } catch (error) { /* not JSON: say the status */ }
  if (!response.ok) throw new Error(data.detail || response.status + " " + response.statusText);
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

  const name = position => view.paragraphs[position].name;

  // Write an answer; the marks then show what the server holds (another tab's too). A click
  // that could not be written is undone on the page, and the page says so.
  async function post(url, body, what) {
    const before = [new Set(targets), new Set(rejected)];
    status.textContent = "Saving…";
    try {
      const state = await send("POST", url, body);
      targets.clear();
      for (const k of state.targets) targets.add(k);
      rejected.clear();
      for (const k of state.rejected) rejected.add(k);
      status.textContent = "Saved: " + what + ".";
      status.className = "saved";
    } catch (error) {
      targets.clear();
      for (const k of before[0]) targets.add(k);
      rejected.clear();
      for (const k of before[1]) rejected.add(k);
      status.textContent = "Not saved, try again: " + error.message + ".";
      status.className = "error";
    }
    showMarks();
  }

  const setTarget = (position, isTarget) => {
    if (isTarget) targets.add(position); else targets.delete(position);
    rejected.delete(position);
    showMarks();
    const change = isTarget ? {add: [position]} : {remove: [position]};
    post("/api/labels", {id: view.id, ...change}, (isTarget ? "" : "not ") + "a target: " + name(position));
  };

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
    document.getElementById("candidate-number").textContent = name(position);
    document.getElementById("candidate-rank").textContent = current + 1;
    const page = document.getElementById("candidate-page");
    if (page) page.textContent = paragraph.page;
    document.getElementById("score-words").textContent = paragraph.score_in_words;
    try {
      const why = await send("GET", "/api/why?id=" + encodeURIComponent(view.id) + "&paragraph=" + position);
      showWhy(why, mark);
    } catch (error) { /* the suggestion stands without its reasons */ }
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
      element.addEventListener("click", () => setTarget(p.position, !targets.has(p.position)));
      element.addEventListener("keydown", event => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        event.stopPropagation();
        setTarget(p.position, !targets.has(p.position));
      });
    }
  }
  const click = (id, action) => { const b = document.getElementById(id); if (b) b.addEventListener("click", action); };
  const accept = () => setTarget(view.candidates[current], true);
  // Not this one: written at once; the document stays to answer until a target is picked.
  const reject = () => {
    const position = view.candidates[current];
    if (rejected.has(position)) {  // said before: on to the next candidate, if there is one
      if (current + 1 < view.candidates.length) showCandidate(current + 1);
      else status.textContent = "No more candidates: click the target, or say none here.";
      return;
    }
    rejected.add(position);
    targets.delete(position);
    showMarks();
    post("/api/rejections", {id: view.id, paragraph: position}, "not " + name(position));
    if (current + 1 < view.candidates.length) showCandidate(current + 1);
  };
  const previous = () => showCandidate(current - 1);
  const noneHere = () => {
    targets.clear();
    showMarks();
    post("/api/labels", {id: view.id, targets: []}, "none here");
  };
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
  // The suggestion is what a reviewer reads first: in view on opening (in the text; on a
  // PDF's pages, its first box).
  if (view.candidates.length) {
    const where = shown(view.candidates[0]);
    if (where.length) where[0].scrollIntoView({block: "center"});
  }
}

function trainingPage(state) {
  let hasModel = state.has_model;
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
    document.getElementById("old-hit").textContent = state.old_figure
      ? percent(state.old_figure)
      : hasModel ? "measured when you retrain" : "no model yet";
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
  document.getElementById("use-new").addEventListener("click", async () => {
    show(await send("POST", "/api/train/use"));
    hasModel = true;
  });
  document.getElementById("keep-old").addEventListener("click", async () => show(await send("POST", "/api/train/keep")));
  show(state);
  if (state.status === "running") poll();
}

const viewData = document.getElementById("view-data");
if (viewData) documentPage(JSON.parse(viewData.textContent));
const trainingData = document.getElementById("training-data");
if (trainingData) trainingPage(JSON.parse(trainingData.textContent));

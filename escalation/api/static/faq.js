/*
 * The live FAQ: entries written in the console (drafted from an agent's reply or a knowledge
 * gap, or from scratch), edited one language at a time, published to the running bot and
 * unpublished, with their history (/api/faq/entries).
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var el = Helpdesk.el;
  var api = Helpdesk.api;
  var EDITORS = ["editor", "admin"];
  var current = null;  // the entry being edited (null: a new one)
  var variants = {};  // language -> {question, alternatives, answer}
  var shownLanguage = "en";
  var canEdit = false;

  function showError(error) { $("editor-error").textContent = error.message || String(error); }

  function loadList() {
    return api("/api/faq/entries").then(function (entries) {
      var list = $("entry-list");
      list.replaceChildren();
      $("entries-empty").hidden = entries.length > 0;
      entries.forEach(function (entry) {
        var button = el("button", { type: "button", "data-entry": entry.id });
        button.appendChild(el("strong", {}, entry.entry_id));
        button.appendChild(el("span", { class: "meta" }, entry.status + " · " + Object.keys(entry.variants).join(", ") +
          " · changed " + new Date(entry.updated_at).toLocaleString()));
        if (current && current.id === entry.id) button.setAttribute("aria-current", "true");
        button.addEventListener("click", function () { open(entry.id); });
        list.appendChild(el("li")).appendChild(button);
      });
    }).catch(showError);
  }

  function keepShown() {
    var alternatives = $("alternatives").value.split("\n").map(function (line) { return line.trim(); })
      .filter(function (line) { return line; });
    if ($("question").value.trim() || $("answer").value.trim() || alternatives.length) {
      variants[shownLanguage] = { question: $("question").value.trim(), alternatives: alternatives, answer: $("answer").value.trim() };
    }
  }

  function show(language) {
    shownLanguage = language;
    $("variant-language").value = language;
    var variant = variants[language] || { question: "", alternatives: [], answer: "" };
    $("question").value = variant.question;
    $("alternatives").value = (variant.alternatives || []).join("\n");
    $("answer").value = variant.answer;
    $("languages-written").textContent = "Written in: " + (Object.keys(variants).join(", ") || "none yet");
  }

  function render(entry) {
    current = entry;
    variants = entry ? JSON.parse(JSON.stringify(entry.variants)) : {};
    $("editor-title").textContent = entry ? entry.entry_id + " · " + entry.status : "New entry";
    $("entry-id").value = entry ? entry.entry_id : "";
    $("entry-id").disabled = !!entry;
    show(Object.keys(variants)[0] || "en");
    $("publish").disabled = !canEdit;  // a new entry is saved first, then published
    $("unpublish").disabled = !canEdit || !entry || entry.status !== "published";
    $("status-line").textContent = "";
    $("editor-error").textContent = "";
    var log = $("history");
    log.replaceChildren();
    if (entry) {
      api("/api/faq/entries/" + entry.id + "/history").then(function (revisions) {
        revisions.forEach(function (r) {
          log.appendChild(el("li", {}, new Date(r.at).toLocaleString() + " · " + r.action + " by " +
            (r.agent ? r.agent.name : "someone") + " (" + Object.keys(r.variants).join(", ") + ")"));
        });
      }).catch(showError);
    }
    document.querySelectorAll("[data-entry]").forEach(function (b) {
      b.setAttribute("aria-current", String(!!entry && Number(b.getAttribute("data-entry")) === entry.id));
    });
  }

  function open(id) {
    return api("/api/faq/entries/" + id).then(function (entry) {
      render(entry);
      window.history.replaceState(null, "", "#" + entry.id);
      $("editor-title").focus();
    }).catch(showError);
  }

  function save() {
    keepShown();
    var body = { variants: variants };
    var request = current
      ? api("/api/faq/entries/" + current.id, { method: "PUT", body: body })
      : api("/api/faq/entries", { method: "POST", body: { entry_id: $("entry-id").value.trim(), variants: variants } });
    return request.then(function (entry) {
      render(entry);
      $("status-line").textContent = "Saved.";
      loadList();
      return entry;
    });
  }

  function change(action, said) {
    return save().then(function (entry) {
      return api("/api/faq/entries/" + entry.id + "/" + action, { method: "POST" });
    }).then(function (entry) {
      render(entry);
      $("status-line").textContent = said;
      loadList();
    }).catch(showError);
  }

  $("variant-language").addEventListener("change", function () { keepShown(); show($("variant-language").value); });
  $("editor").addEventListener("submit", function (event) { event.preventDefault(); save().catch(showError); });
  $("publish").addEventListener("click", function () { change("publish", "Published: the bot answers with it within seconds."); });
  $("unpublish").addEventListener("click", function () { change("unpublish", "Unpublished: the bot no longer answers with it."); });
  $("new-entry").addEventListener("click", function () { render(null); window.history.replaceState(null, "", "#"); $("entry-id").focus(); });

  Helpdesk.whenSignedOut(function () { $("faq").hidden = true; $("signed-out").hidden = false; });
  if (!Helpdesk.token()) {
    $("signed-out").hidden = false;
    return;
  }
  api("/api/auth/me").then(function (me) {
    $("faq").hidden = false;
    canEdit = EDITORS.indexOf(me.role) >= 0;
    $("read-only").hidden = canEdit;
    $("editor").querySelectorAll("input, textarea, button").forEach(function (field) { if (!canEdit) field.disabled = true; });
    $("new-entry").disabled = !canEdit;
    loadList();
    var wanted = Number(location.hash.slice(1));
    if (wanted) open(wanted); else render(null);
  }).catch(function () {});
})();

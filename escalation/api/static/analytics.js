/*
 * The analytics page: the period's figures from /api/analytics/* as tiles, tables and
 * charts (Chart.js, served from node_modules: no CDN). Numbers are always in words or
 * tables as well; the charts repeat them.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var el = Helpdesk.el;
  var charts = {};
  var COLOURS = { contained: "#1f5fbf", escalated: "#b45309", deflection: "#0d5d2c", grey: "#4a5360" };

  function percent(value) { return value === null || value === undefined ? "–" : Math.round(value * 100) + " %"; }
  function span(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    var minutes = Math.round(seconds / 60);
    return minutes < 120 ? minutes + " min" : (minutes / 60).toFixed(1) + " h";
  }

  /* The viewer's time zone: the day buckets are their calendar days. */
  var ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localDate(iso) {
    var d = new Date(iso);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  /* The last N calendar days, today included: from local midnight N-1 days ago until now. */
  function query() {
    var params = new URLSearchParams();
    var until = new Date();
    var since = new Date(until.getFullYear(), until.getMonth(), until.getDate() - (Number($("days").value) - 1));
    params.set("since", since.toISOString());
    params.set("until", until.toISOString());
    if ($("language").value) params.set("language", $("language").value);
    if ($("channel").value) params.set("channel", $("channel").value);
    return params.toString();
  }

  function load() {
    $("analytics-error").textContent = "";
    var q = query();
    return Promise.all([
      Helpdesk.api("/api/analytics/summary?" + q),
      Helpdesk.api("/api/analytics/series?bucket=day&tz=" + encodeURIComponent(ZONE) + "&" + q),
      Helpdesk.api("/api/analytics/breakdown?by=language&" + q),
      Helpdesk.api("/api/analytics/entries?" + q),
      Helpdesk.api("/api/analytics/gaps?" + q),
    ]).then(function (results) {
      renderKpis(results[0]);
      renderCharts(results[0], results[1]);
      renderLanguages(results[2]);
      renderEntries(results[3]);
      renderGaps(results[4]);
    }).catch(function (error) {
      if (error.message !== "signed out") $("analytics-error").textContent = error.message;
    });
  }

  function renderKpis(s) {
    var kpis = $("kpis");
    kpis.replaceChildren();
    [
      ["Conversations", s.conversations],
      ["Contained (no person needed)", s.contained + " · " + percent(s.containment_rate)],
      ["Verified deflection", s.verified_deflections + " · " + percent(s.verified_deflection_rate)],
      ["FAQ answered / asked which / declined", s.answered + " / " + s.clarified + " / " + s.declined],
      ["Escalations", s.escalations],
      ["First response p50 / p90", span(s.first_response.p50_seconds) + " / " + span(s.first_response.p90_seconds)],
      ["… in business hours", span(s.first_response_business.p50_seconds) + " / " + span(s.first_response_business.p90_seconds)],
      ["Resolution p50 / p90", span(s.resolution.p50_seconds) + " / " + span(s.resolution.p90_seconds)],
      ["CSAT", s.csat_average === null ? "no ratings" : s.csat_average + " from " + s.csat_count + " ratings"],
    ].forEach(function (pair) {
      var tile = el("div", { class: "kpi" });
      tile.appendChild(el("dt", {}, pair[0]));
      tile.appendChild(el("dd", {}, pair[1]));
      kpis.appendChild(tile);
    });
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[id] = new Chart($(id), config);
  }

  function renderCharts(summary, series) {
    var days = series.map(function (point) { return localDate(point.start); });
    draw("volume-chart", {
      type: "bar",
      data: { labels: days, datasets: [
        { label: "contained", data: series.map(function (p) { return p.summary.contained; }), backgroundColor: COLOURS.contained },
        { label: "escalated", data: series.map(function (p) { return p.summary.conversations - p.summary.contained; }), backgroundColor: COLOURS.escalated },
      ] },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
    var rate = function (key) { return function (p) { return p.summary[key] === null ? null : Math.round(p.summary[key] * 100); }; };
    draw("rates-chart", {
      type: "line",
      data: { labels: days, datasets: [
        { label: "containment %", data: series.map(rate("containment_rate")), borderColor: COLOURS.contained, backgroundColor: COLOURS.contained },
        { label: "verified deflection %", data: series.map(rate("verified_deflection_rate")), borderColor: COLOURS.deflection, backgroundColor: COLOURS.deflection, borderDash: [6, 4] },
      ] },
      options: { spanGaps: true, scales: { y: { min: 0, max: 100 } } },
    });
    draw("csat-chart", {
      type: "bar",
      data: { labels: ["1", "2", "3", "4", "5"], datasets: [
        { label: "ratings", data: [1, 2, 3, 4, 5].map(function (n) { return summary.csat_distribution[n] || 0; }), backgroundColor: COLOURS.contained },
      ] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    var reasons = Object.keys(summary.escalation_reasons);
    draw("reasons-chart", {
      type: "bar",
      data: { labels: reasons.map(function (r) { return r.replace(/_/g, " "); }), datasets: [
        { label: "escalations", data: reasons.map(function (r) { return summary.escalation_reasons[r]; }), backgroundColor: COLOURS.escalated },
      ] },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function table(id, headings, rows) {
    var node = $(id);
    node.replaceChildren();
    var head = el("tr");
    headings.forEach(function (h) { head.appendChild(el("th", { scope: "col" }, h)); });
    node.appendChild(el("thead")).appendChild(head);
    var body = node.appendChild(el("tbody"));
    rows.forEach(function (cells) {
      var tr = el("tr");
      cells.forEach(function (cell, index) { tr.appendChild(el(index ? "td" : "th", index ? {} : { scope: "row" }, cell)); });
      body.appendChild(tr);
    });
    if (!rows.length) body.appendChild(el("tr")).appendChild(el("td", { colspan: String(headings.length) }, "Nothing in this period."));
  }

  function renderLanguages(rows) {
    table("languages", ["Language", "Conversations", "Contained", "Verified deflection", "CSAT"], rows.map(function (row) {
      var s = row.summary;
      return [row.value, s.conversations, percent(s.containment_rate), percent(s.verified_deflection_rate), s.csat_average === null ? "–" : s.csat_average];
    }));
  }

  function renderEntries(rows) {
    table("entries", ["FAQ entry", "Answers", "Helped", "Did not help", "Acceptance"], rows.map(function (row) {
      return [row.entry_id, row.answered, row.helped, row.not_helped, percent(row.acceptance_rate)];
    }));
  }

  function renderGaps(clusters) {
    var list = $("gaps");
    list.replaceChildren();
    $("gaps-empty").hidden = clusters.length > 0;
    clusters.slice(0, 30).forEach(function (cluster) {
      var item = el("li", { class: "gap" });
      item.appendChild(el("strong", {}, "[" + cluster.language + "] " + cluster.size + " question(s) in " + cluster.conversations + " conversation(s)"));
      item.appendChild(el("span", { class: "muted" }, " · declined " + cluster.declined + ", asked which " + cluster.clarified +
        ", did not help " + cluster.not_helped + " · closest entry: " + (cluster.closest_entry || "none")));
      var questions = el("ul");
      cluster.questions.forEach(function (q) { questions.appendChild(el("li", {}, "“" + q + "”")); });
      item.appendChild(questions);
      cluster.agent_replies.forEach(function (reply) { item.appendChild(el("p", { class: "reply" }, "Agent: " + reply)); });
      var draft = el("button", { type: "button", class: "draft-faq" }, "Draft FAQ entry from these questions");
      draft.addEventListener("click", function () {
        var body = { language: cluster.language, questions: cluster.questions, answer: cluster.agent_replies[0] || "" };
        Helpdesk.api("/api/faq/entries/from-gap", { method: "POST", body: body })
          .then(function (entry) { location.href = "/console/faq#" + entry.id; })
          .catch(function (error) { $("analytics-error").textContent = error.message; });
      });
      item.appendChild(draft);
      list.appendChild(item);
    });
  }

  ["days", "language", "channel"].forEach(function (id) { $(id).addEventListener("change", load); });
  Helpdesk.whenSignedOut(function () { $("analytics").hidden = true; $("signed-out").hidden = false; });
  if (!Helpdesk.token()) {
    $("signed-out").hidden = false;
  } else {
    $("analytics").hidden = false;
    load();
  }
})();

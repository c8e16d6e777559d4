/*
 * Agent console: a page on top of the agent API. Plain JavaScript, no build step.
 * Everything a customer (or anyone) wrote is inserted with textContent: it shows as text,
 * never runs as markup. The queue is live through server-sent events (/api/events).
 */
(function () {
  "use strict";

  var ACTIVE = ["waiting_for_agent", "open", "pending_customer"];
  var LABELS = {
    waiting_for_agent: "Waiting for agent", open: "Open", pending_customer: "Pending customer",
    resolved: "Resolved", closed: "Closed",
  };
  var AUTHORS = { customer: "Customer", bot: "Bot", agent: "Agent", note: "Internal note", system: "Ticket" };

  var $ = function (id) { return document.getElementById(id); };
  var el = Helpdesk.el;
  var api = Helpdesk.api;
  var token = Helpdesk.token();
  var me = null;
  var currentTicket = null;
  var events = null;
  var relisten = null;  // the timer that opens the stream again
  var clock = null;  // the timer that refreshes the queue's service-level clocks

  /* Service level: said in words (colour only repeats it) */
  var SLA_TARGETS = { first_response: "First response", resolution: "Resolution" };

  function span(minutes) {
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    return hours < 48 ? hours + " h " + (minutes % 60) + " min" : Math.floor(hours / 24) + " days";
  }

  function slaText(sla) {
    var minutes = (new Date(sla.due_at) - Date.now()) / 60000;  // whole minutes, never rounded up
    var what = SLA_TARGETS[sla.target];
    if (sla.state === "paused") return what + " clock paused: waiting on the customer";
    if (sla.state === "breached" || minutes < 0) return what + " overdue by " + span(Math.ceil(-minutes));
    return what + " due in " + span(Math.floor(minutes)) + (sla.state === "warning" ? " — soon" : "");
  }

  function slaBadge(sla) {
    return el("span", { class: "sla sla-" + sla.state, title: "due " + when(sla.due_at) }, slaText(sla));
  }

  function when(iso) {
    var date = new Date(iso);
    return isNaN(date) ? "" : date.toLocaleString();
  }

  /* Sign-in */

  function signedOut() {
    token = null;
    Helpdesk.forgetToken();
    if (events) events.close();
    clearTimeout(relisten);
    clearInterval(clock);
    $("work-view").hidden = true;
    $("ticket").hidden = true;
    $("details").hidden = true;
    currentTicket = null;
    $("sign-in-view").hidden = false;
    $("whoami").hidden = true;
    $("sign-out").hidden = true;
    $("availability").hidden = true;
    $("email").focus();
  }

  function signedIn(agent) {
    me = agent;
    $("sign-in-view").hidden = true;
    $("work-view").hidden = false;
    $("whoami").hidden = false;
    $("whoami").textContent = agent.name + " · " + agent.email;
    $("sign-out").hidden = false;
    showAvailability(agent.available);
    loadQueue();
    listen();
    // Service levels move with the clock, not only with events: a minute's refresh.
    clearInterval(clock);
    clock = setInterval(function () { if (token) loadQueue(); }, 60000);
  }

  $("sign-in-form").addEventListener("submit", function (event) {
    event.preventDefault();
    $("sign-in-error").textContent = "";
    api("/api/auth/token", { method: "POST", body: { email: $("email").value, password: $("password").value } })
      .then(function (data) {
        token = data.access_token;
        Helpdesk.keepToken(token);
        $("password").value = "";
        signedIn(data.agent);
      })
      .catch(function () { $("sign-in-error").textContent = "Wrong email or password."; });
  });

  $("sign-out").addEventListener("click", function () {
    api("/api/auth/logout", { method: "POST" }).finally(signedOut);
  });

  /* Online / away: away, no new ticket is routed to me */

  function showAvailability(available) {
    var button = $("availability");
    button.hidden = false;
    button.setAttribute("aria-pressed", String(available));
    button.textContent = available ? "Online" : "Away";
    button.title = available ? "New tickets may be routed to you; press to go away"
                             : "No new tickets are routed to you; press to come online";
  }

  $("availability").addEventListener("click", function () {
    var available = $("availability").getAttribute("aria-pressed") !== "true";
    api("/api/auth/me/availability", { method: "PUT", body: { available: available } })
      .then(function (agent) { me = agent; showAvailability(agent.available); })
      .catch(showError);
  });

  /* Queue */

  function filters() {
    var params = new URLSearchParams();
    var status = $("filter-status").value;
    (status ? [status] : ACTIVE).forEach(function (s) { params.append("status", s); });
    if ($("filter-language").value) params.set("language", $("filter-language").value);
    if ($("filter-priority").value) params.set("priority", $("filter-priority").value);
    if ($("filter-channel").value) params.set("channel", $("filter-channel").value);
    return params.toString();
  }

  function loadQueue() {
    return api("/api/tickets?" + filters()).then(renderQueue).catch(showError);
  }

  function renderQueue(tickets) {
    var list = $("queue");
    list.replaceChildren();
    $("queue-empty").hidden = tickets.length > 0;
    tickets.forEach(function (ticket) {
      var item = el("li");
      var button = el("button", { type: "button", "data-ticket": ticket.id });
      button.appendChild(el("strong", {}, "#" + ticket.id + " · " + LABELS[ticket.status]));
      var meta = el("span", { class: "meta" });
      meta.appendChild(el("span", { class: "prio-" + ticket.priority }, ticket.priority));
      meta.appendChild(document.createTextNode(
        " · " + ticket.language + " · " + ticket.channel + " · " + ticket.reason + " · " + when(ticket.escalated_at)
      ));
      button.appendChild(meta);
      if (ticket.sla) button.appendChild(slaBadge(ticket.sla));
      if (ticket.preview) button.appendChild(el("span", { class: "preview" }, ticket.preview));
      if (currentTicket === ticket.id) button.setAttribute("aria-current", "true");
      button.addEventListener("click", function () { openTicket(ticket.id); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  ["filter-status", "filter-language", "filter-priority", "filter-channel"].forEach(function (id) {
    $(id).addEventListener("change", loadQueue);
  });

  /* Live updates: the server says when anything in the queue changed. */

  /* The stream opens with a one-use pass, not the token (URLs end up in logs); a stream
     the browser cannot resume with the spent pass is opened again with a new one. */
  function listen() {
    if (events) events.close();
    clearTimeout(relisten);
    if (!token) return;
    api("/api/events/ticket", { method: "POST" }).then(function (pass) {
      events = new EventSource("/api/events?ticket=" + encodeURIComponent(pass.ticket));
      events.addEventListener("changed", function () {
        loadQueue();
        if (currentTicket) openTicket(currentTicket, true);
      });
      events.addEventListener("open", function () { $("live").textContent = "live"; $("live").className = "live"; });
      events.addEventListener("error", function () {
        $("live").textContent = "offline";
        $("live").className = "live off";
        events.close();
        relisten = setTimeout(listen, 3000);
      });
    }).catch(function () {
      $("live").textContent = "offline";
      $("live").className = "live off";
      relisten = setTimeout(listen, 5000);
    });
  }

  /* Ticket */

  /* Canned replies, in the ticket's language, put in the reply box to edit before sending */
  var canned = [];

  function loadCanned(id) {
    api("/api/tickets/" + id + "/canned-replies").then(function (replies) {
      canned = replies;
      var select = $("canned");
      select.replaceChildren(el("option", { value: "" }, "Choose one to edit before sending…"));
      replies.forEach(function (reply, index) { select.appendChild(el("option", { value: String(index) }, reply.title)); });
    }).catch(showError);
  }

  $("canned").addEventListener("change", function () {
    var reply = canned[Number($("canned").value)];
    if ($("canned").value === "" || !reply) return;
    $("reply-text").value = reply.text;
    $("canned").value = "";
    $("reply-text").focus();
  });

  function openTicket(id, keepFocus) {
    return api("/api/tickets/" + id).then(function (ticket) {
      if (currentTicket !== ticket.id) loadCanned(ticket.id);
      currentTicket = ticket.id;
      renderTicket(ticket);
      document.querySelectorAll("[data-ticket]").forEach(function (b) {
        b.setAttribute("aria-current", String(Number(b.getAttribute("data-ticket")) === ticket.id));
      });
      if (!keepFocus) $("ticket-title").focus();
    }).catch(showError);
  }

  function renderTicket(ticket) {
    $("ticket").hidden = false;
    $("details").hidden = false;
    $("ticket-title").textContent = "Ticket #" + ticket.id + " · " + LABELS[ticket.status];
    $("ticket-title").setAttribute("tabindex", "-1");
    var facts = $("ticket-facts");
    facts.replaceChildren();
    [
      ["Language", ticket.language + " (confidence " + ticket.language_confidence.toFixed(2) + ")"],
      ["Reason", ticket.reason],
      ["Category", (ticket.category || "none") + (ticket.team ? " · team " + ticket.team : "")],
      ["Channel", ticket.channel + (ticket.contact ? " · " + ticket.contact : "")],
      ["Customer e-mail", ticket.customer_email || "none given in the chat"],
      ["Order", ticket.order_number || "none given"],
      ["Assignee", ticket.assignee ? ticket.assignee.name : "nobody"],
      ["Escalated", when(ticket.escalated_at)],
    ].forEach(function (pair) {
      facts.appendChild(el("dt", {}, pair[0]));
      facts.appendChild(el("dd", {}, pair[1]));
    });
    if (ticket.sla) {
      facts.appendChild(el("dt", {}, "Service level"));
      var level = el("dd");
      level.appendChild(slaBadge(ticket.sla));
      facts.appendChild(level);
    }

    var tried = $("tried-list");
    tried.replaceChildren();
    (ticket.tried_entries || []).forEach(function (attempt) {
      var answered = attempt.answered_title || attempt.answered_with;
      var item = el("li", {}, "“" + attempt.question + "” → " + (answered ? "answered: " + answered : "no answer"));
      var hits = el("ul", { class: "hits" });
      (attempt.hits || []).forEach(function (h) {
        // Titles and words for the agent; the raw scores on hover, for whoever tunes the FAQ.
        hits.appendChild(el("li", { title: h.entry_id + " · dense " + h.dense + " · lexical " + h.lexical },
          (h.title || h.entry_id) + (h.match ? " — " + h.match : "")));
      });
      if (hits.childNodes.length) item.appendChild(hits);
      tried.appendChild(item);
    });
    $("tried").hidden = !(ticket.tried_entries || []).length;

    var transcript = $("transcript");
    var nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    transcript.replaceChildren();
    ticket.messages.forEach(function (message) {
      var turn = el("li", { class: "turn turn-" + message.author });
      var who = el("span", { class: "who" },
        message.agent ? AUTHORS[message.author] + " · " + message.agent.name : AUTHORS[message.author]);
      who.appendChild(el("time", { datetime: message.sent_at }, when(message.sent_at)));
      turn.appendChild(who);
      turn.appendChild(document.createTextNode(message.text));
      if (message.author === "agent" && me && (me.role === "editor" || me.role === "admin")) {
        // One agent's answer becomes everyone's: a draft FAQ entry to edit and publish.
        var draft = el("button", { type: "button", class: "draft-faq" }, "Draft FAQ entry");
        draft.addEventListener("click", function () {
          api("/api/faq/entries/from-reply", { method: "POST", body: { message_id: message.id } })
            .then(function (entry) { location.href = "/console/faq#" + entry.id; })
            .catch(showError);
        });
        turn.appendChild(el("br"));
        turn.appendChild(draft);
      }
      if (message.delivery && !message.delivery.delivered_at) {
        // Said in words, not by colour alone; the channel's last answer on hover.
        turn.appendChild(el("span", { class: "undelivered", title: message.delivery.last_error || "" },
          message.delivery.attempts
            ? "Not delivered yet (tried " + message.delivery.attempts + "×, trying again)"
            : "Sending…"));
      }
      transcript.appendChild(turn);
    });
    if (nearBottom || !transcript.dataset.shown || transcript.dataset.shown !== String(ticket.id)) {
      transcript.scrollTop = transcript.scrollHeight;
    }
    transcript.dataset.shown = String(ticket.id);

    var active = ACTIVE.indexOf(ticket.status) >= 0;
    $("assign-me").disabled = !active || (ticket.assignee && ticket.assignee.id === me.id);
    $("pending").disabled = ticket.status !== "open";
    $("resolve").disabled = !active;
    $("reopen").disabled = ticket.status !== "resolved";
    $("priority").value = ticket.priority;
    $("priority").disabled = !active;
    $("email-transcript").disabled = !ticket.customer_email;
    $("email-transcript").title = ticket.customer_email
      ? "Sends the conversation to " + ticket.customer_email
      : "The customer has not written an e-mail address in the chat";
    $("reply-form").querySelector("button").disabled = !active;
    $("ticket-error").textContent = "";
  }

  /* Resolves true when the change was made; on an error it is shown and the draft kept. */
  function act(path, body) {
    return api("/api/tickets/" + currentTicket + path, { method: "POST", body: body })
      .then(function () { return Promise.all([openTicket(currentTicket, true), loadQueue()]); })
      .then(function () { return true; })
      .catch(function (error) { showError(error); return false; });
  }

  $("assign-me").addEventListener("click", function () { act("/assign", { agent_id: me.id }); });
  $("pending").addEventListener("click", function () { act("/status", { status: "pending_customer" }); });
  $("resolve").addEventListener("click", function () { act("/status", { status: "resolved" }); });
  $("reopen").addEventListener("click", function () { act("/status", { status: "open" }); });
  $("priority").addEventListener("change", function () { act("/priority", { priority: $("priority").value }); });
  $("email-transcript").addEventListener("click", function () { act("/transcript-email"); });
  /* Keyboard: j/k next/previous ticket, r reply, Ctrl+Enter send, e resolve (not while typing) */

  function step(direction) {
    var entries = Array.prototype.slice.call(document.querySelectorAll("#queue [data-ticket]"));
    if (!entries.length) return;
    var at = entries.findIndex(function (b) { return Number(b.getAttribute("data-ticket")) === currentTicket; });
    var next = at < 0 ? 0 : Math.max(0, Math.min(entries.length - 1, at + direction));
    openTicket(Number(entries[next].getAttribute("data-ticket")));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target === $("reply-text") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $("reply-form").requestSubmit();
      return;
    }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if (typing || event.altKey || event.ctrlKey || event.metaKey || $("work-view").hidden) return;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      step(event.key === "j" ? 1 : -1);
    } else if (event.key === "r" && currentTicket) {
      event.preventDefault();
      $("reply-text").focus();
    } else if (event.key === "e" && currentTicket && !$("resolve").disabled) {
      event.preventDefault();
      $("resolve").click();
    }
  });

  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("reply-text").value;
    act("/replies", { text: text }).then(function (done) { if (done) $("reply-text").value = ""; });
  });
  $("note-form").addEventListener("submit", function (event) {
    event.preventDefault();
    act("/notes", { text: $("note-text").value }).then(function (done) { if (done) $("note-text").value = ""; });
  });

  function showError(error) {
    if (error && error.message !== "signed out") $("ticket-error").textContent = error.message;
  }

  Helpdesk.whenSignedOut(signedOut);
  if (token) api("/api/auth/me").then(signedIn).catch(function () {});
  else signedOut();
})();

/*
 * Helpdesk chat widget: a chat bubble that talks to the Rasa socket.io channel.
 *
 * Embed with a config object and one script tag:
 *
 *   <script>
 *     window.helpdeskWidget = {
 *       serverUrl: "https://bot.example.com",   // the Rasa server (socket.io channel)
 *       title: "Northwind support",
 *       primaryColor: "#1f5fbf",
 *       locale: "nl",                           // default: the browser's language
 *       initialMessage: "/greet",               // sent once, when a new conversation opens
 *     };
 *   </script>
 *   <script src="https://helpdesk.example.com/widget/widget.js" defer></script>
 *
 * Plain JavaScript, no build step. Every text from the bot, an agent or the customer is
 * inserted with textContent (links are built as elements), never as HTML.
 * The conversation id (the server's, signed) and its history live in localStorage, so a reload
 * keeps both.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var BASE = script ? script.src.replace(/[^/]*$/, "") : "/widget/";
  var STORAGE_KEY = "helpdesk-widget";
  var HISTORY_LIMIT = 200;
  var TYPING_TIMEOUT_MS = 15000;

  var TEXTS = {
    en: { open: "Open chat", close: "Close chat", placeholder: "Type your message…", send: "Send",
          typing: "The assistant is typing…", unread: "unread messages", label: "Your message",
          log: "Conversation", offline: "Reconnecting…",
          team: "support team" },
    nl: { open: "Chat openen", close: "Chat sluiten", placeholder: "Typ je bericht…", send: "Versturen",
          typing: "De assistent typt…", unread: "ongelezen berichten", label: "Je bericht",
          log: "Gesprek", offline: "Opnieuw verbinden…",
          team: "klantenservice" },
    pt: { open: "Abrir chat", close: "Fechar chat", placeholder: "Escreva a sua mensagem…", send: "Enviar",
          typing: "O assistente está a escrever…", unread: "mensagens não lidas", label: "A sua mensagem",
          log: "Conversa", offline: "A religar…",
          team: "apoio ao cliente" },
    el: { open: "Άνοιγμα συνομιλίας", close: "Κλείσιμο συνομιλίας", placeholder: "Γράψτε το μήνυμά σας…",
          send: "Αποστολή", typing: "Ο βοηθός πληκτρολογεί…", unread: "μη αναγνωσμένα μηνύματα",
          label: "Το μήνυμά σας", log: "Συνομιλία", offline: "Επανασύνδεση…",
          team: "εξυπηρέτηση πελατών" },
    ru: { open: "Открыть чат", close: "Закрыть чат", placeholder: "Введите сообщение…", send: "Отправить",
          typing: "Ассистент печатает…", unread: "непрочитанных сообщений", label: "Ваше сообщение",
          log: "Разговор", offline: "Переподключение…",
          team: "служба поддержки" },
    de: { open: "Chat öffnen", close: "Chat schließen", placeholder: "Nachricht eingeben…", send: "Senden",
          typing: "Der Assistent schreibt…", unread: "ungelesene Nachrichten", label: "Ihre Nachricht",
          log: "Gespräch", offline: "Verbindung wird hergestellt…",
          team: "Kundenservice" },
    fr: { open: "Ouvrir le chat", close: "Fermer le chat", placeholder: "Écrivez votre message…",
          send: "Envoyer", typing: "L'assistant écrit…", unread: "messages non lus", label: "Votre message",
          log: "Conversation", offline: "Reconnexion…",
          team: "service client" },
    es: { open: "Abrir chat", close: "Cerrar chat", placeholder: "Escribe tu mensaje…", send: "Enviar",
          typing: "El asistente está escribiendo…", unread: "mensajes sin leer", label: "Tu mensaje",
          log: "Conversación", offline: "Reconectando…",
          team: "atención al cliente" },
  };

  var config = Object.assign(
    { serverUrl: "", title: "Support", primaryColor: "#1f5fbf", locale: "", initialMessage: "" },
    window.helpdeskWidget || {}
  );
  var locale = (config.locale || navigator.language || "en").toLowerCase();
  var language = locale.split("-")[0];
  var t = TEXTS[language] || TEXTS.en;

  function loadState() {
    try {
      var state = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      if (state && Array.isArray(state.history)) {
        if (!Array.isArray(state.pending)) state.pending = [];
        return state;
      }
    } catch (error) { /* a corrupt entry starts a new conversation */ }
    // The server gives the conversation its (signed) id on the first session_confirm.
    return { sessionId: null, history: [], open: false, unread: 0, greeted: false, pending: [] };
  }

  function saveState() {
    state.history = state.history.slice(-HISTORY_LIMIT);
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (error) { /* full */ }
  }

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Text with its URLs as links: text nodes and <a> elements, no HTML parsing. */
  function linkified(text) {
    var fragment = document.createDocumentFragment();
    var pattern = /https?:\/\/[^\s<>"')]+/g;
    var last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]);
      fragment.appendChild(link);
      last = match.index + match[0].length;
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  /* A speech bubble drawn as SVG: no emoji font needed. */
  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  var state = loadState();
  var socket = null;
  var typingTimer = null;

  var root = el("div", { class: "hdw", lang: language });
  var style = el("style");
  style.textContent = [
    ".hdw{--hdw-primary:" + config.primaryColor + ";font:15px/1.4 system-ui,sans-serif;color:#1b1f24}",
    ".hdw *{box-sizing:border-box}",
    ".hdw-launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;",
    "background:var(--hdw-primary);color:#fff;cursor:pointer;box-shadow:0 4px 14px #0004;z-index:2147483000;",
    "display:flex;align-items:center;justify-content:center}",
    ".hdw-badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
    "background:#b3261e;color:#fff;font-size:13px;line-height:22px;font-weight:600}",
    ".hdw-panel{position:fixed;right:20px;bottom:92px;width:370px;height:560px;max-height:calc(100vh - 110px);",
    "display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 8px 30px #0003;",
    "overflow:hidden;z-index:2147483000}",
    ".hdw-panel[hidden]{display:none}",
    ".hdw-header{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;",
    "background:var(--hdw-primary);color:#fff}",
    ".hdw-header h2{font-size:16px;margin:0}",
    ".hdw-close{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;min-width:44px;min-height:44px}",
    ".hdw-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}",
    ".hdw-msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".hdw-user{align-self:flex-end;background:var(--hdw-primary);color:#fff}",
    ".hdw-user a{color:#fff}",
    ".hdw-bot{align-self:flex-start;background:#fff;border:1px solid #d9dde3}",
    ".hdw-bot a{color:#0b4fa8}",
    ".hdw-agent{align-self:flex-start;background:#eef7ee;border:1px solid #9cc79c;border-left:4px solid #2e7d32}",
    ".hdw-agent a{color:#0b4fa8}",
    ".hdw-from{display:block;font-size:12px;font-weight:600;color:#1e5b22;margin-bottom:2px}",
    ".hdw-replies{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}",
    ".hdw-reply{border:1px solid var(--hdw-primary);background:#fff;color:#0b3f85;border-radius:16px;",
    "padding:6px 12px;min-height:36px;cursor:pointer;font:inherit}",
    ".hdw-reply:disabled{opacity:.6;cursor:default}",
    ".hdw-typing{align-self:flex-start;color:#4a5360;font-style:italic;font-size:13px}",
    ".hdw-status{padding:4px 12px;font-size:13px;color:#6b2b00;background:#fff4e5}",
    ".hdw-form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e6ea}",
    ".hdw-input{flex:1;padding:10px;border:1px solid #9aa3ae;border-radius:8px;font:inherit;min-height:44px}",
    ".hdw-send{padding:0 16px;border:0;border-radius:8px;background:var(--hdw-primary);color:#fff;font:inherit;min-height:44px;cursor:pointer}",
    ".hdw :focus-visible{outline:3px solid #ffb300;outline-offset:2px}",
    ".hdw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.hdw-panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}",
    ".hdw-launcher{right:14px;bottom:14px}.hdw-open .hdw-launcher{display:none}}",
  ].join("");

  var launcher = el("button", { class: "hdw-launcher", type: "button", "aria-expanded": "false",
                                "aria-controls": "hdw-panel", "aria-label": t.open });
  launcher.appendChild(chatIcon());
  var badge = el("span", { class: "hdw-badge", hidden: "" });
  launcher.appendChild(badge);

  var panel = el("section", { class: "hdw-panel", id: "hdw-panel", role: "dialog",
                              "aria-labelledby": "hdw-title", hidden: "" });
  var header = el("div", { class: "hdw-header" });
  header.appendChild(el("h2", { id: "hdw-title" }, config.title));
  var closeButton = el("button", { class: "hdw-close", type: "button", "aria-label": t.close }, "×");
  header.appendChild(closeButton);
  var status = el("div", { class: "hdw-status", role: "status", hidden: "" }, t.offline);
  var log = el("div", { class: "hdw-log", role: "log", "aria-live": "polite", "aria-label": t.log,
                        tabindex: "0" });
  var typing = el("div", { class: "hdw-typing", hidden: "" }, t.typing);
  var form = el("form", { class: "hdw-form" });
  // maxlength: core/limits.py MAX_MESSAGE_CHARS, the limit the bot and the agent API apply.
  var input = el("input", { class: "hdw-input", id: "hdw-input", type: "text", autocomplete: "off",
                            maxlength: "4000", placeholder: t.placeholder });
  var inputLabel = el("label", { for: "hdw-input", class: "hdw-sr" }, t.label);
  var sendButton = el("button", { class: "hdw-send", type: "submit" }, t.send);
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);
  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(launcher);

  function render(message) {
    if (message.from === "user") {
      log.appendChild(el("div", { class: "hdw-msg hdw-user" })).appendChild(linkified(message.text));
    } else if (message.from === "agent") {
      // A person's words look different from the bot's and carry their name.
      var bubble = log.appendChild(el("div", { class: "hdw-msg hdw-agent" }));
      bubble.appendChild(el("span", { class: "hdw-from" },
        (message.name ? message.name + " · " : "") + t.team));
      bubble.appendChild(linkified(message.text));
    } else if (message.text) {
      log.appendChild(el("div", { class: "hdw-msg hdw-bot" })).appendChild(linkified(message.text));
    }
    if (message.buttons && message.buttons.length) {
      var replies = el("div", { class: "hdw-replies", role: "group" });
      message.buttons.forEach(function (button) {
        var choice = el("button", { class: "hdw-reply", type: "button" }, button.title);
        if (message.answered) choice.disabled = true;
        choice.addEventListener("click", function () {
          message.answered = true;
          replies.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
          send(button.payload, button.title);
        });
        replies.appendChild(choice);
      });
      log.appendChild(replies);
    }
    log.appendChild(typing);  // keep the indicator last
    log.scrollTop = log.scrollHeight;
  }

  /* Buttons answer only the latest message: anything newer (the customer typing, a person
     taking over) makes every earlier button stale. */
  function retireButtons() {
    state.history.forEach(function (old) { if (old.buttons && old.buttons.length) old.answered = true; });
    log.querySelectorAll(".hdw-reply").forEach(function (b) { b.disabled = true; });
  }

  function add(message) {
    retireButtons();
    state.history.push(message);
    saveState();
    render(message);
  }

  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS);
  }

  function setUnread(count) {
    state.unread = count;
    saveState();
    badge.hidden = count === 0;
    badge.textContent = String(count);
    launcher.setAttribute("aria-label", count ? t.open + " (" + count + " " + t.unread + ")" : t.open);
  }

  function setOpen(open) {
    state.open = open;
    saveState();
    panel.hidden = !open;
    root.classList.toggle("hdw-open", open);  // on a phone the open panel covers the launcher
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      setUnread(0);
      input.focus();
      log.scrollTop = log.scrollHeight;
    } else {
      launcher.focus();
    }
  }

  function send(payload, shownAs) {
    var text = (shownAs || payload || "").trim();
    if (!text || !socket) return;
    add({ from: "user", text: text });
    emitMessage(payload);
    setTyping(true);
  }

  /* A random id for a message: the server handles a message with a known id only once. */
  function messageId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  /* Every message stays pending (in storage too) until the server acknowledges it, which it
     does once the bot has handled it; a pending message is sent again, with the same id,
     whenever the conversation is confirmed: after a reconnect (the server died while
     handling it) or a reload. Before the first confirmation it only waits. */
  function emitMessage(payload) {
    var message = { id: messageId(), payload: payload };
    state.pending.push(message);
    saveState();
    if (state.sessionId && socket.connected) deliver(message);
  }

  function deliver(message) {
    socket.emit("user_uttered", {
      message: message.payload, session_id: state.sessionId,
      metadata: { locale: locale, message_id: message.id },
    }, function () {
      state.pending = state.pending.filter(function (m) { return m.id !== message.id; });
      saveState();
    });
  }

  function receive(data) {
    setTyping(false);
    var buttons = (data.quick_replies || data.buttons || []).map(function (b) {
      return { title: String(b.title), payload: String(b.payload) };
    });
    var text = typeof data.text === "string" ? data.text : "";
    if (typeof data.agent === "string") add({ from: "agent", name: data.agent, text: text });
    else add({ from: "bot", text: text, buttons: buttons });
    if (panel.hidden) setUnread(state.unread + 1);
  }

  function connect() {
    socket = window.io(config.serverUrl, { transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      status.hidden = true;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      // The server's id for this conversation: ours if it was signed, else a new one.
      if (typeof sessionId === "string" && sessionId !== state.sessionId) {
        state.sessionId = sessionId;
        saveState();
      }
      state.pending.slice().forEach(deliver);  // unanswered when the connection was lost
      if (!state.greeted && config.initialMessage) {
        state.greeted = true;
        saveState();
        emitMessage(config.initialMessage);
        setTyping(true);
      }
    });
    socket.on("bot_uttered", receive);
    socket.on("disconnect", function () { status.hidden = false; });
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") setOpen(false); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  function start() {
    document.body.appendChild(root);
    state.history.forEach(render);
    setUnread(state.unread || 0);
    if (state.open) setOpen(true);
    if (window.io) return connect();
    var client = el("script", { src: BASE + "socket.io.min.js" });
    client.addEventListener("load", connect);
    document.head.appendChild(client);
  }

  window.helpdeskWidgetApi = { open: function () { setOpen(true); }, sessionId: state.sessionId };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

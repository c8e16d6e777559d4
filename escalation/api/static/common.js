/*
 * What the console's pages share: elements made with text only (never markup from data),
 * and calls to the agent API with the signed-in agent's token (kept for the tab's life).
 */
(function () {
  "use strict";

  var TOKEN_KEY = "helpdesk-agent-token";
  var onSignedOut = function () {};

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function api(path, options) {
    options = options || {};
    var headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    return fetch(path, {
      method: options.method || "GET",
      headers: headers,
      body: options.body ? JSON.stringify(options.body) : undefined,
    }).then(function (response) {
      if (response.status === 401 && path !== "/api/auth/token") { onSignedOut(); throw new Error("signed out"); }
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) throw new Error((data && data.detail && String(data.detail)) || response.statusText);
        return data;
      });
    });
  }

  window.Helpdesk = {
    el: el,
    api: api,
    token: token,
    keepToken: function (value) { sessionStorage.setItem(TOKEN_KEY, value); },
    forgetToken: function () { sessionStorage.removeItem(TOKEN_KEY); },
    whenSignedOut: function (callback) { onSignedOut = callback; },
  };
})();

/* The OpenAPI page, from the pinned swagger-ui-dist served by the API itself: it works
   offline, and under the console's Content-Security-Policy (no inline script). */
window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});

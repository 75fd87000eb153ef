"use strict";
// Loaded with defer on every page: the document is parsed when this runs.
(() => {
  const menu = document.getElementById("menu");
  const nav = document.getElementById("nav");
  if (menu && nav) {
    menu.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      menu.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Times are sent in UTC and shown in the visitor's own locale and time
  // zone, as a shop with customers abroad does.
  for (const t of document.querySelectorAll("time[data-local]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) {
      t.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  }

  const results = document.getElementById("results");
  if (results) {
    showResults(results);
  }

  // Results are rendered in the browser, not on the server, so that flows
  // exercise a fetch and DOM updates the way single-page shops do.
  async function showResults(list) {
    const q = list.dataset.query || "";
    list.setAttribute("aria-busy", "true");
    try {
      const resp = await fetch("/api/search?q=" + encodeURIComponent(q), {
        headers: { Accept: "application/json" },
      });
      if (!resp.ok) {
        throw new Error("search failed: HTTP " + resp.status);
      }
      const items = await resp.json();
      for (const item of items) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.className = "result";
        a.href = item.url;
        a.textContent = item.name;
        const price = document.createElement("span");
        price.className = "price";
        price.textContent = "$" + item.price;
        li.append(a, " ", price);
        list.append(li);
      }
      if (items.length === 0) {
        list.after(message("no-results", "No products match"));
      }
    } catch (err) {
      list.after(message("search-error", "Search is not available right now"));
      console.error(err);
    } finally {
      list.removeAttribute("aria-busy");
      list.dataset.state = "done";
    }
  }

  // Help topics are views of a single-page app: a click changes the URL
  // with pushState and draws the topic, without a new document, so that
  // flows exercise soft navigations (scenarios/examples/help-topics.yaml).
  const topics = document.getElementById("help-topics");
  const view = document.getElementById("help-view");
  if (topics && view) {
    topics.addEventListener("click", (e) => {
      const a = e.target.closest("a");
      if (!a) return;
      e.preventDefault();
      history.pushState({}, "", a.href);
      showTopic(view, new URL(a.href).searchParams.get("topic"));
    });
    addEventListener("popstate", () => showTopic(view, new URLSearchParams(location.search).get("topic")));
  }

  function showTopic(view, topic) {
    const h = topic && document.getElementById(topic);
    view.replaceChildren();
    if (!h || h.tagName !== "H2") return;
    const article = document.createElement("article");
    article.className = "topic";
    const title = document.createElement("h2");
    title.textContent = h.textContent;
    const text = document.createElement("p");
    text.textContent = h.nextElementSibling ? h.nextElementSibling.textContent : "";
    article.append(title, text);
    view.append(article);
  }

  function message(id, text) {
    const p = document.createElement("p");
    p.id = id;
    p.textContent = text;
    return p;
  }
})();

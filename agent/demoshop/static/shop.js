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

  function message(id, text) {
    const p = document.createElement("p");
    p.id = id;
    p.textContent = text;
    return p;
  }
})();

// mltrail's UI: what every page does in the browser, on top of server-rendered HTML.
//
// The page works without this script (links and forms); the script adds the
// actions (POSTs to the REST API), in-place child rows and paging, filter
// completion, keyboard navigation, local times and the theme switch. It never
// builds HTML from strings: text from run data goes through textContent only.
(function () {
  "use strict";

  var API = "/ajax-api/2.0/mlflow/";
  var THEMES = ["auto", "light", "dark"];
  var THEME_LABELS = { auto: "system", light: "light", dark: "dark" };

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function pageData() {
    var node = document.getElementById("page-data");
    if (!node) return {};
    try { return JSON.parse(node.textContent); } catch (error) { return {}; }
  }
  var PAGE = pageData();

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // --- messages and dialogs ------------------------------------------------------

  var toastTimer = null;
  function toast(message, isError) {
    var node = document.getElementById("toast");
    if (!node) return;
    node.textContent = message;
    node.classList.toggle("error", !!isError);
    node.classList.add("shown");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { node.classList.remove("shown"); }, isError ? 8000 : 3500);
  }

  // Ask for some values (or a confirmation) in a modal <dialog>; resolves to the
  // values, or null when cancelled.
  function ask(options) {
    return new Promise(function (resolve) {
      var dialog = element("dialog", { "aria-labelledby": "dialog-title" });
      var form = element("form", { method: "dialog" });
      form.appendChild(element("h2", { id: "dialog-title" }, options.title));
      if (options.message) form.appendChild(element("p", {}, options.message));
      var inputs = (options.fields || []).map(function (field, index) {
        var id = "dialog-field-" + index;
        form.appendChild(element("label", { "for": id }, field.label));
        var input = element("input", { id: id, name: field.name, autocomplete: "off" });
        if (field.required) input.required = true;
        input.value = field.value || "";
        form.appendChild(input);
        return input;
      });
      var buttons = element("div", { "class": "buttons" });
      var cancel = element("button", { type: "button", "class": "quiet" }, "Cancel");
      var confirm = element("button", { type: "submit", value: "ok" }, options.confirm || "OK");
      if (options.danger) confirm.classList.add("danger");
      buttons.appendChild(cancel);
      buttons.appendChild(confirm);
      form.appendChild(buttons);
      dialog.appendChild(form);
      document.body.appendChild(dialog);
      var done = false;
      function finish(value) {
        if (done) return;
        done = true;
        dialog.close();
        dialog.remove();
        resolve(value);
      }
      cancel.addEventListener("click", function () { finish(null); });
      dialog.addEventListener("cancel", function () { finish(null); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var values = {};
        inputs.forEach(function (input) { values[input.name] = input.value; });
        finish(values);
      });
      dialog.showModal();
      (inputs[0] || confirm).focus();
    });
  }

  // --- the REST API --------------------------------------------------------------

  // POST a JSON message to MLflow's REST API on this server (its policies apply).
  function api(path, body) {
    return fetch(API + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (error) { data = {}; }
        if (!response.ok) {
          throw new Error(data.message || (data.error && data.error.message) || ("HTTP " + response.status));
        }
        return data;
      });
    });
  }

  function failed(error) { toast(error.message || String(error), true); }

  function reloadSoon(message) {
    if (message) toast(message);
    setTimeout(function () { window.location.reload(); }, 350);
  }

  // --- theme ---------------------------------------------------------------------

  function currentTheme() {
    var value = document.documentElement.getAttribute("data-theme");
    return THEMES.indexOf(value) >= 0 ? value : "auto";
  }

  function announceTheme() {
    var button = document.getElementById("theme-switch");
    if (button) button.textContent = "Theme: " + THEME_LABELS[currentTheme()];
    document.dispatchEvent(new CustomEvent("mltrail:theme"));
  }

  function setUpTheme() {
    var button = document.getElementById("theme-switch");
    if (button) {
      button.addEventListener("click", function () {
        var next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
        document.documentElement.setAttribute("data-theme", next);
        try {
          if (next === "auto") localStorage.removeItem("mltrail-theme");
          else localStorage.setItem("mltrail-theme", next);
        } catch (error) { /* the choice lasts for this page only */ }
        announceTheme();
      });
    }
    if (window.matchMedia) {
      var query = window.matchMedia("(prefers-color-scheme: dark)");
      var changed = function () { if (currentTheme() === "auto") announceTheme(); };
      if (query.addEventListener) query.addEventListener("change", changed);
    }
    announceTheme();
  }

  // --- small enhancements --------------------------------------------------------

  function pad(number) { return number < 10 ? "0" + number : String(number); }

  // Show times in the reader's time zone (the server writes UTC, kept as the title).
  function localTimes(root) {
    $$("time[data-ms]", root).forEach(function (node) {
      var ms = Number(node.getAttribute("data-ms"));
      if (!isFinite(ms) || node.hasAttribute("data-local")) return;
      var date = new Date(ms);
      node.title = node.textContent;
      node.setAttribute("data-local", "true");
      node.textContent = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
        " " + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
    });
  }

  function copyText(text) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { toast("Copied"); }, function () { toast("Copy failed", true); });
    }
  }

  function setUpCopy() {
    document.addEventListener("click", function (event) {
      var code = event.target.closest("code.copy");
      if (code) { copyText(code.textContent); return; }
      var button = event.target.closest(".copy-snippet");
      if (button) {
        var pre = button.parentNode.querySelector("pre");
        if (pre) copyText(pre.textContent);
      }
    });
  }

  function setUpAutoSubmit() {
    $$("form.auto-submit select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // Filter a table's rows as one types (the server's ?q= does the same without JS).
  function setUpTableFilters() {
    $$("input[data-filters]").forEach(function (input) {
      var table = $(input.getAttribute("data-filters"));
      if (!table) return;
      input.addEventListener("input", function () {
        var needle = input.value.toLowerCase();
        $$("tbody tr", table).forEach(function (row) {
          row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0;
        });
      });
    });
  }

  // --- keyboard ------------------------------------------------------------------

  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function currentRow(table) { return $("tbody tr.current", table); }

  function moveRow(table, step) {
    var rows = $$("tbody tr", table).filter(function (row) { return !row.hidden && !row.classList.contains("group") && !row.classList.contains("empty"); });
    if (!rows.length) return;
    var current = currentRow(table);
    var index = rows.indexOf(current);
    var next = rows[Math.max(0, Math.min(rows.length - 1, index < 0 ? 0 : index + step))];
    if (current) current.classList.remove("current");
    next.classList.add("current");
    var link = $("th a:not(.expand), td a", next);
    if (link) link.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  function setUpKeyboard() {
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      var table = $("table[data-keyboard-rows]");
      if (event.key === "/") {
        var search = $("#filter") || $("#params-filter");
        if (search) { event.preventDefault(); search.focus(); search.select(); }
      } else if (event.key === "?") {
        toast("Keys: / filter · j / k move between rows · x select · Enter open · arrows in the artifact tree");
      } else if (table && (event.key === "j" || event.key === "k")) {
        event.preventDefault();
        moveRow(table, event.key === "j" ? 1 : -1);
      } else if (table && event.key === "x") {
        var row = currentRow(table) || event.target.closest("tr");
        var box = row && $("input[type=checkbox]", row);
        if (box) { box.click(); }
      }
    });
  }

  // --- experiments page ----------------------------------------------------------

  function setUpExperiments() {
    var form = document.getElementById("create-experiment");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var name = form.elements.name.value.trim();
        if (!name) return;
        api("experiments/create", { name: name }).then(function (data) {
          window.location.href = "/experiments/" + encodeURIComponent(data.experiment_id);
        }, failed);
      });
    }
    $$("[data-experiment-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var row = button.closest("tr");
        var id = row.getAttribute("data-experiment-id");
        var name = row.getAttribute("data-name");
        var action = button.getAttribute("data-experiment-action");
        if (action === "rename") {
          ask({ title: "Rename experiment", fields: [{ name: "name", label: "New name", value: name, required: true }], confirm: "Rename" }).then(function (values) {
            if (values && values.name.trim() && values.name !== name) {
              api("experiments/update", { experiment_id: id, new_name: values.name.trim() }).then(function () { reloadSoon("Renamed"); }, failed);
            }
          });
        } else if (action === "delete") {
          ask({ title: "Delete experiment", message: "Move “" + name + "” and its runs to the trash? You can restore it from the Deleted list.", confirm: "Delete", danger: true }).then(function (values) {
            if (values) api("experiments/delete", { experiment_id: id }).then(function () { reloadSoon("Deleted"); }, failed);
          });
        } else if (action === "restore") {
          api("experiments/restore", { experiment_id: id }).then(function () { reloadSoon("Restored"); }, failed);
        }
      });
    });
  }

  // --- runs table ----------------------------------------------------------------

  function fetchPage(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    }).then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }

  function selectedRunIds() {
    return $$("#runs-table tbody input[name=run_ids]:checked").map(function (box) { return box.value; });
  }

  function updateSelection() {
    var ids = selectedRunIds();
    var label = $("#selection-count");
    if (label) label.textContent = ids.length ? ids.length + " run" + (ids.length === 1 ? "" : "s") + " selected" : "No run selected";
    $$("#compare-runs, [data-runs-action]").forEach(function (button) { button.disabled = ids.length === 0; });
    $$("#runs-table tbody tr.run").forEach(function (row) {
      var box = $("input[name=run_ids]", row);
      row.classList.toggle("selected", !!(box && box.checked));
    });
  }

  function wireRows(root) {
    localTimes(root);
    $$("a.expand", root).forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        toggleChildren(link);
      });
    });
  }

  function toggleChildren(link) {
    var row = link.closest("tr");
    var id = link.getAttribute("data-run-id");
    var open = link.getAttribute("aria-expanded") === "true";
    if (open) {
      $$("#runs-table tr[data-child-of=\"" + CSS.escape(id) + "\"]").forEach(function (child) { child.remove(); });
      link.setAttribute("aria-expanded", "false");
      return;
    }
    link.setAttribute("aria-busy", "true");
    fetchPage(link.href).then(function (doc) {
      var anchor = row;
      $$("#runs-table tbody tr.run", doc).forEach(function (child) {
        child = document.importNode(child, true);
        child.classList.add("child");
        child.setAttribute("data-child-of", id);
        $$("a.expand", child).forEach(function (nested) { nested.remove(); });
        anchor.after(child);
        anchor = child;
        wireRows(child);
      });
      link.setAttribute("aria-expanded", "true");
    }, failed).then(function () { link.removeAttribute("aria-busy"); });
  }

  function setUpLoadMore() {
    var next = document.getElementById("next-page");
    if (!next || !next.getAttribute("data-more-url")) return;
    next.textContent = "Load more";
    var loading = false;
    function load() {
      if (loading || !next.isConnected) return;
      loading = true;
      next.setAttribute("aria-busy", "true");
      fetchPage(next.getAttribute("data-more-url")).then(function (doc) {
        var body = $("#runs-table tbody");
        $$("#runs-table tbody tr", doc).forEach(function (row) {
          if (row.classList.contains("empty")) return;
          row = document.importNode(row, true);
          body.appendChild(row);
          wireRows(row);
        });
        var more = doc.getElementById("next-page");
        if (more) {
          next.href = more.getAttribute("href");
          next.setAttribute("data-more-url", more.getAttribute("data-more-url"));
        } else {
          next.remove();
        }
        updateSelection();
      }, failed).then(function () { loading = false; next.removeAttribute("aria-busy"); });
    }
    next.addEventListener("click", function (event) { event.preventDefault(); load(); });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) load();
      }, { rootMargin: "400px" }).observe(next);
    }
  }

  function runAction(action, ids) {
    if (action === "tag") {
      return ask({ title: "Tag " + ids.length + " run" + (ids.length === 1 ? "" : "s"), fields: [{ name: "key", label: "Key", required: true }, { name: "value", label: "Value" }], confirm: "Set tag" }).then(function (values) {
        if (!values || !values.key.trim()) return;
        return Promise.all(ids.map(function (id) { return api("runs/set-tag", { run_id: id, key: values.key.trim(), value: values.value }); })).then(function () { reloadSoon("Tagged"); });
      });
    }
    var verb = action === "delete" ? "Delete" : "Restore";
    return ask({ title: verb + " " + ids.length + " run" + (ids.length === 1 ? "" : "s"), message: action === "delete" ? "Move them to the trash? They stay restorable from the Deleted view." : "Bring them back from the trash?", confirm: verb, danger: action === "delete" }).then(function (values) {
      if (!values) return;
      return Promise.all(ids.map(function (id) { return api("runs/" + action, { run_id: id }); })).then(function () { reloadSoon(verb === "Delete" ? "Deleted" : "Restored"); });
    });
  }

  function setUpRunsTable() {
    var table = document.getElementById("runs-table");
    if (!table) return;
    wireRows(table);
    table.addEventListener("change", function (event) {
      if (event.target.id === "select-all") {
        $$("tbody input[name=run_ids]", table).forEach(function (box) { box.checked = event.target.checked; });
      }
      updateSelection();
    });
    $$("[data-runs-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var ids = selectedRunIds();
        if (ids.length) runAction(button.getAttribute("data-runs-action"), ids).catch(failed);
      });
    });
    var count = document.getElementById("run-count");
    if (count && count.getAttribute("data-count-url")) {
      fetch(count.getAttribute("data-count-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          var noun = count.getAttribute("data-noun") || "run";
          count.textContent = data.count.toLocaleString("en-US") + " " + noun + (data.count === 1 ? "" : "s");
        })
        .catch(function () { count.textContent = ""; });
    }
    var columnsFilter = document.getElementById("columns-filter");
    if (columnsFilter) {
      columnsFilter.addEventListener("input", function () {
        var needle = columnsFilter.value.toLowerCase();
        $$("#columns-form label.check").forEach(function (label) {
          label.hidden = needle !== "" && label.textContent.toLowerCase().indexOf(needle) < 0;
        });
      });
    }
    setUpLoadMore();
    setUpCompletion();
    updateSelection();
  }

  // --- filter completion ---------------------------------------------------------

  var KEYWORDS = ["AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"];

  function completionCandidates() {
    var keys = PAGE.keys || {};
    var names = [].concat(keys.attributes || [], keys.params || [], keys.metrics || [], keys.tags || []);
    ["datasets.name", "datasets.digest", "datasets.context"].forEach(function (name) { names.push(name); });
    return names.concat(KEYWORDS);
  }

  function setUpCompletion() {
    var input = document.getElementById("filter");
    var list = document.getElementById("filter-keys");
    if (!input || !list) return;
    var candidates = completionCandidates();
    var active = -1;
    var shown = [];

    function tokenBounds() {
      var caret = input.selectionStart || 0;
      var before = input.value.slice(0, caret);
      var match = /[A-Za-z_][\w.`\-]*$/.exec(before);
      return match ? { start: caret - match[0].length, end: caret, text: match[0] } : null;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      $$("li", list).forEach(function (item, position) { item.setAttribute("aria-selected", position === index ? "true" : "false"); });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", "filter-key-" + index);
        list.children[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(index) {
      var bounds = tokenBounds();
      if (!bounds || !shown[index]) return close();
      var value = shown[index];
      input.value = input.value.slice(0, bounds.start) + value + " " + input.value.slice(bounds.end);
      var caret = bounds.start + value.length + 1;
      input.setSelectionRange(caret, caret);
      close();
    }

    function update() {
      var bounds = tokenBounds();
      if (!bounds || bounds.text.length < 1) return close();
      var needle = bounds.text.toLowerCase();
      shown = candidates.filter(function (name) {
        var lower = name.toLowerCase();
        return lower !== needle && (lower.indexOf(needle) === 0 || lower.indexOf("." + needle) >= 0);
      }).slice(0, 30);
      while (list.firstChild) list.removeChild(list.firstChild);
      if (!shown.length) return close();
      shown.forEach(function (name, index) {
        var item = element("li", { id: "filter-key-" + index, role: "option", "aria-selected": "false" }, name);
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    input.addEventListener("input", update);
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(shown.length - 1, active + 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(0, active - 1)); }
      else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    var error = PAGE.error;
    if (error && error.field === "filter" && typeof error.position === "number") {
      input.focus();
      input.setSelectionRange(error.position, Math.min(input.value.length, error.position + 1));
    }
  }

  // --- run pages -----------------------------------------------------------------

  function setUpRun() {
    var heading = $(".run-heading");
    if (!heading) return;
    var runId = heading.getAttribute("data-run-id");
    var runName = heading.getAttribute("data-run-name");
    $$("[data-run-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var action = button.getAttribute("data-run-action");
        if (action === "rename") {
          ask({ title: "Rename run", fields: [{ name: "name", label: "New name", value: runName, required: true }], confirm: "Rename" }).then(function (values) {
            if (values && values.name.trim()) api("runs/update", { run_id: runId, run_name: values.name.trim() }).then(function () { reloadSoon("Renamed"); }, failed);
          });
        } else {
          runAction(action, [runId]).catch(failed);
        }
      });
    });
    var addTag = document.getElementById("add-tag");
    if (addTag) {
      addTag.addEventListener("submit", function (event) {
        event.preventDefault();
        var key = addTag.elements.key.value.trim();
        if (!key) return;
        api("runs/set-tag", { run_id: runId, key: key, value: addTag.elements.value.value }).then(function () { reloadSoon("Tag set"); }, failed);
      });
    }
    $$("[data-tag-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var row = button.closest("tr");
        var key = row.getAttribute("data-tag-key");
        if (button.getAttribute("data-tag-action") === "delete") {
          ask({ title: "Delete tag", message: "Delete the tag “" + key + "”?", confirm: "Delete", danger: true }).then(function (values) {
            if (values) api("runs/delete-tag", { run_id: runId, key: key }).then(function () { reloadSoon("Tag deleted"); }, failed);
          });
        } else {
          var current = $("td .text", row);
          ask({ title: "Edit tag " + key, fields: [{ name: "value", label: "Value", value: current ? current.textContent : "" }], confirm: "Save" }).then(function (values) {
            if (values) api("runs/set-tag", { run_id: runId, key: key, value: values.value }).then(function () { reloadSoon("Tag saved"); }, failed);
          });
        }
      });
    });
  }

  function setUpArtifactTree() {
    var tree = document.getElementById("artifact-tree");
    if (!tree) return;
    tree.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      var links = $$("a", tree);
      var index = links.indexOf(document.activeElement);
      var next = links[Math.max(0, Math.min(links.length - 1, index + (event.key === "ArrowDown" ? 1 : -1)))];
      if (next) { event.preventDefault(); next.focus(); }
    });
    var current = $("a[aria-current=page]", tree);
    if (current && !location.hash) current.focus({ preventScroll: true });
  }

  window.mltrail = { page: PAGE, api: api, toast: toast, element: element, $: $, $$: $$ };

  function start() {
    setUpTheme();
    localTimes(document);
    setUpCopy();
    setUpAutoSubmit();
    setUpTableFilters();
    setUpKeyboard();
    setUpExperiments();
    setUpRunsTable();
    setUpRun();
    setUpArtifactTree();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

"use strict";
// The runtime every telli app shares: the host bridge (MCP Apps JSON-RPC over postMessage), DOM built from text
// only (never HTML from data), and small SVG charts. Inlined into each app when the server loads it.
const telli = (() => {
  const PROTOCOL = "2026-01-26";
  const FENCED = /^<untrusted-data(?: [^>\n]*)?>\n?([\s\S]*?)\n?<\/untrusted-data>$/;
  const root = document.documentElement;
  const handlers = new Map();
  const pending = new Map();
  let nextId = 1;
  let host = { capabilities: {}, context: {} };

  // --- bridge -------------------------------------------------------------------------------------------------
  function post(message) {
    window.parent.postMessage({ jsonrpc: "2.0", ...message }, "*");
  }

  function request(method, params) {
    const id = nextId++;
    post({ id, method, params });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }

  function on(method, handler) {
    handlers.set(method, handler);
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return; // only the host (or its sandbox proxy) speaks to an app
    const message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (waiting && message.error) waiting.reject(new Error(String(message.error.message || "request failed")));
      else if (waiting) waiting.resolve(message.result || {});
    } else if (message.id !== undefined) {
      post({ id: message.id, result: {} }); // ping and ui/resource-teardown: nothing to save
    } else if (handlers.has(message.method)) {
      handlers.get(message.method)(message.params || {});
    }
  });

  function applyContext(context) {
    Object.assign(host.context, context);
    const { theme, styles } = host.context;
    if (theme === "light" || theme === "dark") root.dataset.theme = theme;
    const variables = (styles && styles.variables) || {};
    for (const [name, value] of Object.entries(variables)) {
      if (/^--[a-z0-9-]+$/.test(name) && typeof value === "string") root.style.setProperty(name, value);
    }
  }

  async function connect(name) {
    on("ui/notifications/host-context-changed", applyContext);
    const result = await request("ui/initialize", {
      appInfo: { name, version: "1" },
      appCapabilities: {},
      protocolVersion: PROTOCOL,
    });
    host = { capabilities: result.hostCapabilities || {}, context: {} };
    applyContext(result.hostContext || {});
    post({ method: "ui/notifications/initialized", params: {} });
    new ResizeObserver(() => {
      post({ method: "ui/notifications/size-changed", params: { width: root.scrollWidth, height: root.scrollHeight } });
    }).observe(root);
    return host;
  }

  function resultText(result) {
    return (result.content || []).filter((block) => block.type === "text").map((block) => block.text).join("\n");
  }

  // A tool called through the host (which may ask the user first). An error result throws its text.
  async function callTool(name, args) {
    const result = await request("tools/call", { name, arguments: args });
    if (result.isError) throw new Error(resultText(result) || `${name} failed`);
    return result;
  }

  async function readResource(uri) {
    if (!host.capabilities.serverResources) return null;
    const result = await request("resources/read", { uri });
    const [first] = result.contents || [];
    return first && typeof first.text === "string" ? first.text : null;
  }

  function openLink(url) {
    if (/^https?:\/\//i.test(url)) request("ui/open-link", { url }).catch(() => {});
  }

  // --- text and DOM ---------------------------------------------------------------------------------------------
  // What a person said or typed, without the server's untrusted-data fence (the model needs it; a reader does not).
  function unfenced(text) {
    const match = FENCED.exec(String(text));
    return match ? match[1] : String(text);
  }

  // An element whose children are nodes or text: strings become text nodes, so markup in data stays inert.
  function h(tag, attributes, ...children) {
    return build(document.createElement(tag), attributes, children);
  }

  function s(tag, attributes, ...children) {
    return build(document.createElementNS("http://www.w3.org/2000/svg", tag), attributes, children);
  }

  function build(node, attributes, children) {
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Third-party text: its own direction, never able to reorder what is around it.
  function quoted(text, tag = "span") {
    return h(tag, { class: "third-party", dir: "auto" }, unfenced(text));
  }

  function replace(id, ...children) {
    document.getElementById(id).replaceChildren(...children.flat(Infinity));
  }

  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  function fmt(value) {
    return value === null || value === undefined ? "–" : number.format(value);
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : `${number.format(value)} %`;
  }

  function when(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  // --- charts ---------------------------------------------------------------------------------------------------
  const tone = (index) => `s${(index % 6) + 1}`;

  function legend(items) {
    return h("ul", { class: "legend" }, items.map((item, index) =>
      h("li", { "data-key": item.key }, h("span", { class: `swatch ${item.tone || tone(index)}` }), `${item.label} `,
        h("strong", { class: "num", "data-value": item.value }, fmt(item.value)))));
  }

  // One bar split into parts (e.g. contacts by state), with a legend that states every number.
  function stackedBar(items, label) {
    const total = items.reduce((sum, item) => sum + item.value, 0);
    const parts = [];
    let x = 0;
    items.forEach((item, index) => {
      const width = total ? (item.value / total) * 100 : 0;
      if (width > 0) parts.push(s("rect", { x, y: 0, width, height: 12, class: item.tone || tone(index) }, s("title", {}, `${item.label}: ${fmt(item.value)}`)));
      x += width;
    });
    const spoken = items.map((item) => `${item.label} ${fmt(item.value)}`).join(", ");
    const chart = s("svg", { viewBox: "0 0 100 12", preserveAspectRatio: "none", width: "100%", height: 18, role: "img", "aria-label": `${label}: ${spoken}` },
      s("rect", { x: 0, y: 0, width: 100, height: 12, class: "track" }), parts);
    return h("div", {}, chart, legend(items));
  }

  // A table whose rows carry a bar: readable by screen readers and keyboard as a table, at a glance as a chart.
  // The caption is for screen readers unless `shown` (several tables under one heading).
  function barTable(rows, caption, heading, shown = false) {
    const max = Math.max(1, ...rows.map((row) => row.value));
    return h("table", {},
      h("caption", { class: shown ? null : "sr-only" }, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, heading), h("th", { scope: "col", class: "num" }, "Count"), h("th", { scope: "col", class: "bar-cell" }, h("span", { class: "sr-only" }, "Bar")))),
      h("tbody", {}, rows.map((row, index) => h("tr", { "data-key": row.key },
        h("th", { scope: "row" }, row.quoted ? quoted(row.label) : row.label),
        h("td", { class: "num", "data-value": row.value }, fmt(row.value)),
        h("td", { class: "bar-cell", "aria-hidden": "true" },
          s("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", width: "100%", height: 10 },
            s("rect", { x: 0, y: 0, width: (row.value / max) * 100, height: 10, class: row.tone || tone(index) })))))));
  }

  // Counts by time step (epoch ms -> count) as points from the first step to the last, empty steps included; the
  // last `limit` steps at most. Each point keeps its time as `key`.
  function series(counts, step, label, limit) {
    const times = [...counts.keys()].sort((a, b) => a - b);
    const points = [];
    for (let time = Math.max(times[0], times[times.length - 1] - (limit - 1) * step); time <= times[times.length - 1]; time += step) {
      points.push({ key: time, label: label(time), value: counts.get(time) || 0 });
    }
    return points;
  }

  // Columns over time (calls per hour or per day), the tallest one's value above them; the same numbers follow as
  // a table for screen readers.
  function columns(points, label) {
    const max = Math.max(1, ...points.map((point) => point.value));
    const width = 100 / Math.max(points.length, 1);
    const bars = points.map((point, index) => s("rect", {
      x: index * width + width * 0.1, y: 60 - (point.value / max) * 60, width: width * 0.8, height: (point.value / max) * 60, class: "s1",
      "data-key": point.key, "data-value": point.value,
    }, s("title", {}, `${point.label}: ${fmt(point.value)}`)));
    const scale = h("div", { class: "meta", "aria-hidden": "true" }, fmt(max));
    const chart = s("svg", { viewBox: "0 0 100 60", width: "100%", height: 110, preserveAspectRatio: "none", "aria-hidden": "true" },
      s("line", { x1: 0, x2: 100, y1: 60, y2: 60, class: "axis" }), bars);
    const ends = points.length ? [points[0].label, points[points.length - 1].label] : [];
    const axis = h("div", { class: "row meta", "aria-hidden": "true" }, h("span", { class: "grow" }, ends[0]), h("span", {}, ends[1]));
    const table = h("table", { class: "sr-only" }, h("caption", {}, label),
      h("tbody", {}, points.map((point) => h("tr", {}, h("th", { scope: "row" }, point.label), h("td", {}, fmt(point.value))))));
    return h("div", { role: "group", "aria-label": label }, scale, chart, axis, table);
  }

  return { series, connect, on, callTool, readResource, openLink, resultText, unfenced, h, quoted, replace, fmt, percent, when, legend, stackedBar, barTable, columns };
})();

/// The stylesheet and script every report carries inline.
///
/// A report is one file that must look right when opened years later from an archive, on a
/// machine without network access: no web fonts, no CDN, no framework. The system font stack
/// gives each platform its native UI font; the script is small, dependency-free ES5-style code
/// that only adds conveniences (sortable tables, image previews on hover), so the report stays
/// fully readable with scripting disabled. Both are wrapped in commented CDATA sections, which
/// browsers ignore and XML parsers honour, so the whole document is also well-formed XML.
enum ReportAssets {
    static let css = """
    :root { --fg: #1d2330; --muted: #5b6474; --line: #e3e6eb; --bg: #f6f7f9; --card: #fff; --accent: #3b6fb6; --hl: #d1495b; }
    * { box-sizing: border-box; }
    html { -webkit-text-size-adjust: 100%; }
    body { margin: 0; background: var(--bg); color: var(--fg);
      font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
    main.report { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
    header.report-header { border-bottom: 1px solid var(--line); margin-bottom: 20px; padding-bottom: 12px; }
    h1 { font-size: 26px; line-height: 1.25; margin: 0 0 4px; font-weight: 650; letter-spacing: -0.01em; }
    .subtitle { color: var(--muted); margin: 0; font-size: 15px; }
    h2 { font-size: 19px; margin: 36px 0 10px; padding-top: 4px; font-weight: 620; }
    p { margin: 8px 0 12px; max-width: 78ch; }
    p.intro { color: var(--muted); }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    nav.toc { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 18px; margin: 16px 0 8px; font-size: 14px; }
    nav.toc ol { margin: 0; padding-left: 20px; columns: 2; column-gap: 32px; }
    nav.toc strong { display: block; font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin-bottom: 2px; }
    figure { margin: 16px 0 20px; }
    figure.plot, figure.images { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px 10px; }
    figure.plot { overflow-x: auto; }
    figure.plot svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
    figcaption { color: var(--muted); font-size: 13.5px; margin-top: 8px; }
    figure.plot > figcaption, figure.images > figcaption { border-top: 1px solid var(--line); padding-top: 8px; }
    .image-grid { display: grid; gap: 12px; }
    figure.thumb { margin: 0; text-align: center; padding: 4px; border: 2px solid transparent; border-radius: 6px; min-width: 0; }
    figure.thumb.highlighted { border-color: var(--hl); background: #fdf1f3; }
    figure.thumb img { display: block; width: 100%; height: auto; border-radius: 3px; background: #eee; }
    figure.thumb figcaption { margin-top: 4px; font-size: 12.5px; color: var(--fg); overflow-wrap: anywhere; }
    figure.thumb.highlighted figcaption { color: var(--hl); font-weight: 600; }
    img.pixelated, .hover-panel img.pixelated { image-rendering: pixelated; }
    .missing { aspect-ratio: 1; display: flex; align-items: center; justify-content: center; background: #eee; color: var(--muted); font-size: 12px; }
    .table-wrap { width: fit-content; min-width: min(100%, 480px); max-width: 100%; max-height: 560px; overflow: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin: 12px 0 20px; }
    table { border-collapse: collapse; width: 100%; font-size: 14px; }
    table.data caption { caption-side: top; text-align: left; padding: 10px 12px 6px; color: var(--muted); font-size: 13.5px; }
    table.data th, table.data td { padding: 6px 16px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
    table.data thead th { position: sticky; top: 0; background: #fafbfc; font-weight: 600; white-space: nowrap; cursor: pointer; user-select: none; box-shadow: inset 0 -1px 0 var(--line); }
    table.data thead th:hover { background: #f0f3f7; }
    table.data thead th::after { content: "\\2195"; color: #b7bdc7; font-size: 11px; margin-left: 4px; }
    table.data thead th[aria-sort="ascending"]::after { content: "\\25B2"; color: var(--accent); }
    table.data thead th[aria-sort="descending"]::after { content: "\\25BC"; color: var(--accent); }
    table.data tbody tr:nth-child(even) { background: #fafbfc; }
    table.data tbody tr:hover { background: #eef3fa; }
    table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
    table.kv { width: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; border-collapse: separate; border-spacing: 0; margin: 12px 0 20px; }
    table.kv th, table.kv td { padding: 5px 14px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
    table.kv tr:last-child th, table.kv tr:last-child td { border-bottom: none; }
    table.kv th { font-weight: 500; color: var(--muted); white-space: nowrap; }
    table.kv td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; overflow-wrap: anywhere; }
    svg .pt { cursor: default; }
    svg .pt:hover { stroke: #111; stroke-width: 2; }
    .hover-panel { position: fixed; z-index: 10; pointer-events: none; background: #fff; border: 1px solid #cfd4db; border-radius: 8px;
      box-shadow: 0 6px 20px rgba(20, 30, 50, 0.18); padding: 8px; font-size: 13px; max-width: 220px; }
    .hover-panel img { display: block; width: 160px; height: auto; border-radius: 4px; background: #eee; }
    .hover-panel .hp-id { font-weight: 600; margin-top: 6px; }
    .hover-panel .hp-group { color: var(--muted); }
    footer { margin-top: 48px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--line); padding-top: 10px; }
    @media (max-width: 720px) { main.report { padding: 16px; } nav.toc ol { columns: 1; } }
    @media print { body { background: #fff; } .table-wrap { max-height: none; overflow: visible; } nav.toc { display: none; } }
    """

    static let script = """
    (function () {
      "use strict";
      // Sortable tables: click a header to sort by that column, again to reverse.
      function key(cell, numeric) {
        var text = cell ? cell.textContent.trim() : "";
        if (!numeric) return text;
        var v = parseFloat(text.replace("\\u2212", "-").replace("\\u221E", "Infinity"));
        return isNaN(v) ? null : v;
      }
      Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
        var heads = table.tHead ? table.tHead.rows[0].cells : [];
        Array.prototype.forEach.call(heads, function (th, col) {
          th.addEventListener("click", function () {
            var numeric = th.classList.contains("num");
            var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
            Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
            th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
            var body = table.tBodies[0];
            var rows = Array.prototype.map.call(body.rows, function (row, i) {
              return { row: row, i: i, k: key(row.cells[col], numeric) };
            });
            rows.sort(function (a, b) {
              if (a.k === null || b.k === null) {
                if (a.k === b.k) return a.i - b.i;
                return a.k === null ? 1 : -1;  // missing values last in both directions
              }
              var c = numeric ? a.k - b.k : a.k.localeCompare(b.k, undefined, { numeric: true });
              return c !== 0 ? dir * c : a.i - b.i;
            });
            rows.forEach(function (r) { body.appendChild(r.row); });
          });
        });
      });

      // Scatter points with a preview image: show it, the id and the group next to the pointer.
      var panel = document.createElement("div");
      panel.className = "hover-panel";
      panel.style.display = "none";
      var img = document.createElement("img");
      var idLine = document.createElement("div");
      idLine.className = "hp-id";
      var groupLine = document.createElement("div");
      groupLine.className = "hp-group";
      panel.appendChild(img); panel.appendChild(idLine); panel.appendChild(groupLine);
      document.body.appendChild(panel);
      function place(e) {
        var w = panel.offsetWidth, h = panel.offsetHeight;
        var x = e.clientX + 16, y = e.clientY + 16;
        if (x + w > window.innerWidth - 8) x = e.clientX - w - 16;
        if (y + h > window.innerHeight - 8) y = e.clientY - h - 16;
        panel.style.left = Math.max(4, x) + "px";
        panel.style.top = Math.max(4, y) + "px";
      }
      document.addEventListener("mouseover", function (e) {
        var t = e.target && e.target.closest ? e.target.closest("[data-hover]") : null;
        if (!t) { panel.style.display = "none"; return; }
        var source = document.getElementById(t.getAttribute("data-hover"));
        if (!source) return;
        img.src = source.getAttribute("href");
        img.className = source.getAttribute("data-small") ? "pixelated" : "";
        idLine.textContent = t.getAttribute("data-label") || "";
        groupLine.textContent = t.getAttribute("data-group") || "";
        panel.style.display = "block";
        place(e);
      });
      document.addEventListener("mousemove", function (e) {
        if (panel.style.display !== "none") place(e);
      });
    })();
    """
}

import { raw } from "hono/html";
import type { Child } from "hono/jsx";

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
header a{color:#fff}
main{padding:16px 20px}
.banner{padding:10px 14px;border-radius:6px;margin-bottom:12px;font-weight:600;color:#fff}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:20px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#eaeef2;font-weight:600}
tr.stream td:first-child{border-left:6px solid var(--state)}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.muted{color:#656d76}
.why{color:#82071e;font-weight:500;max-width:60em;word-break:break-word}
.missing{color:#9a6700;font-size:12px}
details#not-configured{margin-bottom:20px}
details#not-configured summary{cursor:pointer;color:#656d76;margin-bottom:6px}
svg.spark text{font-family:system-ui,sans-serif}
.err{white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace;font-size:12px;color:#82071e;max-width:60em}
form.login{background:#fff;padding:20px;max-width:360px;border-radius:6px}
form.login input{width:100%;padding:6px;margin:6px 0 12px}
`;

export function Layout(props: { title: string; children: Child; refresh?: boolean; loggedIn?: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.refresh ? <meta http-equiv="refresh" content="60" /> : null}
        <title>{props.title}</title>
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <header>
          <strong>Loading Dock</strong>
          <a href="/">status</a>
          {props.loggedIn ? (
            <form method="post" action="/logout" style="margin-left:auto">
              <button type="submit">log out</button>
            </form>
          ) : null}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

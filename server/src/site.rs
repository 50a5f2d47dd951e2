//! The built-in default site served when no `--root` is given, so that
//! `h1serve` with no arguments shows something at once.

/// `/` and `/index.html`.
pub(crate) const INDEX: &[u8] = br#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>h1serve</title></head>
<body>
<h1>h1serve is running</h1>
<p>This is the built-in page. Serve your own files with <code>h1serve --root DIR</code>;
see <code>h1serve --help</code> for every flag.</p>
<p>Counters: <a href="/stats">/stats</a> (JSON), <a href="/metrics">/metrics</a> (Prometheus).</p>
</body>
</html>
"#;

"""The web report: the call list and one page per call, server-rendered (Jinja2, no script, no CDN)."""

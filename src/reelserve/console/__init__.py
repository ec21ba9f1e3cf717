"""The operator's console at `/console`: tasks, their media and callbacks, keys, engines.

`auth.py` (admin token, session cookie, CSRF), `queries.py` (the store reads it
needs), `pages.py` (what each page shows), `routes.py` (the endpoints),
`templates/` (Jinja2, autoescaped) and `static/` (CSS and a little JavaScript;
no CDN, works offline).
"""

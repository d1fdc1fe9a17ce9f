"""The yardstick: a trivial Flask + SQLite page listing 20 rows, served like the portal.

    gunicorn -c gunicorn.conf.py bench.trivial:app    (TRIVIAL_DB names the SQLite file)
"""
from __future__ import annotations

import os
import sqlite3
import tempfile

from flask import Flask, render_template_string

PAGE = """<!doctype html><title>Rows</title><table>
{% for id, name in rows %}<tr><td>{{ id }}</td><td>{{ name }}</td></tr>{% endfor %}</table>"""
path = os.environ.get("TRIVIAL_DB") or os.path.join(tempfile.gettempdir(), f"mais-trivial-{os.getppid()}.db")
with sqlite3.connect(path) as setup:
    setup.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, name TEXT)")
    if not setup.execute("SELECT count(*) FROM rows").fetchone()[0]:
        setup.executemany("INSERT INTO rows (name) VALUES (?)", [(f"row {i}",) for i in range(100)])

app = Flask(__name__)


@app.get("/")
def rows():
    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT id, name FROM rows ORDER BY id LIMIT 20").fetchall()
    return render_template_string(PAGE, rows=found)

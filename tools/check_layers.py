#!/usr/bin/python3
"""check_layers.py — the include arrows of src/ point down the layers, never up.

src/<layer>/<module>.{c,h}; the layers, lowest first (docs/architecture.md draws them):

  core     errors, TLS: needs nothing of Kanyan
  store    SQLite: the only place with SQL
  media    GStreamer building blocks: peers, relay, recorder, stills
  review   the case domain: cases, workflow, users, audit
  archive  finished recordings, exports, reports, integrity
  live     live inspections (rooms): media + review + archive
  web      HTTP, REST, WebSocket signaling, WHIP
  app      main and the composition root that wires the rest

A file may include headers of its own layer and of lower ones. The one exception is
"app/app.h", the application context every module is handed. Known arrows that still point
up are listed in tools/layers-pending.txt ("from -> to" per line) until they are removed; a
new one fails.

SQL lives in src/store only: a file of another layer that calls sqlite3_prepare*, sqlite3_exec
or db_exec, or holds a string literal that begins an SQL statement (SELECT, INSERT INTO,
UPDATE … SET, DELETE FROM, PRAGMA, BEGIN, COMMIT, ROLLBACK, CREATE/DROP/ALTER …), fails
(an iCalendar line "BEGIN:VEVENT" is no statement).

Prints each violation; exits 1 when there is one (or a stale pending line)."""
import os
import re
import sys

LAYERS = ["core", "store", "media", "review", "archive", "live", "web", "app"]
CONTEXT = "app/app.h"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def arrows():
    """(from 'layer/file', to 'layer/header') for every quoted include in src/."""
    src = os.path.join(ROOT, "src")
    for layer in sorted(os.listdir(src)):
        for name in sorted(os.listdir(os.path.join(src, layer))):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(src, layer, name)) as f:
                for target in re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M):
                    yield f"{layer}/{name}", target


SQL_CALL = re.compile(r"\b(sqlite3_prepare\w*|sqlite3_exec|db_exec)\s*\(")
SQL_TEXT = re.compile(r"^\s*\(?\s*(SELECT\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|"
                      r"REPLACE\s+INTO\b|PRAGMA\b|BEGIN\b(?!:)|COMMIT\b|ROLLBACK\b|SAVEPOINT\b|"
                      r"(CREATE|DROP|ALTER)\s+(TABLE|INDEX|TRIGGER|VIEW)\b)")


def split_code(text):
    """(code without comments or literals, [(line, literal text)]): a small C lexer, so that a
    comment may name what it likes and "//" inside a string is no comment."""
    code, literals, i, line, n = [], [], 0, 1, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            code.append("\n" * text.count("\n", i, end))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if c == '"':
                literals.append((line, text[i + 1:j]))
            code.append(c + c)
            i = j + 1
        else:
            if c == "\n":
                line += 1
            code.append(c)
            i += 1
    return "".join(code), literals


def sql_outside_store():
    """'layer/file:line: …' for every SQL call or statement text outside src/store."""
    src = os.path.join(ROOT, "src")
    for layer in sorted(os.listdir(src)):
        if layer == "store":
            continue
        for name in sorted(os.listdir(os.path.join(src, layer))):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(src, layer, name)) as f:
                text = f.read()
            code, literals = split_code(text)
            for m in SQL_CALL.finditer(code):
                yield f"{layer}/{name}:{code.count(chr(10), 0, m.start()) + 1}: {m.group(1)} outside src/store"
            for line, literal in literals:
                if SQL_TEXT.match(literal):
                    yield f"{layer}/{name}:{line}: SQL outside src/store: \"{literal[:40]}\""


def problems():
    pending_path = os.path.join(ROOT, "tools", "layers-pending.txt")
    pending = set()
    if os.path.exists(pending_path):
        with open(pending_path) as f:
            pending = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    found, seen = [], set()
    for frm, to in arrows():
        layer = frm.split("/")[0]
        if layer not in LAYERS:
            found.append(f"{frm}: folder src/{layer} is not a layer (tools/check_layers.py)")
            continue
        if "/" not in to:
            found.append(f"{frm}: include \"{to}\" does not name its layer")
            continue
        target = to.split("/")[0]
        if target not in LAYERS:
            found.append(f"{frm}: include \"{to}\" is in no layer")
        elif to != CONTEXT and LAYERS.index(target) > LAYERS.index(layer):
            arrow = f"{frm} -> {to}"
            seen.add(arrow)
            if arrow not in pending:
                found.append(f"{arrow}: {layer} may not include {target} (a higher layer)")
    for arrow in sorted(pending - seen):
        found.append(f"{arrow}: listed in tools/layers-pending.txt but gone; remove the line")
    found += sql_outside_store()
    return found


if __name__ == "__main__":
    found = problems()
    for p in found:
        print(p)
    sys.exit(1 if found else 0)

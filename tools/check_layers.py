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
new one fails. Prints each violation; exits 1 when there is one (or a stale pending line)."""
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
    return found


if __name__ == "__main__":
    found = problems()
    for p in found:
        print(p)
    sys.exit(1 if found else 0)

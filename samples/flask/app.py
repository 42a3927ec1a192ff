"""A small Flask app: a page, a form POST, a JSON API and 404s.

Served by samples/wsgi.toml (site flask.localhost) as `wsgi = "app:app"`:
the module is found in this directory and re-imported when it changes."""

import os

from flask import Flask, abort, jsonify, render_template, request

app = Flask(__name__)

ITEMS = {1: "apple", 2: "banana", 3: "cherry"}


@app.get("/")
def index():
    return render_template("index.html", items=ITEMS, interpreter=request.environ.get("subhttpd.interpreter"))


@app.route("/form", methods=["GET", "POST"])
def form():
    name = None
    if request.method == "POST":
        name = request.form.get("name", "").strip() or "stranger"
    return render_template("form.html", name=name)


@app.get("/api/items")
def api_items():
    return jsonify(items=[{"id": k, "name": v} for k, v in sorted(ITEMS.items())])


@app.get("/api/items/<int:item_id>")
def api_item(item_id):
    if item_id not in ITEMS:
        abort(404)
    return jsonify(id=item_id, name=ITEMS[item_id])


@app.post("/api/echo")
def api_echo():
    data = request.get_json(force=True, silent=True)
    if data is None:
        return jsonify(error="expected a JSON body"), 400
    return jsonify(received=data, pid=os.getpid(), interpreter=request.environ.get("subhttpd.interpreter"))


@app.errorhandler(404)
def not_found(err):
    if request.path.startswith("/api/"):
        return jsonify(error="not found", path=request.path), 404
    return render_template("404.html", path=request.path), 404

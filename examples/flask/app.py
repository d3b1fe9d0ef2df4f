"""A minimal Flask application for IIS."""
import hashlib
import os

from flask import Flask, Response, jsonify, render_template, request

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY", "change-me")
# instance/ is a data folder ([iis] data-folders): made at install, writable
# by the app pool, kept by redeploys.
VISITS = os.path.join(app.instance_path, "visits.txt")


@app.cli.command("init-visits")
def init_visits():
    """Starts the visit counter at 0: the install step runs it once, on the
    first install (`when = "first-install"`), as flaskr runs `init-db`."""
    os.makedirs(app.instance_path, exist_ok=True)
    with open(VISITS, "w") as f:
        f.write("0")
    print("visit counter started in", VISITS)


@app.route("/")
def index():
    return render_template("index.html", title="Flask on IIS")


@app.route("/visits")
def visits():
    """Counts visits in the data folder; the count survives redeploys."""
    with open(VISITS) as f:
        count = int(f.read() or 0) + 1
    with open(VISITS, "w") as f:
        f.write(str(count))
    return jsonify(visits=count)


@app.route("/health")
def health():
    return jsonify(status="ok")


@app.post("/greet")
def greet():
    return jsonify(greeting="Hello, %s!" % request.form.get("name", "world"))


@app.post("/upload")
def upload():
    """The SHA-256 of the request body, read in pieces: uploads of any size
    stream through the gateway without being held in memory."""
    digest = hashlib.sha256()
    size = 0
    while True:
        piece = request.stream.read(1 << 16)
        if not piece:
            break
        size += len(piece)
        digest.update(piece)
    return jsonify(sha256=digest.hexdigest(), bytes=size)


@app.route("/countdown")
def countdown():
    """A streamed response: each line is sent as it is produced."""
    return Response((f"{n}\n" for n in range(5, 0, -1)), mimetype="text/plain")


if __name__ == "__main__":
    app.run()

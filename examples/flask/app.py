"""A minimal Flask application for IIS."""
import hashlib
import os

from flask import Flask, Response, jsonify, render_template, request

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY", "change-me")


@app.route("/")
def index():
    return render_template("index.html", title="Flask on IIS")


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

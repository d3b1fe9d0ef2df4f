"""A minimal Flask application for IIS."""
import os

from flask import Flask, jsonify, render_template

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY", "change-me")


@app.route("/")
def index():
    return render_template("index.html", title="Flask on IIS")


@app.route("/health")
def health():
    return jsonify(status="ok")


if __name__ == "__main__":
    app.run()

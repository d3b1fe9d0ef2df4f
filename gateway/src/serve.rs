//! The serving loop: accept a connection, take its requests one at a time,
//! run each through the app, answer a failure with the 500 page, and never
//! exit because one request failed.
//!
//! Everything the app needs is set up at the first request, not at start:
//! under IIS the app's folder is known for sure only from the first
//! request's APPL_PHYSICAL_PATH, and a failure to load must become a page
//! that says so (and is tried again on the next request) rather than a
//! process that dies, which IIS reports as "500.0 The FastCGI process
//! exited unexpectedly".

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use pyo3::Py;
use pyo3::PyAny;

use crate::fastcgi::{Connection, Request};
use crate::harakiri::Watchdog;
use crate::limits::Limits;
use crate::log::Log;
use crate::python::streams::{Progress, Shared, SharedConn};
use crate::python::{self, Interpreter};
use crate::restart::{self, ChangeFlag};
use crate::settings::Settings;
use crate::shutdown::{self, Shutdown};
use crate::transport::timeouts::{ReadDeadline, TimedReader, TimedWriter};
use crate::transport::{Listener, Socket, Stream};
use crate::wsgi::error_page::{self, Failure};

pub struct Options {
    /// `--app-dir` or IISWSGI_APP_DIR; otherwise found at the first request.
    pub app_dir: Option<PathBuf>,
    /// `--venv`: over the settings' IISWSGI_VENV.
    pub venv: Option<PathBuf>,
    /// `--show-traceback`: over the settings' IISWSGI_SHOW_TRACEBACK.
    pub show_traceback: bool,
    /// Threads, processes and timeouts (sockets only; see `crate::limits`).
    pub limits: Limits,
}

/// The app and what serves it, shared by the threads of a process.
pub struct Gateway {
    options: Options,
    log: Arc<Log>,
    shutdown: Arc<Shutdown>,
    changes: Arc<ChangeFlag>,
    state: Mutex<State>,
    /// Requests run holding it to read; a reload takes it to write, so the
    /// app's modules are never swapped under a running request.
    reload_gate: RwLock<()>,
    watchdog: Option<Arc<Watchdog>>,
}

/// What is set up once (and again after a failure or a change).
struct State {
    settings: Option<Settings>,
    interpreter: Option<Arc<Interpreter>>,
    app: Option<Py<PyAny>>,
    watcher: Option<notify::RecommendedWatcher>,
    /// The WSGI_LOG file being written (opened once).
    log_file_opened: Option<PathBuf>,
    /// Whether os.environ and sys.path reflect the current settings.
    prepared: bool,
    /// The in-use markers of the venv and gateway version this process
    /// runs (install::state), held for its life.
    _held: Vec<std::fs::File>,
}

/// A failure the visitor gets a page for, with what the log gets.
struct Failed {
    failure: Failure,
    details: String,
}

/// What becomes of a connection once its request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Closed: the web server did not keep it, closed it, or it broke.
    Close,
    /// Kept by the web server, and nothing of its next request is here
    /// yet: it waits (polled by `crate::pool`'s leader, not on a thread).
    Wait,
}

/// A connection being served: its FastCGI state, shared with the app's
/// `wsgi.input` and response writer, and its read deadline.
pub struct Served {
    pub shared: SharedConn,
    pub deadline: Arc<ReadDeadline>,
    /// The socket's descriptor, to see whether the next request is coming.
    #[cfg(unix)]
    fd: Option<std::os::fd::RawFd>,
}

/// How long a thread waits on its kept connection for the next request
/// before giving it back to be polled: a web server sending requests back
/// to back is served without the round trip (a wake-up and a poll).
#[cfg(unix)]
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

impl Served {
    /// Whether the next request is here or about to be.
    pub fn next_is_coming(&self, wait: std::time::Duration) -> bool {
        #[cfg(unix)]
        return self.fd.is_some_and(|fd| {
            use crate::transport::timeouts::{Ready, wait_ready};
            matches!(wait_ready(fd, Ready::Read, Some(wait)), Ok(true))
        });
        #[cfg(not(unix))]
        {
            let _ = wait;
            false
        }
    }
}

impl Gateway {
    pub fn new(options: Options, log: Arc<Log>) -> Self {
        let shutdown = Arc::new(Shutdown::default());
        shutdown::listen(shutdown.clone(), log.clone());
        Gateway {
            watchdog: None,
            log,
            shutdown,
            changes: Arc::new(ChangeFlag::default()),
            state: Mutex::new(State {
                settings: None,
                interpreter: None,
                app: None,
                watcher: None,
                log_file_opened: std::env::var_os("WSGI_LOG")
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from),
                prepared: false,
                _held: Vec::new(),
            }),
            reload_gate: RwLock::new(()),
            options,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.options.limits
    }

    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves until the listener fails or the host asks the gateway to stop.
    pub fn serve(mut self, listener: Listener) -> std::io::Result<()> {
        #[cfg(windows)]
        let pipe = matches!(listener, Listener::Pipe(_));
        #[cfg(not(windows))]
        let pipe = false;
        if !pipe {
            // IIS ends a stuck process itself (requestTimeout).
            self.watchdog = Watchdog::start(self.options.limits.request, self.log.clone());
        }
        let gateway = Arc::new(self);
        #[cfg(unix)]
        return crate::pool::serve(gateway, listener);
        #[cfg(not(unix))]
        gateway.serve_one_at_a_time(listener)
    }

    /// IIS's named pipe: one connection, one request at a time, as IIS
    /// sends them (and `--bind` on Windows, outside IIS).
    #[cfg(not(unix))]
    fn serve_one_at_a_time(&self, mut listener: Listener) -> std::io::Result<()> {
        loop {
            let stream = match listener.accept() {
                Ok(stream) => stream,
                // IIS closed the pipe for good: the process is done.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(e),
            };
            let (served, _socket) = self.connection(stream);
            self.serve_connection(&served, false);
        }
    }

    /// A new connection, with the read and write limits on its socket
    /// (given back, for the poller).
    pub fn connection(&self, stream: Stream) -> (Served, Option<Socket>) {
        let limits = &self.options.limits;
        let deadline = ReadDeadline::new(limits.read);
        let conn = match &stream.socket {
            Some(socket) => {
                // On Unix the socket is non-blocking and its halves wait in
                // poll() with the limits; elsewhere the kernel keeps them.
                #[cfg(unix)]
                let poll_fd = Some(socket.fd());
                #[cfg(not(unix))]
                let poll_fd = {
                    if let Err(e) = socket
                        .set_read_timeout(limits.read)
                        .and_then(|()| socket.set_write_timeout(limits.write))
                    {
                        self.log
                            .line(&format!("cannot set the socket's timeouts: {e}"));
                    }
                    None
                };
                Connection::new(
                    Box::new(TimedReader {
                        inner: stream.reader,
                        deadline: deadline.clone(),
                        read_timeout: limits.read,
                        poll_fd,
                    }),
                    Box::new(TimedWriter {
                        inner: stream.writer,
                        write_timeout: limits.write,
                        poll_fd,
                    }),
                )
            }
            None => Connection::new(stream.reader, stream.writer),
        };
        let served = Served {
            shared: Arc::new(Mutex::new(Shared { conn, seq: 0 })),
            deadline,
            #[cfg(unix)]
            fd: stream.socket.as_ref().map(Socket::fd),
        };
        (served, stream.socket)
    }

    /// Serves the requests of a connection, one after the other. With
    /// `may_wait`, returns [`After::Wait`] when the web server keeps the
    /// connection and its next request is not here yet.
    pub fn serve_connection(&self, served: &Served, may_wait: bool) -> After {
        let shared = &served.shared;
        loop {
            let next = {
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                // Nothing of the request read yet: if nothing is there
                // either, the connection waits in the poller, not here.
                served
                    .deadline
                    .start(may_wait && !s.conn.has_buffered_input());
                s.conn.next_request()
            };
            served.deadline.stop();
            let request = match next {
                // Shared with the request timeout's watchdog, which names
                // the request only if it has to end it.
                Ok(Some(r)) => Arc::new(r),
                Ok(None) => return After::Close,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return After::Wait,
                Err(e) => {
                    self.log.line(&format!("FastCGI connection dropped: {e}"));
                    return After::Close;
                }
            };
            if !self.shutdown.begin_request() {
                // Stopping: no new request starts; the web server sees the
                // connection close and tries another process.
                return After::Close;
            }
            let seq = {
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                s.seq += 1;
                s.seq
            };
            let whole = {
                let _timed = self
                    .watchdog
                    .as_ref()
                    .map(|w| w.time(request.clone(), shared.clone()));
                self.handle(&request, shared, seq)
            };
            let ended = {
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                // Invalidate the request's wsgi.input and write().
                s.seq += 1;
                if !whole {
                    // No FCGI_END_REQUEST: the connection is closed, so the
                    // web server sees a failed response, not a whole one.
                    // Closed here, whatever the app kept of wsgi.input.
                    s.conn = Connection::new(Box::new(std::io::empty()), Box::new(std::io::sink()));
                    Ok(false)
                } else if s.conn.aborted() {
                    self.log.line(&format!(
                        "{}: aborted by the web server (FCGI_ABORT_REQUEST)",
                        request_path(&request)
                    ));
                    // Not complete: an application status other than 0.
                    s.conn.end_request(1, false)
                } else {
                    s.conn.end_request(0, false)
                }
            };
            self.shutdown.end_request(&self.log);
            match ended {
                Ok(true) => {
                    let buffered = shared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .conn
                        .has_buffered_input();
                    #[cfg(unix)]
                    let coming = buffered || served.next_is_coming(LINGER);
                    #[cfg(not(unix))]
                    let coming = buffered;
                    if may_wait && !coming {
                        return After::Wait;
                    }
                }
                Ok(false) => return After::Close,
                Err(e) => {
                    self.log.line(&format!(
                        "FastCGI connection dropped while ending a request: {e}"
                    ));
                    return After::Close;
                }
            }
        }
    }

    /// Serves one request; false when its response broke off after it
    /// had started (the connection must then end without FCGI_END_REQUEST).
    fn handle(&self, request: &Request, shared: &SharedConn, seq: u64) -> bool {
        if self.changes.is_set() {
            let _alone = self.reload_gate.write().unwrap_or_else(|e| e.into_inner());
            if let Some(changed) = self.changes.take() {
                self.state().reload(&changed, self);
            }
        }
        let _running = self.reload_gate.read().unwrap_or_else(|e| e.into_inner());
        let ready = self.state().ready(request, self);
        let (interpreter, app) = match ready {
            Ok(ready) => ready,
            Err(failed) => {
                self.fail(shared, failed, Progress::NotStarted);
                // The fix is often in web.config (a misspelled WSGI_HANDLER,
                // IISWSGI_PYTHON_HOME): it is read again at the next request,
                // whether or not the change watcher has seen it yet.
                let mut state = self.state();
                state.settings = None;
                state.prepared = false;
                return true;
            }
        };
        if let Err((err, progress)) = interpreter.run(&app, &request.params, shared, seq) {
            let path = request_path(request);
            self.fail(
                shared,
                Failed {
                    failure: Failure::Request,
                    details: format!("{path}: {}", err.traceback),
                },
                progress,
            );
            return progress != Progress::Partial;
        }
        true
    }

    /// web.config and the environment, then the command line's overrides.
    fn load_settings(&self, app_dir: &Path) -> Result<Settings, crate::settings::SettingsError> {
        let mut settings = Settings::load(app_dir, |k| std::env::var(k).ok())?;
        if let Some(venv) = &self.options.venv {
            settings.venv = Some(std::path::absolute(venv).unwrap_or_else(|_| venv.clone()));
        }
        settings.show_traceback |= self.options.show_traceback;
        Ok(settings)
    }

    fn app_dir(&self, request: &Request) -> PathBuf {
        if let Some(dir) = &self.options.app_dir {
            // Absolute: the app's folder goes on sys.path and becomes the
            // working folder, so a relative one would point elsewhere once
            // Python has changed into it.
            return std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        }
        if let Some(v) = request.params.get(b"APPL_PHYSICAL_PATH") {
            let dir = PathBuf::from(trim_separator(&String::from_utf8_lossy(v)));
            if dir.is_dir() {
                return dir;
            }
        }
        // IIS layout: <app>\bin\iiswsgi-gateway.exe beside <app>\web.config.
        if let Some(exe) = crate::python::hosted::program_path()
            && let Some(bin) = exe.parent()
            && let Some(app) = bin.parent()
            && crate::web_config::find(app).is_some()
        {
            return app.to_owned();
        }
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    }

    fn fail(&self, shared: &SharedConn, failed: Failed, progress: Progress) {
        let show = self
            .state()
            .settings
            .as_ref()
            .is_some_and(|s| s.show_traceback);
        self.log.line(&failed.details);
        match progress {
            Progress::NotStarted => {}
            Progress::Partial => {
                self.log.line(
                    "(the response had started: the connection is closed without ending it, so the web server sees it fail)",
                );
                return;
            }
            Progress::Complete => {
                self.log
                    .line("(after the whole response was given: it is sent as it is)");
                return;
            }
        }
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        if s.conn.aborted() {
            return; // nobody is waiting for a page
        }
        let fallback = self.log.fallback();
        let page = error_page::response(
            failed.failure,
            show.then_some(failed.details.as_str()),
            fallback.as_deref(),
        );
        if let Err(e) = s.conn.write_stdout(&page) {
            self.log
                .line(&format!("could not send the error page: {e}"));
        }
    }
}

impl State {
    /// Settings, Python and the app, each set up once (and again after a
    /// failure, on the next request).
    fn ready(
        &mut self,
        request: &Request,
        gateway: &Gateway,
    ) -> Result<(Arc<Interpreter>, Py<PyAny>), Failed> {
        let log = &gateway.log;
        if self.settings.is_none() {
            let app_dir = gateway.app_dir(request);
            let settings = gateway.load_settings(&app_dir).map_err(|e| Failed {
                failure: Failure::Configuration,
                details: e.to_string(),
            })?;
            if let Some(path) = &settings.log_file
                && self.log_file_opened.as_ref() != Some(path)
            {
                log.open_file(path);
                self.log_file_opened = Some(path.clone());
            }
            log.line(&format!(
                "iiswsgi-gateway {} serving {} (web.config: {})",
                env!("CARGO_PKG_VERSION"),
                settings.app_dir.display(),
                settings
                    .web_config
                    .as_ref()
                    .map_or("none".to_owned(), |p| p.display().to_string())
            ));
            if self.watcher.is_none()
                && let Some(pattern) = settings.restart.clone()
            {
                match restart::watch(&settings.app_dir, pattern, gateway.changes.clone()) {
                    Ok(w) => self.watcher = Some(w),
                    Err(e) => log.line(&format!(
                        "cannot watch {} for changes: {e}",
                        settings.app_dir.display()
                    )),
                }
            }
            self.settings = Some(settings);
        }
        let settings = self.settings.as_ref().expect("just set");
        if self.interpreter.is_none() {
            python::preflight(settings).map_err(|details| Failed {
                failure: Failure::Python,
                details,
            })?;
            let multithread = gateway.options.limits.threads > 1;
            let interp =
                Interpreter::start(settings, log.clone(), multithread).map_err(|e| Failed {
                    failure: Failure::Python,
                    details: e.traceback,
                })?;
            interp.prepare(settings).map_err(|e| Failed {
                failure: Failure::Configuration,
                details: e.traceback,
            })?;
            self.prepared = true;
            let (held, retired) = crate::install::state::hold_running(settings.venv.as_deref());
            self._held = held;
            for line in retired {
                log.line(&format!("older version: {line}"));
            }
            log.line(&format!(
                "Python {} (sys.path: {})",
                interp.version().lines().next().unwrap_or(""),
                interp.sys_path().join(", ")
            ));
            self.interpreter = Some(Arc::new(interp));
        }
        let interpreter = self.interpreter.clone().expect("just started");
        if !self.prepared {
            interpreter.prepare(settings).map_err(|e| Failed {
                failure: Failure::Configuration,
                details: e.traceback,
            })?;
            self.prepared = true;
        }
        if let Some(app) = &self.app {
            return Ok((interpreter, pyo3::Python::attach(|py| app.clone_ref(py))));
        }
        let handler = settings.handler.clone().ok_or_else(|| Failed {
            failure: Failure::Configuration,
            details: "WSGI_HANDLER is not set: add <add key=\"WSGI_HANDLER\" value=\"module:app\" /> to web.config's <appSettings> \
                      (or set it in the environment)"
                .to_owned(),
        })?;
        let app = interpreter.load(&handler).map_err(|e| Failed {
            failure: Failure::Load,
            details: format!("WSGI_HANDLER {handler:?} could not be loaded (it is imported again at the next request):\n{}", e.traceback),
        })?;
        log.line(&format!("loaded WSGI_HANDLER {handler:?}"));
        let again = pyo3::Python::attach(|py| app.clone_ref(py));
        self.app = Some(app);
        Ok((interpreter, again))
    }

    /// After a watched file changed: read web.config again and import the
    /// app's code anew at this request.
    fn reload(&mut self, changed: &Path, gateway: &Gateway) {
        gateway.log.line(&format!(
            "{} changed: reloading the application",
            changed.display()
        ));
        if let Some(interp) = &self.interpreter
            && let Err(e) = interp.unload()
        {
            gateway.log.line(&format!(
                "could not unload the application's modules: {}",
                e.traceback
            ));
        }
        self.app = None;
        // Python itself stays: a settings change that needs another
        // interpreter (IISWSGI_VENV) takes a restart of the process.
        let old = self.settings.take();
        if let Some(old) = old {
            match gateway.load_settings(&old.app_dir) {
                Ok(new) => {
                    self.prepared = false;
                    self.settings = Some(new);
                }
                Err(e) => {
                    gateway
                        .log
                        .line(&format!("web.config could not be read again: {e}"));
                    self.settings = Some(old);
                }
            }
        }
    }
}

/// A folder without its trailing separator (IIS sends APPL_PHYSICAL_PATH
/// as `C:\inetpub\app\`), the root of a drive or of the file system kept
/// whole: it becomes the app's sys.path entry as the app folder is named
/// everywhere else.
fn trim_separator(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['\\', '/']);
    if trimmed.is_empty() || trimmed.ends_with(':') {
        path
    } else {
        trimmed
    }
}

pub(crate) fn request_path(request: &Request) -> String {
    let get = |key: &[u8]| {
        request
            .params
            .get(key)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    format!(
        "{} {}",
        get(b"REQUEST_METHOD").unwrap_or_default(),
        get(b"REQUEST_URI")
            .or_else(|| get(b"PATH_INFO"))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::trim_separator;

    #[test]
    fn app_folders_lose_their_trailing_separator_but_roots_stay_whole() {
        assert_eq!(trim_separator(r"C:\inetpub\app\"), r"C:\inetpub\app");
        assert_eq!(trim_separator("/srv/app/"), "/srv/app");
        assert_eq!(trim_separator(r"C:\inetpub\app"), r"C:\inetpub\app");
        assert_eq!(trim_separator(r"C:\"), r"C:\");
        assert_eq!(trim_separator("/"), "/");
    }
}

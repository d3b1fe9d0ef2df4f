//! The Windows Application event log, where an IIS operator looks when a
//! site fails and its log file cannot be found. Used when the gateway's
//! own log cannot be written where WSGI_LOG says (log.rs). The events
//! have source `iiswsgi-gateway` and id 1; no message file is registered,
//! so Event Viewer shows the text as "the following information was
//! included with the event". Elsewhere (Unix hosts keep standard error)
//! nothing is done.

/// Writes `message` as an Error event, best effort.
#[cfg(windows)]
pub fn report_error(message: &str) {
    use windows_sys::Win32::System::EventLog::{
        DeregisterEventSource, EVENTLOG_ERROR_TYPE, RegisterEventSourceW, ReportEventW,
    };
    let wide = |s: &str| -> Vec<u16> { s.encode_utf16().chain(Some(0)).collect() };
    let source = wide("iiswsgi-gateway");
    let text = wide(message);
    let strings = [text.as_ptr()];
    // SAFETY: NUL-terminated UTF-16 strings that outlive the calls; the
    // handle is released before returning.
    unsafe {
        let handle = RegisterEventSourceW(std::ptr::null(), source.as_ptr());
        if handle.is_null() {
            return;
        }
        ReportEventW(
            handle,
            EVENTLOG_ERROR_TYPE,
            0,
            1,
            std::ptr::null_mut(),
            1,
            0,
            strings.as_ptr(),
            std::ptr::null(),
        );
        DeregisterEventSource(handle);
    }
}

#[cfg(not(windows))]
pub fn report_error(_message: &str) {}

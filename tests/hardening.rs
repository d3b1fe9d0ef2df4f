//! Hostile and broken input (issue #15): XML of any depth, size or count
//! is refused with a message, never a crash; output to a closed pipe ends
//! the process quietly.

mod common;

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;

fn iiswsgi(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn deep(levels: usize) -> String {
    format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">{}{}</feed>",
        "<a>".repeat(levels),
        "</a>".repeat(levels)
    )
}

/// Exit code and stderr; fails on a crash (signal, or Rust's panic code 101).
fn refused(out: &std::process::Output) -> (i32, String) {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {err}"));
    assert_ne!(code, 101, "panicked: {err}");
    assert_ne!(code, 0, "accepted: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("overflow"),
        "{err}"
    );
    (code, err)
}

fn built_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("iiswsgi.toml"),
        "[app]\nname = \"Shop\"\nversion = \"1\"\n[files]\ninclude = [\"app.py\"]\n[feed]\nurl = \"https://example.org/shop.webpi.xml\"\npackage-url = \"https://example.org/{file}\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("app.py"), "").unwrap();
    let out = iiswsgi(dir.path(), &["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn zip_with(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(file.path()).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    file
}

#[test]
fn a_feed_nested_100000_deep_is_refused_by_feed_and_publish_merge() {
    let dir = built_project();
    std::fs::write(dir.path().join("deep.xml"), deep(100_000)).unwrap();
    let (code, err) = refused(&iiswsgi(
        dir.path(),
        &["feed", "--local", "--merge", "deep.xml"],
    ));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("deep.xml") && err.contains("elements nested deeper than 256"),
        "{err}"
    );
    assert!(
        !dir.path().join("dist/Shop.webpi.xml").exists(),
        "no feed is written"
    );
    let target = tempfile::tempdir().unwrap();
    let target_url = format!("file://{}", target.path().display());
    let (_, err) = refused(&iiswsgi(
        dir.path(),
        &["publish", "--target", &target_url, "--merge", "deep.xml"],
    ));
    assert!(err.contains("elements nested deeper than 256"), "{err}");
    assert_eq!(
        std::fs::read_dir(target.path()).unwrap().count(),
        0,
        "nothing was uploaded"
    );
}

#[test]
fn inspect_refuses_deep_huge_and_crowded_xml_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let deep_manifest = format!(
        "<MSDeploy.iisApp>{}{}</MSDeploy.iisApp>",
        "<x>".repeat(100_000),
        "</x>".repeat(100_000)
    );
    for name in ["Manifest.xml", "archive.xml"] {
        std::fs::write(dir.path().join(name), &deep_manifest).unwrap();
        let (_, err) = refused(&iiswsgi(dir.path(), &["inspect", name]));
        assert!(
            err.contains("elements nested deeper than 256"),
            "{name}: {err}"
        );
    }
    let zip = zip_with(&[("Manifest.xml", deep_manifest.as_bytes())]);
    let (_, err) = refused(&iiswsgi(
        dir.path(),
        &["inspect", zip.path().to_str().unwrap()],
    ));
    assert!(
        err.contains("Manifest.xml") && err.contains("elements nested deeper than 256"),
        "{err}"
    );

    // A zip bomb: 100 MiB of spaces that deflate to about 100 KiB.
    let mut bomb = b"<MSDeploy.iisApp>".to_vec();
    bomb.resize(100 << 20, b' ');
    bomb.extend_from_slice(b"</MSDeploy.iisApp>");
    let zip = zip_with(&[("archive.xml", &bomb)]);
    assert!(std::fs::metadata(zip.path()).unwrap().len() < 1 << 20);
    let (_, err) = refused(&iiswsgi(
        dir.path(),
        &["inspect", zip.path().to_str().unwrap()],
    ));
    assert!(
        err.contains("archive.xml") && err.contains("larger than the 64 MiB"),
        "{err}"
    );

    // A million and one empty elements, flat.
    let crowded = format!(
        "<MSDeploy.iisApp>{}</MSDeploy.iisApp>",
        "<a/>".repeat(1_000_000)
    );
    std::fs::write(dir.path().join("crowded.xml"), crowded).unwrap();
    let (_, err) = refused(&iiswsgi(dir.path(), &["inspect", "crowded.xml"]));
    assert!(err.contains("more than 1000000 elements"), "{err}");
}

#[test]
fn output_to_a_closed_pipe_ends_quietly_not_with_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("iiswsgi.toml"), "[app]\nname = 1\n").unwrap();
    for stream in ["stderr", "stdout"] {
        // The reading end is closed before iiswsgi writes a byte.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("iiswsgi"));
        cmd.current_dir(dir.path());
        if stream == "stderr" {
            cmd.arg("build")
                .stderr(writer)
                .stdout(std::process::Stdio::null());
        } else {
            cmd.arg("schema")
                .stdout(writer)
                .stderr(std::process::Stdio::piped());
        }
        let out = cmd.output().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{stream}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{stream}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

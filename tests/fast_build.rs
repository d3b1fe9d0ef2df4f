//! Issue #6: parallel encoding gives the same bytes at any thread count,
//! already-compressed content is stored, and a rebuild with nothing changed
//! leaves the package alone while any changed byte rebuilds it.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const MANIFEST: &str = r#"
[app]
name = "Big"
version = "1.0"

[[parameters]]
name = "Greeting"
default = "hello"
entries = [{ kind = "text-file", scope = '\\app\.py$', match = "__greeting__" }]
"#;

/// The SOURCE_DATE_EPOCH of `build`.
const EPOCH: &str = "1700000000";

/// Deterministic noise (xorshift), incompressible.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A project with a few hundred files of mixed content.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("iiswsgi.toml"), MANIFEST).unwrap();
    std::fs::write(root.join("app.py"), "GREETING = '__greeting__'\n").unwrap();
    for i in 0..300 {
        let sub = root.join(format!("pkg{}", i % 7));
        std::fs::create_dir_all(&sub).unwrap();
        let text = format!("def f{i}(x):\n    return x * {i}\n").repeat(50 + i);
        std::fs::write(sub.join(format!("m{i}.py")), text).unwrap();
        if i % 25 == 0 {
            std::fs::write(sub.join(format!("blob{i}.bin")), noise(i as u64, 200_000)).unwrap();
            std::fs::write(
                sub.join(format!("logo{i}.png")),
                b"not really a PNG, but compressible ".repeat(500),
            )
            .unwrap();
        }
    }
    dir
}

fn build(dir: &Path, args: &[&str]) -> String {
    build_at(dir, args, EPOCH)
}

/// `build` with entries dated `epoch` (SOURCE_DATE_EPOCH); its stderr.
fn build_at(dir: &Path, args: &[&str], epoch: &str) -> String {
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir)
        .arg("build")
        .args(args)
        .env("SOURCE_DATE_EPOCH", epoch)
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// Waits until what was just written is more than a second old: only then
/// do the no-op check, the listing cache and the rebuild's copies trust a
/// stat stamp (a change in the same clock tick could hide behind it).
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(1200));
}

/// The no-op record of the test package.
fn record(root: &Path) -> PathBuf {
    root.join("dist/.Big-1.0.msdeploy.zip.inputs")
}

fn zip(dir: &Path) -> PathBuf {
    dir.join("dist/Big-1.0.msdeploy.zip")
}

#[test]
fn the_package_is_the_same_at_any_thread_count() {
    let dir = project();
    build(dir.path(), &["--jobs", "1"]);
    let one = std::fs::read(zip(dir.path())).unwrap();
    for jobs in ["2", "7"] {
        build(dir.path(), &["--jobs", jobs, "--force"]);
        assert!(
            one == std::fs::read(zip(dir.path())).unwrap(),
            "--jobs {jobs}"
        );
    }
}

#[test]
fn compressed_and_incompressible_content_is_stored_the_rest_deflated() {
    let dir = project();
    build(dir.path(), &[]);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip(dir.path())).unwrap()).unwrap();
    let mut seen = [0; 3];
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        if f.is_dir() {
            continue;
        }
        let name = f.name().to_string();
        if !name.starts_with("Big/pkg") {
            continue; // a few small documents, stored when deflate does not shrink them
        }
        let expected = if name.ends_with(".png") || name.ends_with(".bin") {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        assert_eq!(f.compression(), expected, "{name}");
        seen[usize::from(name.ends_with(".png")) + 2 * usize::from(name.ends_with(".bin"))] += 1;
        // And every entry reads back to its source.
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if let Some(rel) = name.strip_prefix("Big/")
            && rel != "web.config"
            && rel != "iis_install.stamp"
            && !rel.ends_with('/')
            && dir.path().join(rel).is_file()
        {
            assert!(
                bytes == std::fs::read(dir.path().join(rel)).unwrap(),
                "{name}"
            );
        }
    }
    assert_eq!(seen[1], 12, "PNGs, by name");
    assert_eq!(seen[2], 12, "noise");
}

#[test]
fn a_rebuild_with_nothing_changed_leaves_the_package_alone() {
    let dir = project();
    assert!(build(dir.path(), &[]).contains("Built"));
    let modified = std::fs::metadata(zip(dir.path()))
        .unwrap()
        .modified()
        .unwrap();
    let stderr = build(dir.path(), &[]);
    assert!(stderr.contains("Fresh"), "{stderr}");
    assert!(stderr.contains("up to date"), "{stderr}");
    assert_eq!(
        std::fs::metadata(zip(dir.path()))
            .unwrap()
            .modified()
            .unwrap(),
        modified,
        "not rewritten"
    );
    assert!(build(dir.path(), &["--force"]).contains("Built"));
    assert!(build(dir.path(), &[]).contains("Fresh"));
}

/// Each change, made after a build, makes the next build rebuild.
#[test]
fn any_change_rebuilds() {
    let dir = project();
    let root = dir.path();
    // Files written more than a second before a build are trusted by their
    // stat stamp (device, inode, mtime, ctime) instead of being hashed again;
    // wait so that the changes below go through that path.
    settle();
    build(root, &[]);
    let rebuilt = |what: &str, args: &[&str]| {
        let stderr = build(root, args);
        assert!(stderr.contains("Built"), "{what}: {stderr}");
        assert!(build(root, args).contains("Fresh"), "{what}: settles");
    };

    // One byte, same size, and the old modification time put back.
    let file = root.join("pkg3/m10.py");
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[7] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(before)
        .unwrap();
    rebuilt("a changed byte with the same size and mtime", &[]);

    std::fs::write(root.join("pkg0/new.py"), "x = 1\n").unwrap();
    rebuilt("a new file", &[]);
    std::fs::remove_file(root.join("pkg0/new.py")).unwrap();
    rebuilt("a removed file", &[]);

    let manifest = MANIFEST.replace("default = \"hello\"", "default = \"hi\"");
    std::fs::write(root.join("iiswsgi.toml"), manifest).unwrap();
    rebuilt("a rendered document (Parameters.xml)", &[]);

    assert!(build_at(root, &[], "1700000002").contains("Built"), "epoch");
    build(root, &[]);

    std::fs::write(
        root.join("dist/Big-1.0.msdeploy.zip.sha256"),
        "0000  Big-1.0.msdeploy.zip\n",
    )
    .unwrap();
    rebuilt("a tampered .sha256", &[]);
    std::fs::remove_file(zip(root)).unwrap();
    rebuilt("a deleted package", &[]);
    let mut z = std::fs::read(zip(root)).unwrap();
    z[40] ^= 1;
    std::fs::write(zip(root), z).unwrap();
    rebuilt("an edited package", &[]);
}

/// With every file older than a second before the last build, the quick
/// digest alone decides: the record's entry lines are not read (here they
/// are made wrong, and the build is still fresh); without the digest, the
/// entry-by-entry check reads them, finds them wrong, and rebuilds.
#[test]
fn the_quick_digest_decides_when_no_file_changed_near_the_build() {
    let dir = project();
    let root = dir.path();
    settle();
    assert!(build(root, &[]).contains("Built"));
    let record = record(root);
    let text = std::fs::read_to_string(&record).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("quick\t")).count(), 1);
    std::fs::write(&record, text.replace("entry\t", "entry\tx")).unwrap();
    let stderr = build(root, &[]);
    assert!(stderr.contains("Fresh"), "{stderr}");

    let text = std::fs::read_to_string(&record).unwrap();
    let without_quick: String = text
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("quick\t"))
        .collect();
    std::fs::write(&record, without_quick).unwrap();
    let stderr = build(root, &[]);
    assert!(stderr.contains("Built"), "{stderr}");
    assert!(build(root, &[]).contains("Fresh"));
}

/// The names in a package, in order.
fn names(package: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(package).unwrap()).unwrap();
    archive.file_names().map(str::to_string).collect()
}

/// The listing cache (files/listing_cache.rs) spares a build the walk of
/// the tree only while no folder changed. After each change below, made
/// while the cache was in use, the package is byte for byte the one a build
/// that walks the tree (into another output folder, so without the cache)
/// makes.
#[cfg(unix)]
#[test]
fn the_listing_cache_is_used_only_while_it_lists_what_a_walk_would() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.py"), "not the project's\n").unwrap();
    let outside_file = outside.path().join("secret.py");

    type Change = Box<dyn Fn(&Path)>;
    let changes: Vec<(&str, bool, Change)> = vec![
        (
            "a changed byte, same size and mtime",
            true,
            Box::new(|root| {
                let file = root.join("pkg1/a.py");
                let before = std::fs::metadata(&file).unwrap().modified().unwrap();
                std::fs::write(&file, "A = 2\n").unwrap();
                let f = std::fs::File::options().write(true).open(&file).unwrap();
                f.set_modified(before).unwrap();
            }),
        ),
        (
            "a new file",
            false,
            Box::new(|root| std::fs::write(root.join("pkg0/new.py"), "N = 1\n").unwrap()),
        ),
        (
            "a removed file",
            false,
            Box::new(|root| std::fs::remove_file(root.join("pkg1/a.py")).unwrap()),
        ),
        (
            "a renamed file",
            false,
            Box::new(|root| {
                std::fs::rename(root.join("pkg1/a.py"), root.join("pkg1/b.py")).unwrap()
            }),
        ),
        (
            "a new folder deep down",
            false,
            Box::new(|root| {
                std::fs::create_dir_all(root.join("pkg2/sub/deeper")).unwrap();
                std::fs::write(root.join("pkg2/sub/deeper/x.py"), "X = 1\n").unwrap();
            }),
        ),
        (
            "a linked file's target made a link out of the project",
            false,
            Box::new(move |root| {
                let target = root.join(".git/target.py");
                std::fs::remove_file(&target).unwrap();
                std::os::unix::fs::symlink(&outside_file, &target).unwrap();
            }),
        ),
        (
            "an exclude glob",
            false,
            Box::new(|root| {
                let manifest = format!("{MANIFEST}\n[files]\nexclude = [\"pkg1\"]\n");
                std::fs::write(root.join("iiswsgi.toml"), manifest).unwrap();
            }),
        ),
    ];
    let projects: Vec<tempfile::TempDir> = changes
        .iter()
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            std::fs::write(root.join("iiswsgi.toml"), MANIFEST).unwrap();
            std::fs::write(root.join("app.py"), "GREETING = '__greeting__'\n").unwrap();
            for (rel, text) in [
                ("pkg0/m.py", "M = 0\n"),
                ("pkg1/a.py", "A = 1\n"),
                ("pkg2/z.py", ""),
            ] {
                std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
                std::fs::write(root.join(rel), text).unwrap();
            }
            // A link to a file in a folder the walk never enters: only the
            // link's own check can see what it leads to change.
            std::fs::create_dir_all(root.join(".git")).unwrap();
            std::fs::write(root.join(".git/target.py"), "T = 1\n").unwrap();
            std::os::unix::fs::symlink("../.git/target.py", root.join("pkg1/l.py")).unwrap();
            // Made now, so that the first build does not change the project
            // folder by making it.
            std::fs::create_dir(root.join("dist")).unwrap();
            dir
        })
        .collect();
    settle();

    for (dir, (what, still_cached, change)) in projects.iter().zip(&changes) {
        let root = dir.path();
        let first = build(root, &["-v"]);
        assert!(first.contains("the listing is kept"), "{what}: {first}");
        let again = build(root, &["-v"]);
        assert!(again.contains("its listing was reused"), "{what}: {again}");
        assert!(again.contains("Fresh"), "{what}: {again}");
        let before = names(&zip(root));

        change(root);
        let after = build(root, &["-v"]);
        assert!(after.contains("Built"), "{what}: {after}");
        assert_eq!(
            after.contains("its listing was reused"),
            *still_cached,
            "{what}: {after}"
        );
        // A walk's listing is kept, or the stale one removed.
        let listing = root.join("dist/.Big-1.0.msdeploy.zip.listing");
        assert_eq!(
            listing.exists(),
            !after.contains("not kept for the next build"),
            "{what}: {after}"
        );
        let walked_out = tempfile::tempdir().unwrap();
        let walked = build(
            root,
            &["-v", "--out-dir", walked_out.path().to_str().unwrap()],
        );
        assert!(walked.contains("listed the tree"), "{what}: {walked}");
        let package = std::fs::read(zip(root)).unwrap();
        let from_walk = std::fs::read(walked_out.path().join("Big-1.0.msdeploy.zip")).unwrap();
        assert!(package == from_walk, "{what}: the package is not a walk's");

        let now = names(&zip(root));
        let has = |name: &str| now.iter().any(|n| n == name);
        match *what {
            "a new file" => assert!(has("Big/pkg0/new.py")),
            "a removed file" => assert!(!has("Big/pkg1/a.py")),
            "a renamed file" => assert!(has("Big/pkg1/b.py") && !has("Big/pkg1/a.py")),
            "a new folder deep down" => assert!(has("Big/pkg2/sub/deeper/x.py")),
            "a linked file's target made a link out of the project" => {
                assert!(!has("Big/pkg1/l.py"), "{now:?}");
                assert!(after.contains("skipped symlink"), "{after}");
            }
            "an exclude glob" => assert!(!now.iter().any(|n| n.starts_with("Big/pkg1/"))),
            _ => assert_eq!(now, before),
        }
    }
}

/// A file whose stamp changed but whose content did not (touched, checked
/// out again) is hashed once: the build is fresh, and the record is
/// refreshed, so the next build is decided by the quick digest again (shown
/// as before, by making the record's entry lines wrong).
#[test]
fn a_touched_file_is_hashed_once_then_the_quick_digest_decides_again() {
    let dir = project();
    let root = dir.path();
    settle();
    assert!(build(root, &[]).contains("Built"));
    let record = record(root);
    let before = std::fs::read_to_string(&record).unwrap();

    // Same bytes written again: a new mtime and ctime.
    let file = root.join("pkg3/m10.py");
    std::fs::write(&file, std::fs::read(&file).unwrap()).unwrap();
    settle();
    let stderr = build(root, &[]);
    assert!(stderr.contains("Fresh"), "{stderr}");
    let refreshed = std::fs::read_to_string(&record).unwrap();
    assert_ne!(refreshed, before, "the record was refreshed");
    let entries = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("entry\t"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(entries(&refreshed), entries(&before), "same contents");

    std::fs::write(&record, refreshed.replace("entry\t", "entry\tx")).unwrap();
    let stderr = build(root, &[]);
    assert!(stderr.contains("Fresh"), "decided by the digest: {stderr}");
}

/// The package's entries that are deflated project files (iiswsgi.toml
/// included; not the rendered documents), by name, with where their data
/// starts.
fn deflated_files(package: &Path) -> Vec<(String, u64)> {
    const RENDERED: [&str; 4] = [
        "Manifest.xml",
        "Parameters.xml",
        "Big/web.config",
        "Big/iis_install.stamp",
    ];
    let mut archive = zip::ZipArchive::new(std::fs::File::open(package).unwrap()).unwrap();
    (0..archive.len())
        .filter_map(|i| {
            let f = archive.by_index_raw(i).unwrap();
            let name = f.name().to_string();
            (f.compression() == zip::CompressionMethod::Deflated
                && !RENDERED.contains(&name.as_str()))
            .then(|| (name, f.data_start()))
        })
        .collect()
}

/// A rebuild copies the deflated bytes of unchanged files from the previous
/// package (package/previous.rs) and still writes, byte for byte, the
/// package a build from scratch writes; an entry damaged in the previous
/// package is deflated again instead of copied; another entry timestamp
/// still copies, a record from another encoder copies nothing, and
/// `--force` copies nothing.
#[test]
fn a_rebuild_copies_unchanged_entries_and_writes_what_a_fresh_build_writes() {
    let dir = project();
    let root = dir.path();
    settle();
    assert!(build(root, &[]).contains("Built"));
    let deflated = deflated_files(&zip(root));
    assert!(deflated.len() > 250, "{}", deflated.len());
    let from_scratch = |what: &str, epoch: &str| {
        let out = tempfile::tempdir().unwrap();
        build_at(root, &["--out-dir", out.path().to_str().unwrap()], epoch);
        let package = std::fs::read(zip(root)).unwrap();
        let fresh = std::fs::read(out.path().join("Big-1.0.msdeploy.zip")).unwrap();
        assert!(
            package == fresh,
            "{what}: not what a build from scratch writes"
        );
    };
    let copied = |stderr: &str| -> usize {
        stderr
            .lines()
            .find_map(|l| l.split_once(" unchanged files' deflated bytes were copied"))
            .map_or(0, |(n, _)| {
                n.split_whitespace().last().unwrap().parse().unwrap()
            })
    };

    // One file changed: every other deflated file is copied.
    append(root, "pkg2/m9.py");
    let stderr = build(root, &["-v"]);
    assert!(stderr.contains("Built"), "{stderr}");
    assert_eq!(copied(&stderr), deflated.len() - 1, "{stderr}");
    from_scratch("one file changed", EPOCH);

    // One entry of the package damaged (its modification time put back, so
    // the package still looks as that build left it), and another file
    // changed: the damaged entry is deflated again, not copied.
    settle();
    build(root, &[]);
    let package = zip(root);
    let modified = std::fs::metadata(&package).unwrap().modified().unwrap();
    let (_, data_start) = deflated_files(&package)
        .into_iter()
        .find(|(name, _)| name == "Big/pkg4/m4.py")
        .unwrap();
    let mut bytes = std::fs::read(&package).unwrap();
    bytes[data_start as usize + 20] ^= 0x55;
    std::fs::write(&package, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(&package).unwrap();
    f.set_modified(modified).unwrap();
    std::fs::write(root.join("pkg0/m0.py"), "changed = True\n").unwrap();
    let stderr = build(root, &["-v"]);
    assert!(stderr.contains("Built"), "{stderr}");
    assert_eq!(copied(&stderr), deflated.len() - 2, "{stderr}");
    from_scratch("a damaged entry", EPOCH);

    // Another entry timestamp: it is in the headers, written anew, not in
    // the deflated bytes, so everything unchanged is still copied.
    settle();
    let deflated_now = deflated_files(&zip(root)).len();
    append(root, "pkg2/m9.py");
    let stderr = build_at(root, &["-v"], "1700000099");
    assert_eq!(copied(&stderr), deflated_now - 1, "{stderr}");
    from_scratch("another epoch", "1700000099");

    // A record made by another encoder: nothing is copied.
    settle();
    let text = std::fs::read_to_string(record(root)).unwrap();
    let encoder = text.lines().find(|l| l.starts_with("encoder\t")).unwrap();
    let other = text.replace(encoder, "encoder\t0000000000000000");
    std::fs::write(record(root), other).unwrap();
    append(root, "pkg2/m9.py");
    let stderr = build(root, &["-v"]);
    assert!(stderr.contains("Built"), "{stderr}");
    assert_eq!(copied(&stderr), 0, "another encoder: {stderr}");
    from_scratch("another encoder", EPOCH);

    std::fs::write(root.join("pkg0/m0.py"), "changed = 2\n").unwrap();
    let stderr = build(root, &["-v", "--force"]);
    assert_eq!(copied(&stderr), 0, "--force: {stderr}");
}

/// Appends a comment line to the project file `rel`.
fn append(root: &Path, rel: &str) {
    let mut text = std::fs::read_to_string(root.join(rel)).unwrap();
    text.push_str("# changed\n");
    std::fs::write(root.join(rel), text).unwrap();
}

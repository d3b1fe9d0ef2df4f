//! Listing the project tree, on worker threads, in path order.
//!
//! When the listing cache cannot prove the tree unchanged (listing_cache.rs),
//! a no-op build is mostly this listing: every file's `stat` is needed, for
//! its size in the plan and its stamp for the no-op check. Walking folder by
//! folder on one thread and `stat`-ing each file by path spent most of that
//! time in the kernel, resolving every path from the root again. Here each
//! folder is listed by whichever worker is free, each entry (folders too,
//! for the cache) is `stat`-ed relative to its open folder
//! (`DirEntry::metadata`), and the listings are
//! then put together in byte order of the paths, so the result is the same
//! whatever the thread count or the order the file system lists names in.
//!
//! Symbolic links are resolved once (`canonicalize`): the caller decides
//! which targets to follow. A followed folder link whose target contains a
//! folder already on the way down would never end, and is an error.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::stamp::Stamp;
use crate::error::Error;
use crate::wake_on_panic::WakeOnPanic;

/// One entry of the tree, in walk order: a folder comes before what it
/// holds, and the entries are in byte order of their `rel` paths (with a
/// `/` after a folder's), the order the package is written in, so the plan
/// has little left to sort.
#[derive(Debug)]
pub enum Found {
    /// A folder that was entered, with its (followed) `stat` stamp, taken
    /// before it was listed.
    Dir { rel: String, stamp: Option<Stamp> },
    /// Anything else that is not a folder, with its (followed) `stat`;
    /// `link` if the entry is a symbolic link (to a file).
    File {
        path: PathBuf,
        rel: String,
        size: u64,
        stamp: Option<Stamp>,
        link: bool,
    },
    /// A symbolic link that was not followed.
    SkippedLink { path: PathBuf, dangling: bool },
}

/// What the caller decides while the tree is listed.
pub trait Rules: Sync {
    /// Whether to enter folder `path` (named `name`); not entered, it is
    /// left out silently.
    fn enter(&self, path: &Path, name: &OsStr) -> bool;
    /// Whether to follow a link whose canonical target is `target`.
    fn follow(&self, target: &Path) -> bool;
}

/// How many threads list the tree for `workers` compressing threads: more
/// than the cores, because a listing thread mostly waits on the file system
/// (the disk when the cache is cold, the kernel's locks when it is warm),
/// as git's preloaded index and fd do. Measured on 2 cores, 8 listing
/// threads took 56 ms where 2 took 62 (Django corpus, warm cache).
pub fn listing_threads(workers: usize) -> usize {
    (workers * 4).min(16).max(workers)
}

/// Lists everything under `root` (canonical), on `threads` threads. Paths
/// in [`Found`] are `root` joined with the entry's path; `rel` is that path
/// relative to `root`, `/`-separated. The first error in walk order is
/// returned.
pub fn walk(root: &Path, threads: usize, rules: &dyn Rules) -> Result<Vec<Found>, Error> {
    let root_chain = Arc::new(Chain {
        walk: root.to_path_buf(),
        real: root.to_path_buf(),
        parent: None,
    });
    let shared = Shared {
        state: Mutex::new(State {
            queue: vec![Job {
                id: 0,
                rel: String::new(),
                chain: root_chain,
            }],
            busy: 0,
            done: Vec::new(),
            stop: false,
        }),
        wake: Condvar::new(),
        next_id: AtomicUsize::new(1),
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.max(1) {
            scope.spawn(|| shared.work(rules));
        }
        shared.work(rules);
    });
    let state = shared.state.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut listings: Vec<Option<Listing>> = Vec::new();
    listings.resize_with(shared.next_id.into_inner(), || None);
    for (id, listing) in state.done {
        listings[id] = Some(listing);
    }
    let count = listings.iter().flatten().flatten().map(Vec::len).sum();
    let mut found = Vec::with_capacity(count);
    flatten(&mut listings, 0, &mut found)?;
    Ok(found)
}

/// Appends listing `id` and, after each folder in it, that folder's own.
fn flatten(listings: &mut [Option<Listing>], id: usize, out: &mut Vec<Found>) -> Result<(), Error> {
    let children = listings[id]
        .take()
        .expect("every queued folder is listed once")?;
    for child in children {
        let path = child.path;
        match child.kind {
            Kind::File {
                rel,
                size,
                stamp,
                link,
            } => out.push(Found::File {
                path,
                rel,
                size,
                stamp,
                link,
            }),
            Kind::Dir { rel, id, stamp } => {
                out.push(Found::Dir { rel, stamp });
                flatten(listings, id, out)?;
            }
            Kind::SkippedLink { dangling } => out.push(Found::SkippedLink { path, dangling }),
            Kind::Failed(e) => return Err(e),
        }
    }
    Ok(())
}

/// A folder's entries in path order, or why it could not be listed.
type Listing = Result<Vec<Child>, Error>;

struct Child {
    /// Where the entry is.
    path: PathBuf,
    /// Where its name starts in `path`: the sort key, without a copy.
    name_at: usize,
    kind: Kind,
}

impl Child {
    fn name(&self) -> &[u8] {
        &self.path.as_os_str().as_encoded_bytes()[self.name_at..]
    }

    /// Orders siblings so that the whole walk is in byte order of the
    /// entries' paths: a folder sorts as its name and a `/`, which is where
    /// everything in it sorts (`a-b` before `a/x`, as `-` < `/`).
    fn cmp_as_paths(&self, other: &Child) -> std::cmp::Ordering {
        fn key(c: &Child) -> impl Iterator<Item = u8> + '_ {
            let slash: &[u8] = if matches!(c.kind, Kind::Dir { .. }) {
                b"/"
            } else {
                b""
            };
            c.name().iter().chain(slash).copied()
        }
        key(self).cmp(key(other))
    }
}

enum Kind {
    File {
        rel: String,
        size: u64,
        stamp: Option<Stamp>,
        link: bool,
    },
    /// A folder to enter; its listing is `id`.
    Dir {
        rel: String,
        id: usize,
        stamp: Option<Stamp>,
    },
    SkippedLink {
        dangling: bool,
    },
    /// The walk stops here.
    Failed(Error),
}

/// The folders on the way down to a folder: where the walk found each one
/// and where it really is, to catch links that lead back up.
struct Chain {
    walk: PathBuf,
    real: PathBuf,
    parent: Option<Arc<Chain>>,
}

impl Chain {
    /// The first folder on the way down that `target` holds (or is): a link
    /// to it would lead to that folder again, forever.
    fn held_by(self: &Arc<Chain>, target: &Path) -> Option<&Path> {
        let mut at = Some(self);
        while let Some(c) = at {
            if c.real.starts_with(target) {
                return Some(&c.walk);
            }
            at = c.parent.as_ref();
        }
        None
    }
}

struct Job {
    id: usize,
    rel: String,
    chain: Arc<Chain>,
}

struct State {
    /// Folders waiting to be listed (a stack: depth first keeps the kernel's
    /// caches warm).
    queue: Vec<Job>,
    /// Folders being listed now.
    busy: usize,
    done: Vec<(usize, Listing)>,
    /// A thread panicked: the others leave (crate::wake_on_panic).
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    next_id: AtomicUsize,
}

impl Shared {
    /// Lists folders until there are none left to list or being listed.
    fn work(&self, rules: &dyn Rules) {
        let _stop_others = WakeOnPanic(|| {
            self.state.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
            self.wake.notify_all();
        });
        loop {
            let job = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if state.stop {
                        return;
                    }
                    if let Some(job) = state.queue.pop() {
                        state.busy += 1;
                        break job;
                    }
                    if state.busy == 0 {
                        return;
                    }
                    state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
                }
            };
            let id = job.id;
            let mut subfolders = Vec::new();
            let listing = self.list(job, rules, &mut subfolders);
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            // Wake the idle only for work they can take, or to let them go
            // when there is none left: a wake-up is a system call.
            let new_work = subfolders.len();
            state.queue.extend(subfolders);
            state.done.push((id, listing));
            state.busy -= 1;
            let finished = state.busy == 0 && state.queue.is_empty();
            drop(state);
            if finished || new_work > 1 {
                self.wake.notify_all();
            } else if new_work == 1 {
                self.wake.notify_one();
            }
        }
    }

    /// Lists one folder; the folders to enter go to `subfolders`.
    fn list(&self, job: Job, rules: &dyn Rules, subfolders: &mut Vec<Job>) -> Listing {
        let dir = &job.chain.walk;
        let io = |source| Error::Io {
            path: dir.clone(),
            source,
        };
        let mut children = Vec::new();
        for dent in std::fs::read_dir(dir).map_err(io)? {
            let dent = dent.map_err(io)?;
            let path = dent.path();
            let name_len = path.file_name().map_or(0, OsStr::len);
            if let Some(kind) = self.classify(&job, &dent, &path, rules, subfolders) {
                children.push(Child {
                    name_at: path.as_os_str().len() - name_len,
                    path,
                    kind,
                });
            }
        }
        children.sort_unstable_by(Child::cmp_as_paths);
        Ok(children)
    }

    /// What one entry of `job`'s folder is; `None` when it is left out.
    fn classify(
        &self,
        job: &Job,
        dent: &std::fs::DirEntry,
        path: &Path,
        rules: &dyn Rules,
        subfolders: &mut Vec<Job>,
    ) -> Option<Kind> {
        let failed = |source| {
            Some(Kind::Failed(Error::Io {
                path: path.to_path_buf(),
                source,
            }))
        };
        let name = path.file_name()?;
        let file_type = match dent.file_type() {
            Ok(t) => t,
            Err(e) => return failed(e),
        };
        // The followed stat and canonical target of a link; for other
        // entries, the stat relative to the open folder (a folder's is taken
        // here, before it is listed, for the listing cache).
        let link = file_type.is_symlink();
        let (meta, target) = if link {
            match (std::fs::metadata(path), std::fs::canonicalize(path)) {
                (Ok(meta), Ok(target)) => (meta, Some(target)),
                _ => return Some(Kind::SkippedLink { dangling: true }),
            }
        } else {
            match dent.metadata() {
                Ok(meta) => (meta, None),
                Err(e) => return failed(e),
            }
        };
        let is_dir = meta.is_dir();
        if is_dir && !rules.enter(path, name) {
            return None;
        }
        if target.as_ref().is_some_and(|t| !rules.follow(t)) {
            return Some(Kind::SkippedLink { dangling: false });
        }
        let Some(utf8) = name.to_str() else {
            return Some(Kind::Failed(Error::NonUtf8Path(path.to_path_buf())));
        };
        let mut rel = String::with_capacity(job.rel.len() + 1 + utf8.len());
        if !job.rel.is_empty() {
            rel.push_str(&job.rel);
            rel.push('/');
        }
        rel.push_str(utf8);
        if is_dir {
            let real = match target {
                Some(target) => match job.chain.held_by(&target) {
                    Some(ancestor) => {
                        return Some(Kind::Failed(Error::SymlinkLoop {
                            path: path.to_path_buf(),
                            ancestor: ancestor.to_path_buf(),
                        }));
                    }
                    None => target,
                },
                None => job.chain.real.join(name),
            };
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            subfolders.push(Job {
                id,
                rel: rel.clone(),
                chain: Arc::new(Chain {
                    walk: path.to_path_buf(),
                    real,
                    parent: Some(job.chain.clone()),
                }),
            });
            return Some(Kind::Dir {
                rel,
                id,
                stamp: Stamp::of(&meta),
            });
        }
        Some(Kind::File {
            rel,
            size: meta.len(),
            stamp: Stamp::of(&meta),
            link,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct All;
    impl Rules for All {
        fn enter(&self, _: &Path, name: &OsStr) -> bool {
            name != "skip"
        }
        fn follow(&self, _: &Path) -> bool {
            true
        }
    }

    fn names(found: &[Found]) -> Vec<String> {
        found
            .iter()
            .map(|f| match f {
                Found::Dir { rel, .. } => format!("{rel}/"),
                Found::File { rel, size, .. } => format!("{rel} {size}"),
                Found::SkippedLink { path, .. } => format!("skipped {}", path.display()),
            })
            .collect()
    }

    #[test]
    fn path_order_folders_first_same_for_any_thread_count() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let files = [
            "b/z.py",
            "b/a/x",
            "a.txt",
            "B",
            "skip/no",
            "b/a/y/deep",
            "b-c.txt",
            "b/a-b",
        ];
        for (i, rel) in files.iter().enumerate() {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, vec![b'.'; i]).unwrap();
        }
        for n in 0..40 {
            let path = root.join(format!("many/{}/f", n % 7));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path.with_file_name(format!("f{n}")), b"").unwrap();
        }
        let one = names(&walk(&root, 1, &All).unwrap());
        let head = [
            "B 3",
            "a.txt 2",
            "b-c.txt 6",
            "b/",
            "b/a-b 7",
            "b/a/",
            "b/a/x 1",
            "b/a/y/",
            "b/a/y/deep 5",
            "b/z.py 0",
        ];
        assert_eq!(one[..head.len()], head);
        // Byte order of the paths (a folder's with its `/`), as in the zip.
        let keys: Vec<String> = one
            .iter()
            .map(|n| n.split(' ').next().unwrap().into())
            .collect();
        assert!(keys.is_sorted(), "{keys:?}");
        assert_eq!(one.len(), head.len() + 1 + 7 + 40);
        assert!(!one.iter().any(|n| n.contains("skip")));
        for threads in [2, 3, 8] {
            assert_eq!(names(&walk(&root, threads, &All).unwrap()), one);
        }
    }

    /// A panic on one listing thread (a bug in a rule, say) fails the walk
    /// with that panic; the other threads do not wait for it forever.
    #[test]
    fn a_panicking_thread_fails_the_walk_instead_of_hanging() {
        struct Buggy;
        impl Rules for Buggy {
            fn enter(&self, _: &Path, name: &OsStr) -> bool {
                assert!(name != "boom", "a bug in a rule");
                true
            }
            fn follow(&self, _: &Path) -> bool {
                true
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for n in 0..30 {
            std::fs::create_dir_all(root.join(format!("d{n}/e{n}"))).unwrap();
        }
        std::fs::create_dir_all(root.join("d7/e7/boom")).unwrap();
        let (sent, outcome) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let walked = std::panic::catch_unwind(|| walk(&root, 4, &Buggy));
            let _ = sent.send(walked.is_err());
        });
        let panicked = outcome
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the walk hung");
        assert!(panicked);
    }

    #[test]
    fn listing_threads_outnumber_workers_up_to_16() {
        assert_eq!(listing_threads(1), 4);
        assert_eq!(listing_threads(2), 8);
        assert_eq!(listing_threads(8), 16);
        assert_eq!(listing_threads(64), 64);
    }

    #[cfg(unix)]
    #[test]
    fn links_to_a_folder_on_the_way_down_are_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("c")).unwrap();
        // c/up -> a/b, and a/b/back -> c: each is fine alone, but together
        // a/b/back/up is a/b again.
        std::os::unix::fs::symlink(root.join("a/b"), root.join("c/up")).unwrap();
        let fine = names(&walk(&root, 2, &All).unwrap());
        assert_eq!(fine, ["a/", "a/b/", "c/", "c/up/"]);
        std::os::unix::fs::symlink(root.join("c"), root.join("a/b/back")).unwrap();
        let err = walk(&root, 2, &All).unwrap_err();
        let Error::SymlinkLoop { path, ancestor } = err else {
            panic!("{err:?}");
        };
        assert_eq!(path, root.join("a/b/back/up"));
        assert_eq!(ancestor, root.join("a/b"));
    }
}

//! The feed as an XML tree, in the element order of webpi-feed.md section 8
//! (Microsoft's gallery generator): plain data in, a [`Document`] out.

use std::collections::BTreeMap;

use crate::manifest::model::{App, CommandProduct, Dependency};
use crate::manifest::{Loaded, Project, dependency_rules};
use crate::xml_tree::{Document, Element};

use super::package_facts::PackageFacts;

/// The Atom namespace every WebPI element lives in, unprefixed.
pub const ATOM: &str = "http://www.w3.org/2005/Atom";
/// The feed format version iiswsgi 0.3 wrote, accepted by WebPI 3 to 5.
pub const WEBPI_FILE_VERSION: &str = "4.0.1.0";
/// The one language iiswsgi's entries are written in.
const LANGUAGE: &str = "en";

/// One app of the feed with its built package and where it is downloaded.
#[derive(Debug, Clone)]
pub struct AppEntry<'a> {
    pub project: &'a Project,
    pub package: PackageFacts,
    pub installer_url: String,
}

/// Everything the feed says, decided.
#[derive(Debug, Clone)]
pub struct FeedInput<'a> {
    pub loaded: &'a Loaded,
    pub title: String,
    /// The feed's own URL: its `link` and `id`.
    pub url: String,
    pub apps: Vec<AppEntry<'a>>,
    /// `updated`/`published`, as a Unix time.
    pub timestamp: i64,
}

/// The whole feed.
pub fn build(input: &FeedInput) -> Document {
    let updated = crate::calendar::utc_timestamp(input.timestamp);
    let first_app = input.apps.first().map(|a| a.project.app());
    let author = author(first_app, &input.title);
    let mut root = Element::new("feed")
        .attr("xmlns", ATOM)
        .child(Element::new("webpiFile").attr("version", WEBPI_FILE_VERSION))
        .child(Element::with_text("title", &input.title))
        .child(
            Element::new("link")
                .attr("rel", "self")
                .attr("href", &input.url),
        )
        .child(Element::with_text("updated", &updated))
        .child(author.clone())
        .child(Element::with_text("id", &input.url))
        .child(
            Element::new("resourcesList")
                .child(Element::new("resources").child(Element::with_text("culture", LANGUAGE))),
        )
        .child(
            Element::new("languages").child(
                Element::new("language")
                    .attr("default", "true")
                    .child(Element::with_text("languageId", LANGUAGE))
                    .child(Element::with_text("name", "English")),
            ),
        );
    let mut keywords = BTreeMap::new();
    for app in &input.apps {
        root = root.child(app_entry(app, &updated, input.loaded, &mut keywords));
    }
    if let Some(feed) = input.loaded.feed() {
        for product in &feed.products {
            root = root.child(command_entry(product, &updated, &author));
        }
    }
    if !keywords.is_empty() {
        let mut list = Element::new("keywords");
        for (id, label) in keywords {
            list = list.child(
                Element::with_text("keyword", label)
                    .attr("id", &id)
                    .attr("resourceName", format!("Keyword_{id}")),
            );
        }
        root = root.child(list);
    }
    let definitions = input.loaded.definitions();
    if !definitions.is_empty() {
        let mut list = Element::new("dependencies");
        for (id, dep) in definitions {
            let mut def = dependency(dep).attr("id", id);
            // `<dependency idref="X"/>` carries its meaning in the attribute;
            // keep `id` first, as Microsoft's feed does.
            def.attributes.sort_by_key(|(k, _)| k != "id");
            list = list.child(def);
        }
        root = root.child(list);
    }
    Document {
        prolog: Vec::new(),
        root,
    }
}

/// The keyword id WebPI can take for a label: its letters, digits and `_`.
pub fn keyword_id(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// `Name <mail>` → `Name`; WebPI shows the name and wants a URL, not a mail
/// address, in `uri`.
fn author(app: Option<&App>, fallback: &str) -> Element {
    let name = app
        .and_then(|a| a.authors.first())
        .map(|a| a.split('<').next().unwrap_or(a).trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| fallback.to_string());
    let uri = app.and_then(|a| a.author_url.as_ref().or(a.homepage.as_ref()));
    Element::new("author")
        .child(Element::with_text("name", name))
        .maybe(uri.map(|u| Element::with_text("uri", u)))
}

/// An entry's Atom id: its home page, or a URN made from the product id.
fn entry_id(homepage: Option<&String>, product_id: &str) -> String {
    homepage
        .cloned()
        .unwrap_or_else(|| format!("urn:iiswsgi:{product_id}"))
}

fn app_entry(
    entry: &AppEntry,
    updated: &str,
    loaded: &Loaded,
    keywords: &mut BTreeMap<String, String>,
) -> Element {
    let app = entry.project.app();
    let feed = entry.project.manifest.feed.clone().unwrap_or_default();
    let title = app.title.clone().unwrap_or_else(|| app.name.clone());
    let mut deps = feed.dependencies.clone();
    if feed.depend_on_web_deploy != Some(false)
        && !dependency_rules::mentions_web_deploy(&deps, loaded.definitions())
    {
        deps.push(Dependency::Product("WDeploy".into()));
    }
    let images = (app.icon_url.is_some() || !app.screenshot_urls.is_empty()).then(|| {
        let mut images = Element::new("images")
            .maybe(app.icon_url.as_ref().map(|u| Element::with_text("icon", u)));
        for url in &app.screenshot_urls {
            images = images.child(Element::with_text("screenshot", url));
        }
        images
    });
    let entry_keywords = (!app.keywords.is_empty()).then(|| {
        let mut list = Element::new("keywords");
        let mut seen = Vec::new();
        for label in &app.keywords {
            let id = keyword_id(label);
            if id.is_empty() || seen.contains(&id) {
                continue;
            }
            keywords.entry(id.clone()).or_insert_with(|| label.clone());
            list = list.child(Element::with_text("keywordId", &id));
            seen.push(id);
        }
        list
    });
    let related = (!feed.related.is_empty()).then(|| {
        let mut list = Element::new("related");
        for id in &feed.related {
            list = list
                .child(Element::new("relatedProduct").child(Element::with_text("productId", id)));
        }
        list
    });
    let installer = Element::new("installer")
        .child(Element::with_text("id", "1"))
        .child(Element::with_text("languageId", LANGUAGE))
        .maybe(
            app.license_url
                .as_ref()
                .map(|u| Element::with_text("eulaURL", u)),
        )
        .child(
            Element::new("installerFile")
                .child(Element::with_text(
                    "fileSize",
                    entry.package.size_kb().to_string(),
                ))
                .child(Element::with_text("installerURL", &entry.installer_url))
                .maybe(
                    app.homepage
                        .as_ref()
                        .map(|u| Element::with_text("displayURL", u)),
                )
                .child(Element::with_text("sha1", &entry.package.sha1)),
        )
        .child(
            Element::new("msDeploy").maybe(
                feed.start_page
                    .as_ref()
                    .map(|p| Element::with_text("startPage", p)),
            ),
        )
        .maybe(
            app.homepage
                .as_ref()
                .map(|u| Element::with_text("helpLink", u)),
        );
    Element::new("entry")
        .attr("type", "application")
        .child(Element::with_text("productId", &app.name))
        .child(Element::with_text("title", &title))
        .child(Element::with_text(
            "id",
            entry_id(app.homepage.as_ref(), &app.name),
        ))
        .child(Element::with_text(
            "summary",
            app.summary.clone().unwrap_or_else(|| title.clone()),
        ))
        .child(Element::with_text("updated", updated))
        .child(Element::with_text("published", updated))
        .maybe(
            app.description
                .as_ref()
                .map(|d| Element::with_text("longSummary", d.trim())),
        )
        .child(Element::with_text("version", &app.version))
        .maybe(
            app.homepage
                .as_ref()
                .map(|u| Element::new("link").attr("href", u)),
        )
        .maybe(images)
        .maybe(entry_keywords)
        .child(author(Some(app), &title))
        .maybe(related)
        .maybe(dependency_list(&deps))
        .child(Element::new("installers").child(installer))
}

fn command_entry(product: &CommandProduct, updated: &str, feed_author: &Element) -> Element {
    let mut command = Element::new("cmdLine")
        .child(Element::with_text("exe", &product.command))
        .child(Element::with_text(
            "commandLineArguments",
            &product.arguments,
        ));
    if product.ignore_exit_code {
        command = command.child(Element::with_text("ignoreExitCode", "true"));
    }
    Element::new("entry")
        .child(Element::with_text("productId", &product.product_id))
        .child(Element::with_text("title", &product.title))
        .child(Element::with_text(
            "id",
            entry_id(product.homepage.as_ref(), &product.product_id),
        ))
        .child(Element::with_text(
            "summary",
            product.summary.as_deref().unwrap_or(&product.title),
        ))
        .child(Element::with_text("updated", updated))
        .child(Element::with_text("published", updated))
        .child(Element::with_text("version", &product.version))
        .maybe(
            product
                .homepage
                .as_ref()
                .map(|u| Element::new("link").attr("href", u)),
        )
        .child(feed_author.clone())
        .maybe(dependency_list(&product.dependencies))
        .child(
            Element::new("installers").child(
                Element::new("installer")
                    .child(Element::with_text("id", "1"))
                    .child(Element::with_text("languageId", LANGUAGE))
                    .child(Element::new("installCommands").child(command)),
            ),
        )
}

/// An entry's single `dependency`: nothing, the one dependency unwrapped, or
/// an `and` of them all (WebPI wants two or more children in an `and`).
pub fn dependency_list(deps: &[Dependency]) -> Option<Element> {
    match deps {
        [] => None,
        [one] => Some(dependency(one)),
        many => Some(group("and", many)),
    }
}

/// One `dependency` element holding exactly one child (or an `idref`).
pub fn dependency(dep: &Dependency) -> Element {
    match dep {
        Dependency::Product(id) => {
            Element::new("dependency").child(Element::with_text("productId", id))
        }
        Dependency::All(g) => group("and", &g.all),
        Dependency::Any(g) => group("or", &g.any),
        Dependency::Ref(r) => Element::new("dependency").attr("idref", &r.name),
    }
}

fn group(kind: &str, deps: &[Dependency]) -> Element {
    let mut inner = Element::new(kind);
    for d in deps {
        inner = inner.child(dependency(d));
    }
    Element::new("dependency").child(inner)
}

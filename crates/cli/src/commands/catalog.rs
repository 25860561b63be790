use crate::render::{self, truncate};
use airisk_catalog::{Catalog, Library};
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Every framework catalog with its version, licence and item counts.
    List {
        /// Also load the catalog files in this folder.
        #[arg(long, value_name = "DIR")]
        with: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// One catalog (by id or framework name), or one item of it with its crosswalk mappings.
    Show {
        catalog: String,
        item: Option<String>,
        #[arg(long, value_name = "DIR")]
        with: Option<PathBuf>,
        /// Print the catalog as OSCAL catalog JSON.
        #[arg(long, conflicts_with = "item")]
        oscal: bool,
        #[arg(long)]
        json: bool,
    },
}

/// The built-in catalogs, plus the catalog and crosswalk files of `with`.
pub fn library(with: Option<&PathBuf>) -> Result<Library> {
    let mut library =
        Library::embedded().map_err(|e| anyhow!("loading the built-in catalogs: {e}"))?;
    if let Some(dir) = with {
        library
            .load_dir(dir)
            .map_err(|e| anyhow!("loading catalogs from {}: {e}", dir.display()))?;
    }
    Ok(library)
}

pub fn run(command: CatalogCommand) -> Result<ExitCode> {
    match command {
        CatalogCommand::List { with, json } => {
            let library = library(with.as_ref())?;
            let rows: Vec<Value> = library.catalogs().iter().map(summary).collect();
            if json {
                render::print_json(&json!({ "catalogs": rows }))?;
            } else {
                let mut table = render::table(&["ID", "Framework", "Version", "Items", "Licence"]);
                for c in library.catalogs() {
                    let counts: Vec<String> = c
                        .kind_counts()
                        .into_iter()
                        .map(|(k, n)| format!("{n} {k}"))
                        .collect();
                    table.add_row(vec![
                        c.id().to_string(),
                        truncate(&c.meta.name, 40),
                        c.meta.version.clone(),
                        counts.join(", "),
                        truncate(&c.meta.licence, 30),
                    ]);
                }
                println!("{table}");
            }
        }
        CatalogCommand::Show {
            catalog,
            item,
            with,
            oscal,
            json,
        } => {
            let library = library(with.as_ref())?;
            let cat = library.find_catalog(&catalog).map_err(|e| anyhow!("{e}"))?;
            if oscal {
                println!("{}", airisk_catalog::oscal::to_oscal_string(cat));
                return Ok(ExitCode::SUCCESS);
            }
            match item {
                None if json => render::print_json(&json!({
                    "catalog": summary(cat),
                    "items": cat.items().iter().map(|i| item_json(cat, i.id.as_str())).collect::<Vec<_>>(),
                }))?,
                None => {
                    println!("{} — {} ({})", cat.id(), cat.meta.name, cat.meta.version);
                    println!(
                        "licence: {}\nsource:  {}",
                        cat.meta.licence, cat.meta.source
                    );
                    let roots: Vec<&str> = cat.roots().map(|i| i.id.as_str()).collect();
                    for root in roots {
                        print_tree(cat, root, 0);
                    }
                }
                Some(id) => {
                    let Some(found) = cat.item(&id) else {
                        bail!("catalog {} has no item `{id}`", cat.id());
                    };
                    let mappings = library.mappings_from(cat.id(), &found.id);
                    if json {
                        let mut value = item_json(cat, &found.id);
                        value["mappings"] = mappings
                            .iter()
                            .map(|m| {
                                json!({
                                    "to": format!("{}:{}", m.to_catalog, m.to_item),
                                    "relationship": m.relationship.as_str(),
                                    "rationale": m.rationale,
                                    "crosswalk": m.crosswalk_id,
                                })
                            })
                            .collect();
                        render::print_json(&value)?;
                    } else {
                        let path: Vec<String> = cat
                            .ancestors(&found.id)
                            .iter()
                            .rev()
                            .map(|a| a.id.clone())
                            .collect();
                        println!("{}:{} — {}", cat.id(), found.id, found.title);
                        if !path.is_empty() {
                            println!("  under:     {}", path.join(" › "));
                        }
                        println!("  kind:      {}", found.kind);
                        if !found.description.is_empty() {
                            println!("  {}", found.description.trim());
                        }
                        for child in cat.children(&found.id) {
                            println!("  child:     {} — {}", child.id, child.title);
                        }
                        for m in mappings {
                            let title = library
                                .item(m.to_catalog, m.to_item)
                                .map(|i| i.title.as_str())
                                .unwrap_or("");
                            println!(
                                "  {} {}:{} — {}",
                                m.relationship.as_str(),
                                m.to_catalog,
                                m.to_item,
                                title
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `airisk crosswalk FROM TO`: the mappings between two frameworks, read from FROM to TO.
pub fn crosswalk(from: &str, to: &str, with: Option<&PathBuf>, json: bool) -> Result<ExitCode> {
    let library = library(with)?;
    let a = library.find_catalog(from).map_err(|e| anyhow!("{e}"))?;
    let b = library.find_catalog(to).map_err(|e| anyhow!("{e}"))?;
    let rows = library.crosswalk(a.id(), b.id());
    if rows.is_empty() {
        bail!("no crosswalk between {} and {}", a.id(), b.id());
    }
    if json {
        let rows: Vec<Value> = rows
            .iter()
            .map(|m| {
                json!({
                    "from": m.from_item, "to": m.to_item, "relationship": m.relationship.as_str(),
                    "rationale": m.rationale, "provenance": m.provenance, "crosswalk": m.crosswalk_id,
                })
            })
            .collect();
        render::print_json(&json!({ "from": a.id(), "to": b.id(), "mappings": rows }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = render::table(&[a.id(), "relationship", b.id(), "rationale"]);
    for m in &rows {
        let title = |cat: &Catalog, id: &str| {
            cat.item(id)
                .map(|i| format!("{id} {}", truncate(&i.title, 30)))
                .unwrap_or_else(|| id.to_string())
        };
        table.add_row(vec![
            title(a, m.from_item),
            m.relationship.as_str().to_string(),
            title(b, m.to_item),
            truncate(m.rationale, 60),
        ]);
    }
    println!("{table}");
    println!("{} mappings.", rows.len());
    Ok(ExitCode::SUCCESS)
}

fn summary(c: &Catalog) -> Value {
    json!({
        "id": c.id(),
        "framework": c.meta.framework,
        "name": c.meta.name,
        "version": c.meta.version,
        "licence": c.meta.licence,
        "source": c.meta.source,
        "items": c.items().len(),
        "kinds": c.kind_counts().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    })
}

fn item_json(cat: &Catalog, id: &str) -> Value {
    let item = cat.item(id);
    json!({
        "id": id,
        "kind": item.map(|i| i.kind.as_str()),
        "title": item.map(|i| i.title.as_str()),
        "description": item.map(|i| i.description.as_str()),
        "parent": item.and_then(|i| i.parent.as_deref()),
    })
}

fn print_tree(cat: &Catalog, id: &str, depth: usize) {
    if let Some(item) = cat.item(id) {
        println!(
            "{}{} {}",
            "  ".repeat(depth + 1),
            item.id,
            truncate(&item.title, 70)
        );
    }
    let children: Vec<&str> = cat.children(id).map(|i| i.id.as_str()).collect();
    for child in children {
        print_tree(cat, child, depth + 1);
    }
}

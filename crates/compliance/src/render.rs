//! The SoA and coverage as documents: Markdown, CSV and a self-contained HTML page.

use crate::coverage::Coverage;
use crate::soa::{Soa, SoaRow};
use maud::{html, Markup, PreEscaped, DOCTYPE};

fn justification_text(row: &SoaRow) -> String {
    row.justification
        .iter()
        .map(|r| match r.level {
            Some(level) => format!("{} ({level})", r.id),
            None => r.id.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn controls_text(row: &SoaRow) -> String {
    row.controls
        .iter()
        .map(|c| format!("{} ({})", c.id, c.status.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn evidence_text(row: &SoaRow) -> String {
    match (row.evidence_count, row.effectiveness) {
        (0, _) => "none".to_string(),
        (n, Some(rating)) => format!("{n} ({})", rating.as_str().replace('_', " ")),
        (n, None) => format!("{n} (untested)"),
    }
}

/// Why the row is (not) applicable: the reason for an exclusion, else the linked risks.
fn basis_text(row: &SoaRow) -> String {
    let risks = justification_text(row);
    match (&row.reason, risks.is_empty()) {
        (Some(reason), true) => reason.clone(),
        (Some(reason), false) => format!("{reason}; risks: {risks}"),
        (None, false) => format!("risks: {risks}"),
        (None, true) => String::new(),
    }
}

fn md_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

pub fn soa_markdown(soa: &Soa) -> String {
    let s = &soa.summary;
    let mut out = format!(
        "# Statement of Applicability: {}\n\nCatalog `{}`, as of {}. {} items: {} applicable, {} excluded, {} undecided; {} implemented, {} with evidence.\n\n",
        soa.framework, soa.catalog, soa.as_of, s.items, s.applicable, s.excluded, s.undecided, s.implemented, s.with_evidence
    );
    out.push_str("| Item | Title | Applicability | Reason / justification | Status | Owner | Controls | Evidence |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for row in &soa.rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_cell(&row.item),
            md_cell(&row.title),
            row.applicability.as_str(),
            md_cell(&basis_text(row)),
            row.status.as_str(),
            md_cell(&row.owners.join(", ")),
            md_cell(&controls_text(row)),
            evidence_text(row),
        ));
    }
    out.push_str(&format!("\n## Problems ({})\n\n", soa.problems.len()));
    if soa.problems.is_empty() {
        out.push_str("None.\n");
    }
    for p in &soa.problems {
        out.push_str(&format!("- `{}` {}\n", p.code, md_cell(&p.message)));
    }
    out
}

pub fn soa_csv(soa: &Soa) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "item",
        "reference",
        "title",
        "group",
        "applicability",
        "reason",
        "justification_risks",
        "status",
        "owners",
        "controls",
        "evidence_count",
        "effectiveness",
        "decided_by",
        "decided_on",
    ])?;
    for row in &soa.rows {
        writer.write_record([
            row.item.as_str(),
            row.reference.as_str(),
            row.title.as_str(),
            row.group.as_deref().unwrap_or(""),
            match row.applicability {
                crate::Applicability::ApplicableImplied => "applicable_implied",
                other => other.as_str(),
            },
            row.reason.as_deref().unwrap_or(""),
            &row.justification
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            row.status.as_str(),
            &row.owners.join(" "),
            &row.controls
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            &row.evidence_count.to_string(),
            row.effectiveness.map_or("", |r| r.as_str()),
            row.decided_by.as_deref().unwrap_or(""),
            &row.decided_on.map(|d| d.to_string()).unwrap_or_default(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:80rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}\
th{background:#f2f2f2}tr.excluded td{color:#555;background:#fafafa}tr.undecided td{background:#fff4e5}\
.problems li{margin:.2rem 0}code{background:#f2f2f2;padding:0 .2rem}\
@media print{body{margin:0}th{background:#eee!important}tr{break-inside:avoid}}";

pub fn soa_html(soa: &Soa) -> String {
    let s = &soa.summary;
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Statement of Applicability: " (soa.framework) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Statement of Applicability" }
                p { (soa.framework) " (catalog " code { (soa.catalog) } "), as of " (soa.as_of.to_string()) "." }
                p {
                    (s.items) " items: " (s.applicable) " applicable, " (s.excluded) " excluded, "
                    (s.undecided) " undecided; " (s.implemented) " implemented, " (s.with_evidence) " with evidence."
                }
                table {
                    caption { "Every item of the catalog, with its applicability, basis, status, owners, controls and evidence" }
                    thead { tr {
                        th scope="col" { "Item" } th scope="col" { "Title" } th scope="col" { "Applicability" }
                        th scope="col" { "Reason / justification" } th scope="col" { "Status" } th scope="col" { "Owner" }
                        th scope="col" { "Controls" } th scope="col" { "Evidence" }
                    } }
                    tbody {
                        @for row in &soa.rows {
                            tr class=(match row.applicability {
                                crate::Applicability::Excluded => "excluded",
                                crate::Applicability::Undecided => "undecided",
                                _ => "applicable",
                            }) {
                                th scope="row" { (row.item) }
                                td { (row.title) }
                                td { (row.applicability.as_str()) }
                                td { (basis_text(row)) }
                                td { (row.status.as_str()) }
                                td { (row.owners.join(", ")) }
                                td { (controls_text(row)) }
                                td { (evidence_text(row)) }
                            }
                        }
                    }
                }
                h2 { "Problems (" (soa.problems.len()) ")" }
                @if soa.problems.is_empty() { p { "None." } }
                ul.problems {
                    @for p in &soa.problems { li { code { (p.code) } " " (p.message) } }
                }
            }
        }
    };
    page.into_string()
}

pub fn coverage_markdown(coverage: &Coverage) -> String {
    let mut out = format!(
        "# Coverage: {}\n\nCatalog `{}`, as of {}. {} items counted ({} excluded): {} covered with evidence, {} covered without evidence, {} partial, {} uncovered. Covered {:.1}%, with evidence {:.1}%.\n\n",
        coverage.framework, coverage.catalog, coverage.as_of, coverage.items, coverage.excluded,
        coverage.evidenced, coverage.covered, coverage.partial, coverage.uncovered,
        coverage.percent_covered, coverage.percent_with_evidence
    );
    out.push_str("| Item | Title | State | Controls |\n|---|---|---|---|\n");
    for row in &coverage.rows {
        let controls = row
            .controls
            .iter()
            .map(|c| match &c.via {
                crate::Via::Direct => format!("{} ({})", c.control, c.status.as_str()),
                crate::Via::Crosswalk {
                    from, relationship, ..
                } => {
                    format!(
                        "{} ({}, via {from} {relationship})",
                        c.control,
                        c.status.as_str()
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md_cell(&row.item),
            md_cell(&row.title),
            row.state.as_str(),
            md_cell(&controls)
        ));
    }
    out
}

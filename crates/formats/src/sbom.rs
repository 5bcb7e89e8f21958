//! Software bills of materials: CycloneDX (JSON, passed through as conftest does after
//! checking it is a BOM) and SPDX tag-value documents (read into the JSON shape of SPDX 2.3,
//! as spdx/tools-golang marshals them for conftest).

use serde_json::{Map, Value};

use crate::FormatError;

/// CycloneDX JSON. conftest also reads CycloneDX XML through the Go structs of
/// cyclonedx-go; pave does not (the error says so).
pub(crate) fn cyclonedx(text: &str) -> Result<Value, FormatError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        return Err(FormatError::Syntax {
            format: "CycloneDX",
            line: 1,
            column: 1,
            message: "CycloneDX XML is not supported; use the JSON form (e.g. `cyclonedx convert --output-format json`)".into(),
        });
    }
    let value = crate::parse_json(text, "CycloneDX JSON")?;
    if value.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return Err(FormatError::Syntax {
            format: "CycloneDX",
            line: 1,
            column: 1,
            message: "not a CycloneDX BOM: `bomFormat` must be \"CycloneDX\"".into(),
        });
    }
    Ok(value)
}

/// Document-level tag names and their SPDX 2.3 JSON keys.
const DOCUMENT_TAGS: &[(&str, &str)] = &[
    ("SPDXVersion", "spdxVersion"),
    ("DataLicense", "dataLicense"),
    ("SPDXID", "SPDXID"),
    ("DocumentName", "name"),
    ("DocumentNamespace", "documentNamespace"),
    ("DocumentComment", "comment"),
];

const PACKAGE_TAGS: &[(&str, &str)] = &[
    ("PackageName", "name"),
    ("SPDXID", "SPDXID"),
    ("PackageVersion", "versionInfo"),
    ("PackageFileName", "packageFileName"),
    ("PackageSupplier", "supplier"),
    ("PackageOriginator", "originator"),
    ("PackageDownloadLocation", "downloadLocation"),
    ("FilesAnalyzed", "filesAnalyzed"),
    ("PackageHomePage", "homepage"),
    ("PackageLicenseConcluded", "licenseConcluded"),
    ("PackageLicenseDeclared", "licenseDeclared"),
    ("PackageCopyrightText", "copyrightText"),
    ("PackageSummary", "summary"),
    ("PackageDescription", "description"),
    ("PackageComment", "comment"),
];

const FILE_TAGS: &[(&str, &str)] = &[
    ("FileName", "fileName"),
    ("SPDXID", "SPDXID"),
    ("LicenseConcluded", "licenseConcluded"),
    ("FileCopyrightText", "copyrightText"),
    ("FileComment", "comment"),
];

/// SPDX tag-value (`Tag: value` lines, `<text>…</text>` spans) into SPDX 2.3 JSON: document
/// fields, `creationInfo` (`creators`, `created`, `comment`), `packages`, `files` and
/// `relationships`. Checksums, snippets and other-license sections are not mapped.
pub(crate) fn spdx(text: &str) -> Result<Value, FormatError> {
    let mut doc = Map::new();
    let mut creation = Map::new();
    let mut creators: Vec<Value> = Vec::new();
    let mut packages: Vec<Value> = Vec::new();
    let mut files: Vec<Value> = Vec::new();
    let mut relationships: Vec<Value> = Vec::new();
    enum Section {
        Document,
        Package,
        File,
    }
    let mut section = Section::Document;
    let mut lines = text.lines().enumerate();
    while let Some((n, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((tag, value)) = line.split_once(':') else {
            return Err(FormatError::line(
                "SPDX",
                n + 1,
                format!("expected `Tag: value`, found {line:?}"),
            ));
        };
        let tag = tag.trim();
        let mut value = value.trim().to_owned();
        if let Some(start) = value.strip_prefix("<text>") {
            value = start.to_owned();
            while !value.contains("</text>") {
                let Some((_, next)) = lines.next() else {
                    return Err(FormatError::line("SPDX", n + 1, "unclosed <text>".into()));
                };
                value.push('\n');
                value.push_str(next);
            }
            value = value.split("</text>").next().unwrap_or("").to_owned();
        }
        match tag {
            "PackageName" => {
                section = Section::Package;
                packages.push(Value::Object(Map::new()));
            }
            "FileName" => {
                section = Section::File;
                files.push(Value::Object(Map::new()));
            }
            "Creator" => {
                creators.push(Value::String(value));
                continue;
            }
            "Created" => {
                creation.insert("created".into(), Value::String(value));
                continue;
            }
            "CreatorComment" => {
                creation.insert("comment".into(), Value::String(value));
                continue;
            }
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                if let [element, kind, related] = parts[..] {
                    relationships.push(serde_json::json!({
                        "spdxElementId": element,
                        "relationshipType": kind,
                        "relatedSpdxElement": related,
                    }));
                }
                continue;
            }
            _ => {}
        }
        let (table, target) = match section {
            Section::Document => (DOCUMENT_TAGS, Some(&mut doc)),
            Section::Package => (
                PACKAGE_TAGS,
                packages.last_mut().and_then(Value::as_object_mut),
            ),
            Section::File => (FILE_TAGS, files.last_mut().and_then(Value::as_object_mut)),
        };
        if let (Some((_, key)), Some(target)) = (table.iter().find(|(t, _)| *t == tag), target) {
            let value = if *key == "filesAnalyzed" {
                Value::Bool(value.eq_ignore_ascii_case("true"))
            } else {
                Value::String(value)
            };
            target.insert((*key).to_owned(), value);
        }
    }
    if !doc.contains_key("spdxVersion") {
        return Err(FormatError::line(
            "SPDX",
            1,
            "not an SPDX tag-value document (no SPDXVersion)".into(),
        ));
    }
    creation.insert("creators".into(), Value::Array(creators));
    doc.insert("creationInfo".into(), Value::Object(creation));
    for (key, list) in [
        ("packages", packages),
        ("files", files),
        ("relationships", relationships),
    ] {
        if !list.is_empty() {
            doc.insert(key.into(), Value::Array(list));
        }
    }
    Ok(Value::Object(doc))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn spdx_tag_value_into_json() {
        let text = "SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: hello\nDocumentNamespace: https://x/y\nCreator: Person: Steve\nCreator: Tool: t\nCreated: 2021-08-26T01:46:00Z\n\nPackageName: hello\nSPDXID: SPDXRef-Package-hello\nPackageDownloadLocation: git+https://x\nFilesAnalyzed: true\nPackageLicenseConcluded: GPL-3.0-or-later\nPackageCopyrightText: <text>Copyright\nSteve</text>\nRelationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package-hello\n";
        assert_eq!(
            super::spdx(text).unwrap(),
            json!({
                "spdxVersion": "SPDX-2.2",
                "dataLicense": "CC0-1.0",
                "SPDXID": "SPDXRef-DOCUMENT",
                "name": "hello",
                "documentNamespace": "https://x/y",
                "creationInfo": {"creators": ["Person: Steve", "Tool: t"], "created": "2021-08-26T01:46:00Z"},
                "packages": [{
                    "name": "hello",
                    "SPDXID": "SPDXRef-Package-hello",
                    "downloadLocation": "git+https://x",
                    "filesAnalyzed": true,
                    "licenseConcluded": "GPL-3.0-or-later",
                    "copyrightText": "Copyright\nSteve"
                }],
                "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-hello"}]
            })
        );
        assert!(super::spdx("just text\n").is_err());
        assert!(super::spdx("DataLicense: x\n").is_err());
    }

    #[test]
    fn cyclonedx_json_only() {
        let bom = super::cyclonedx(r#"{"bomFormat": "CycloneDX", "specVersion": "1.3"}"#).unwrap();
        assert_eq!(bom["specVersion"], "1.3");
        assert!(super::cyclonedx("{\"a\": 1}").is_err());
        let err = super::cyclonedx("<?xml version=\"1.0\"?><bom/>").unwrap_err();
        assert!(err.to_string().contains("JSON form"), "{err}");
    }
}

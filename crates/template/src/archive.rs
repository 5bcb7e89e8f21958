//! A rendered tree as a zip archive, for the portal's Create page: the new repository to
//! download, every file under one folder named for it, executable bits kept.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::error::{Error, Result};
use crate::render::Rendered;

/// `files` as a zip archive with every path under `folder/`. Deterministic: no timestamps
/// but the format's default, entries in path order.
pub fn zip_archive(files: &Rendered, folder: &str) -> Result<Vec<u8>> {
    let size: usize = files.values().map(|f| f.contents.len()).sum();
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(size / 2 + 4096)));
    let failed = |e: &dyn std::fmt::Display| Error::Source(format!("building the archive: {e}"));
    for (path, file) in files {
        let mode = if file.executable { 0o755 } else { 0o644 };
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .unix_permissions(mode);
        zip.start_file(format!("{folder}/{path}"), options)
            .map_err(|e| failed(&e))?;
        zip.write_all(&file.contents).map_err(|e| failed(&e))?;
    }
    let cursor = zip.finish().map_err(|e| failed(&e))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::RenderedFile;

    #[test]
    fn every_file_is_under_the_folder_with_its_mode() {
        let mut files = Rendered::new();
        files.insert(
            "README.md".into(),
            RenderedFile {
                contents: b"# demo\n".to_vec(),
                executable: false,
            },
        );
        files.insert(
            "scripts/run.sh".into(),
            RenderedFile {
                contents: b"#!/bin/sh\necho hi\n".to_vec(),
                executable: true,
            },
        );
        let bytes = zip_archive(&files, "demo").unwrap();
        assert_eq!(zip_archive(&files, "demo").unwrap(), bytes, "deterministic");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        let mut names: Vec<(String, Option<u32>)> = (0..archive.len())
            .map(|i| {
                let entry = archive.by_index(i).unwrap();
                (
                    entry.name().unwrap().into_owned(),
                    entry.unix_mode().map(|m| m & 0o777),
                )
            })
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("demo/README.md".to_owned(), Some(0o644)),
                ("demo/scripts/run.sh".to_owned(), Some(0o755)),
            ]
        );
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut archive.by_name("demo/scripts/run.sh").unwrap(),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "#!/bin/sh\necho hi\n");
    }
}

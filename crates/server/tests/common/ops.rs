//! Fixtures of the operations pages' tests (router and browser): a catalog folder whose
//! second file has a problem at a known position, and a second catalog to register.

use std::path::{Path, PathBuf};

pub(crate) const CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: [], members: [own]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: own}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: shop}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: other}
spec: {type: service, lifecycle: production, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: more}
spec: {targets: [./broken.yaml]}
";

/// A file with one good entity and one the catalog rejects at a known position.
pub(crate) const BROKEN: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: fine}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: bad name!
spec: {type: service, lifecycle: production, owner: team-a}
";

/// A second catalog, registered from the portal.
pub(crate) const SECOND: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: billing}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: billing-api}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: x}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: billing-worker}
spec: {type: service, lifecycle: 7, owner: team-a}
";

/// Writes the fixtures under `dir`: `secret-folder/team/` (the catalog and `broken.yaml`,
/// returned) and `second/catalog-info.yaml`. The folder names are what no page may show.
pub(crate) fn write_fixtures(dir: &Path) -> PathBuf {
    let catalog = dir.join("secret-folder").join("team");
    std::fs::create_dir_all(&catalog).unwrap();
    std::fs::write(catalog.join("catalog-info.yaml"), CATALOG).unwrap();
    std::fs::write(catalog.join("broken.yaml"), BROKEN).unwrap();
    let second = dir.join("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(second.join("catalog-info.yaml"), SECOND).unwrap();
    catalog
}

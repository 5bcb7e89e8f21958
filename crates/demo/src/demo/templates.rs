//! A golden path registered in the catalog rather than built into pave: the Developer
//! Experience team's Python library template. Its `kind: Template` entity names the pave
//! template folder beside it (`pave.dev/template-ref: dir:./template`), so the portal's Create
//! page lists it next to the built-in ones and renders it from the registered source.

use serde_json::{Value, json};

/// The entity's file, relative to the demo's root; the template folder is beside it.
pub(super) const ENTITY_FILE: &str = "templates/python-library/catalog-info.yaml";
/// The pave template folder, relative to the demo's root.
pub(super) const TEMPLATE_DIR: &str = "templates/python-library/template";

/// The Template entity (Backstage's scaffolder kind, so Backstage reads the file too).
pub(super) fn entity() -> Value {
    json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": "python-library",
            "title": "Python library",
            "description": "A Python package for shared code, with uv, ruff, pytest, CI and its catalog entry. Rendered by pave from the folder its pave.dev/template-ref annotation names.",
            "tags": ["python", "library"],
            "annotations": {"pave.dev/template-ref": "dir:./template"},
        },
        "spec": {
            "type": "library",
            "owner": "developer-experience",
            "lifecycle": "production",
            "steps": [],
        },
    })
}

/// The template folder's files (relative to it) and their text: fixed, so every run writes
/// the same bytes.
pub(super) fn files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("template.yaml", MANIFEST),
        ("skeleton/README.md", README),
        ("skeleton/pyproject.toml", PYPROJECT),
        ("skeleton/catalog-info.yaml", CATALOG_INFO),
        ("skeleton/src/{{ name | snake_case }}/__init__.py", INIT),
        ("skeleton/src/{{ name | snake_case }}/py.typed", ""),
        ("skeleton/tests/test_version.py", TEST),
        ("skeleton/.github/workflows/ci.yaml", WORKFLOW),
    ]
}

const MANIFEST: &str = r#"# A pave golden-path template (docs/templates.md), registered in the catalog by the
# Template entity in ../catalog-info.yaml.
apiVersion: pave.dev/v1alpha1
kind: Template
metadata:
  name: python-library
  title: Python library
  description: >-
    A Python package for code shared between Northwind's services: pyproject.toml for uv,
    ruff and pytest, a GitHub Actions workflow, a README and its catalog entry.
  tags: [python, library]
spec:
  version: 1.0.0
  type: library
  parameters:
    type: object
    required: [name, owner]
    additionalProperties: false
    properties:
      name:
        type: string
        description: Package name (lowercase letters, digits and dashes; also the repository name)
        pattern: "^[a-z][a-z0-9-]{1,38}[a-z0-9]$"
      owner:
        type: string
        description: Owning team, a catalog Group (e.g. data-engineering)
        pattern: "^[a-z0-9][a-z0-9-]{0,62}$"
      description:
        type: string
        description: One sentence on what the library is for
        default: A shared Python library.
      python:
        type: string
        description: Lowest Python version supported
        enum: ["3.12", "3.13"]
        default: "3.12"
      typed:
        type: boolean
        description: Ship type information (a py.typed marker)
        default: true
  files:
    conditions:
      - if: "typed"
        paths: ["src/*/py.typed"]
"#;

const README: &str = r#"# {{ name }}

{{ description }}

Owned by {{ owner }}. Made from the `{{ template.name }}` golden path, version
{{ template.version }}.

```sh
uv sync
uv run pytest
uv run ruff check
```
"#;

const PYPROJECT: &str = r#"[project]
name = "{{ name }}"
version = "0.1.0"
description = {{ description | tojson }}
requires-python = ">={{ python }}"
dependencies = []

[dependency-groups]
dev = ["pytest>=8", "ruff>=0.6"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.ruff]
target-version = "py{{ python | replace('.', '') }}"
"#;

const CATALOG_INFO: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {{ name }}
  description: {{ description | tojson }}
  annotations:
    github.com/project-slug: northwind/{{ name }}
    pave.dev/template: {{ template.name }}
    pave.dev/template-version: {{ template.version | tojson }}
    pave.dev/template-source: template:default/python-library
  tags: [python, library]
spec:
  type: library
  lifecycle: experimental
  owner: {{ owner }}
"#;

const INIT: &str = r#""""{{ description }}"""

__version__ = "0.1.0"
"#;

const TEST: &str = r#"from {{ name | snake_case }} import __version__


def test_version() -> None:
    assert __version__ == "0.1.0"
"#;

const WORKFLOW: &str = r#"name: ci
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - uses: astral-sh/setup-uv@v6
      - run: uv sync
      - run: uv run ruff check
      - run: uv run pytest
"#;

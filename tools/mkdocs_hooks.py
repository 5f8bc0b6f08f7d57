"""mkdocs hooks: make ``mkdocs build --strict`` fail on an undocumented public name, or on a guide
link into the API reference that goes nowhere (a warning fails a strict build)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import griffe

log = logging.getLogger("mkdocs.hooks.reference")

PACKAGES = ["restate_sdk", "restate_ingress", "restate_mocks", "restate_testing", "restate_otel"]
ROOT = Path(__file__).resolve().parents[1]
SEARCH = [str(ROOT / "packages" / p / "src") for p in ("sdk", "ingress", "mocks", "testing", "otel")]


def _undocumented(obj: griffe.Object | griffe.Alias, path: str) -> list[str]:
    """``path`` and its public members (classes: their methods and properties) without a docstring."""
    target = obj.final_target if isinstance(obj, griffe.Alias) else obj
    missing = [] if target.docstring and target.docstring.value.strip() else [path]
    if target.kind is griffe.Kind.CLASS:
        for name, member in target.members.items():
            if name.startswith("_") or member.is_alias:
                continue
            if member.kind in (griffe.Kind.FUNCTION, griffe.Kind.CLASS) and not (
                member.docstring and member.docstring.value.strip()
            ):
                missing.append(f"{path}.{name}")
    return missing


def on_config(config: Any) -> Any:
    for package in PACKAGES:
        module = griffe.load(package, search_paths=SEARCH, resolve_aliases=True)
        exported = module.exports or []
        if not exported:
            log.warning("%s has no __all__: its public names cannot be checked", package)
        for name in exported:
            name = str(name)
            if name.startswith("__"):  # __version__ and the like
                continue
            for path in _undocumented(module[name], f"{package}.{name}"):
                log.warning("undocumented public name: %s", path)
    return config


_REFERENCE_LINK = re.compile(r"\]\((reference/[^)#\s]+)(?:#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    base = Path(page.file.src_path).parent
    for target in _REFERENCE_LINK.findall(markdown):
        if not (Path(config["docs_dir"]) / base / target).is_file():
            log.warning("%s links to %s, which does not exist", page.file.src_path, target)
    return markdown

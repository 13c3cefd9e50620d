"""MkDocs hooks of the shopfloor site: pages made from the code and the repository's READMEs.

Nothing on these pages is a hand copy:

* ``reference/cli.md``: every subcommand's ``--help``, from ``shopfloor.cli.build_parser``;
* ``concepts/env-families/<Class>.md``: the spec sheet (class docstring) of every env
  registered under the ``shopfloor/`` namespace of Gymnasium's registry, grouped by class,
  added to the nav under "Env families";
* ``results.md``, ``reference/scenario-files.md``, ``reference/agents.md``: the READMEs of
  ``experiments/``, ``envs/`` and ``agents/``, with links between them made site links and
  links to other repository files shown as paths;
* a line ``<!-- readme: Quick start -->`` in a page: that section of the top-level README;
* ``shopfloor/DynamicJobShop-v{latest}`` in a page: the family's current registered id.

Sphinx roles left in docstrings (``:class:`~shopfloor.sim.Factory```) become code, linked
to the API reference where the name is found there.

The rendering functions need only the standard library and shopfloor (the tests call
them without MkDocs); MkDocs is imported inside the event handlers.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (this file is ``docs/_hooks/shopfloor_docs.py``)."""

CLI_PAGE = "reference/cli.md"
ENV_FAMILY_DIR = "concepts/env-families"
ENV_FAMILY_NAV = "Env families"
README_PAGES = {
    "experiments/README.md": "results.md",
    "envs/README.md": "reference/scenario-files.md",
    "agents/README.md": "reference/agents.md",
}
"""Repository README -> site page."""

HELP_COLUMNS = 76
"""Width of the rendered ``--help`` text."""


# ----------------------------------------------------------------------------- CLI


def _subcommands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ("shopfloor",)
) -> Iterator[tuple[tuple[str, ...], str, argparse.ArgumentParser]]:
    """Every subcommand under ``parser``, depth first: (words, one-line help, parser)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            path = (*words, name)
            yield path, helps.get(name, ""), sub
            yield from _subcommands(sub, path)


def _help_text(parser: argparse.ArgumentParser) -> str:
    """``parser``'s ``--help`` at :data:`HELP_COLUMNS` columns, without colour codes."""
    if hasattr(parser, "color"):  # Python 3.14: argparse colours help on a terminal
        parser.color = False
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_COLUMNS + 2)  # argparse leaves two columns free
    try:
        return parser.format_help().rstrip()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def cli_commands(parser: argparse.ArgumentParser | None = None) -> list[str]:
    """Every subcommand of the ``shopfloor`` command, as ``"shopfloor plot"`` etc."""
    if parser is None:
        from shopfloor.cli import build_parser

        parser = build_parser()
    return [" ".join(words) for words, _, _ in _subcommands(parser)]


def cli_reference_markdown(parser: argparse.ArgumentParser | None = None) -> str:
    """The CLI reference page: the command's help, then each subcommand's."""
    if parser is None:
        from shopfloor.cli import build_parser

        parser = build_parser()
    lines = [
        "# CLI reference",
        "",
        "Generated from the command's argument parser (`shopfloor.cli.build_parser`) when the",
        "site is built: the same text as `shopfloor <command> --help`.",
        "",
        "A failure is one line on stderr (exit 2 for a user error, 70 for a bug);",
        "`shopfloor --debug <command> ...` adds the traceback.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    commands = list(_subcommands(parser))
    for words, summary, _ in commands:
        name = " ".join(words)
        lines.append(f"| [`{name}`](#{_slug(name)}) | {_table_cell(summary)} |")
    lines += ["", "## shopfloor", "", "```text", _help_text(parser), "```", ""]
    for words, summary, sub in commands:
        name = " ".join(words)
        lines += [f"## {name}", ""]
        if summary:
            lines += [_sentence(summary), ""]
        lines += ["```text", _help_text(sub), "```", ""]
    return "\n".join(lines)


def _slug(text: str) -> str:
    """The anchor Python-Markdown's ``toc`` gives a heading of plain words."""
    slug = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", slug)


def _table_cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


# ----------------------------------------------------------------------- env families


def _load_entry_point(entry_point: Any) -> Any:
    """The class behind a Gymnasium entry point (``"module:Class"`` or the class)."""
    if not isinstance(entry_point, str):
        return entry_point
    module_name, _, attribute = entry_point.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def env_families() -> list[tuple[type, list[str]]]:
    """Each env class registered under ``shopfloor/``, with its ids, in registration order."""
    import gymnasium as gym

    import shopfloor.envs  # noqa: F401  (registers the ids)

    families: dict[type, list[str]] = {}
    for env_id, spec in gym.registry.items():
        if spec.namespace != "shopfloor":
            continue
        entry_point = spec.entry_point or spec.vector_entry_point
        if entry_point is None:
            continue
        env_class = _load_entry_point(entry_point)
        families.setdefault(env_class, []).append(env_id)
    return list(families.items())


def env_family_page(env_class: type, env_ids: list[str]) -> str:
    """A spec sheet page: the ids, how to make the env, and the class docstring."""
    ids = ", ".join(f"`{env_id}`" for env_id in env_ids)
    public = f"shopfloor.envs.{env_class.__name__}"
    doc = inspect.getdoc(env_class) or "(This class has no docstring.)"
    is_vector = any(_registry_spec(env_id).entry_point is None for env_id in env_ids)
    make = "gym.make_vec" if is_vector else "gym.make"
    extra = ', num_envs=8, vectorization_mode="vector_entry_point"' if is_vector else ""
    title = env_ids[0].split("/", 1)[1].rsplit("-v", 1)[0]
    lines = [
        f"# {title}",
        "",
        f"[](){{#spec-sheet-{env_class.__name__}}}",
        "",
        f"Registered ids: {ids}. Class: `{public}` (API: [`{env_class.__name__}`][{public}]).",
        "",
        "```python",
        "import gymnasium as gym",
        "import shopfloor.envs  # registers the ids",
        "",
        f'env = {make}("{env_ids[-1]}"{extra})',
        "```",
        "",
        "The spec sheet below is the class docstring.",
        "",
        doc,
        "",
    ]
    return "\n".join(lines)


def _registry_spec(env_id: str) -> Any:
    """Gymnasium's registry entry of ``env_id``."""
    import gymnasium as gym

    return gym.registry[env_id]


def env_family_pages() -> list[tuple[str, str, str]]:
    """(nav title, page path, Markdown) of every env family."""
    pages = []
    for env_class, env_ids in env_families():
        title = env_ids[0].split("/", 1)[1].rsplit("-v", 1)[0]
        path = f"{ENV_FAMILY_DIR}/{env_class.__name__}.md"
        pages.append((title, path, env_family_page(env_class, env_ids)))
    return pages


# --------------------------------------------------------------------------- READMEs

_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")


def _relative(from_page: str, to_page: str) -> str:
    """The relative link from site page ``from_page`` to ``to_page``."""
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")


def readme_markdown(readme: str, text: str) -> tuple[str, list[str]]:
    """A README's Markdown as a site page, and the repository files its images show.

    Args:
        readme: The README's repository path, e.g. ``"experiments/README.md"``.
        text: Its content.

    Returns:
        The page's Markdown: links to another README with a page become site links;
        other links into the repository become the path in code (the site holds no
        copy); images are kept and their repository paths returned (the hook copies
        them). Fenced code is left alone.
    """
    page = README_PAGES[readme]
    folder = posixpath.dirname(readme)
    images: list[str] = []

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):  # a URL or an anchor of this page
            return match[0]
        path, hash_, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(folder, path))
        if match["bang"]:
            images.append(repo_path)
            return f"![{match['text']}]({_relative(page, repo_path)})"
        if repo_path in README_PAGES:
            link = _relative(page, README_PAGES[repo_path]) + hash_ + anchor
            return f"[{match['text']}]({link})"
        shown = f"`{repo_path}`"
        return shown if match["text"].strip("`") == repo_path else f"{match['text']} ({shown})"

    parts = _FENCE.split(text)
    out: list[str] = []
    inside = False
    index = 0
    while index < len(parts):
        chunk = parts[index]
        if index % 2 == 1:  # a fence marker
            out.append(chunk)
            inside = not inside
        else:
            out.append(chunk if inside else _LINK.sub(rewrite, chunk))
        index += 1
    return "".join(out), images


def agents_fallback_markdown() -> str:
    """``reference/agents.md`` while ``agents/README.md`` is missing: the files there."""
    names = sorted(path.name for path in (ROOT / "agents").glob("*.yaml"))
    lines = [
        "# Agent hyperparameters",
        "",
        "One YAML per algorithm in `agents/`, keyed by env id with a `default:` entry;",
        "see `shopfloor.agents.load_hyperparameters` in the API reference.",
        "",
    ]
    lines += [f"* `agents/{name}`" for name in names]
    return "\n".join(lines) + "\n"


def readme_pages() -> list[tuple[str, str, list[str]]]:
    """(page path, Markdown, image paths) of every README page."""
    pages = []
    for readme, page in README_PAGES.items():
        source = ROOT / readme
        if source.is_file():
            markdown, images = readme_markdown(readme, source.read_text(encoding="utf-8"))
        elif readme == "agents/README.md":
            markdown, images = agents_fallback_markdown(), []
        else:
            raise FileNotFoundError(f"{readme}: missing; the docs page {page} is made from it")
        pages.append((page, markdown, images))
    return pages


_README_SECTION = re.compile(r"^<!-- readme: (?P<title>[^>]+?) -->$", re.MULTILINE)


def readme_section(title: str, text: str | None = None) -> str:
    """The body of the top-level README's section whose ``##`` heading starts with ``title``.

    Raises:
        LookupError: The README has no such section.
    """
    if text is None:
        text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    heading = f"## {title}"
    found = [i for i, line in enumerate(lines) if line.startswith(heading)]
    if not found:
        raise LookupError(f"README.md: no section '{heading}' (a docs page includes it)")
    start = found[0] + 1
    end = len(lines)
    fenced = False
    for index in range(start, len(lines)):
        if lines[index].startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r"^#{1,2} ", lines[index]):
            end = index
            break
    return "\n".join(lines[start:end]).strip() + "\n"


_LATEST_ID = re.compile(r"shopfloor/(?P<name>[A-Za-z]+)-v\{latest\}")


def latest_env_id(name: str) -> str:
    """The registered id of env family ``name`` with the highest version.

    Raises:
        LookupError: No ``shopfloor/<name>-v<N>`` is registered.
    """
    import gymnasium as gym

    import shopfloor.envs  # noqa: F401  (registers the ids)

    versions = [
        spec.version
        for spec in gym.registry.values()
        if spec.namespace == "shopfloor" and spec.name == name and spec.version is not None
    ]
    if not versions:
        raise LookupError(f"shopfloor/{name}-v{{latest}}: no such env is registered")
    return f"shopfloor/{name}-v{max(versions)}"


def fill_in_env_ids(markdown: str) -> str:
    """Replace ``shopfloor/<Name>-v{latest}`` with the family's current id.

    The pages name an env whose version may go up this way, so that their examples
    stay runnable (the tests run them) without a hand edit per version.
    """
    return _LATEST_ID.sub(lambda match: latest_env_id(match["name"]), markdown)


def include_readme_sections(markdown: str) -> str:
    """Replace each ``<!-- readme: Title -->`` line with that README section's body."""
    return _README_SECTION.sub(lambda match: readme_section(match["title"]), markdown)


# ------------------------------------------------------------------------ roles

_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const|attribute|function|method)"
    r":<code>(?P<tilde>~?)(?P<name>[\w.]+)(?:\(\))?</code>"
)


def _api_package(page_url: str) -> str | None:
    """``"shopfloor.sim"`` for an API reference page's URL (``reference/api/sim/``)."""
    match = re.match(r"reference/api/(\w+)/?$", page_url)
    return f"shopfloor.{match[1]}" if match else None


def replace_roles(html: str, page_url: str = "") -> str:
    """Sphinx roles rendered as ``:class:<code>X</code>`` become optional cross-references.

    A name that is not found in the API reference is left as plain code (no warning).
    On an API page, a short name is looked up in that page's package.
    """
    package = _api_package(page_url)

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        shown = name.rsplit(".", 1)[-1] if match["tilde"] else name
        identifier = name
        if package and not name.startswith("shopfloor."):
            identifier = f"{package}.{name}"
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(replace, html)


# ------------------------------------------------------------------ MkDocs events


def on_config(config: Any) -> Any:
    """Add each env family's spec sheet to the nav; snippets read from the repository."""
    snippets = config["mdx_configs"].setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(ROOT)]
    pages = env_family_pages()

    def visit(items: list[Any]) -> bool:
        for item in items:
            if isinstance(item, dict):
                for key, value in item.items():
                    if key == ENV_FAMILY_NAV and isinstance(value, list):
                        value.extend({title: path} for title, path, _ in pages)
                        return True
                    if isinstance(value, list) and visit(value):
                        return True
        return False

    if config.get("nav") and not visit(config["nav"]):
        raise ValueError(f"mkdocs.yml: nav has no '{ENV_FAMILY_NAV}' section with a list")
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages (CLI, env families, READMEs) and the READMEs' images."""
    from mkdocs.structure.files import File

    generated = [(CLI_PAGE, cli_reference_markdown())]
    generated += [(path, markdown) for _, path, markdown in env_family_pages()]
    for page, markdown, images in readme_pages():
        generated.append((page, markdown))
        for image in images:
            source = ROOT / image
            if not source.is_file():
                raise FileNotFoundError(f"{image}: shown in a README but missing")
            files.append(File.generated(config, image, abs_src_path=str(source)))
    for path, markdown in generated:
        files.append(File.generated(config, path, content=markdown))
    return files


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fill in the README sections that pages include and the current env ids."""
    return fill_in_env_ids(include_readme_sections(markdown))


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    """Turn Sphinx roles in docstrings into code, linked where the API reference has it."""
    return replace_roles(html, page.url)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """Rebuild on changes to the READMEs and the CLI too (``mkdocs serve``)."""
    server.watch(str(ROOT / "README.md"))
    for readme in README_PAGES:  # the files, not their folders (runs are written there)
        if (ROOT / readme).is_file():
            server.watch(str(ROOT / readme))
    server.watch(str(ROOT / "src" / "shopfloor"))
    return server

"""The documentation site: its generated pages, its code examples and its strict build.

The pages made when the site is built come from ``docs/_hooks/shopfloor_docs.py`` (an
MkDocs hook, not part of the package); these tests load it by path and call its
rendering functions directly, so they need no MkDocs. Only the full build does.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import gymnasium as gym
import pytest

from shopfloor.cli import build_parser
from shopfloor.cli import main as shopfloor_main
from shopfloor.envs import ENV_IDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

API_PACKAGES = (  # the packages of the API reference, in layer order
    "sim",
    "instances",
    "scenario",
    "envs",
    "batch",
    "policies",
    "agents",
    "experiments",
    "forecast",
    "plots",
)

SPEC_SHEET_SECTIONS = (
    "## Description",
    "## Action Space",
    "## Observation Space",
    "## Rewards",
    "## Episode End",
    "## Arguments",
    "## Version History",
)


def _load_hooks() -> ModuleType:
    path = DOCS / "_hooks" / "shopfloor_docs.py"
    spec = importlib.util.spec_from_file_location("shopfloor_docs_hooks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _load_hooks()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of ``parser``, read from argparse (not from the hook)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def _section(markdown: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    start = markdown.index(heading + "\n")
    rest = markdown[start + len(heading) + 1 :]
    following = re.search(r"^## ", rest, re.MULTILINE)
    return rest[: following.start()] if following else rest


# --------------------------------------------------------------------- CLI reference


def test_cli_reference_documents_every_subcommand_and_option() -> None:
    parser = build_parser()
    markdown = hooks.cli_reference_markdown(parser)
    commands = _subparsers(parser)
    assert len(commands) >= 10
    for name, sub in commands.items():
        section = _section(markdown, f"## shopfloor {name}")
        assert f"usage: shopfloor {name}" in section
        for action in sub._actions:
            for option in action.option_strings:
                assert option in section, f"shopfloor {name}: {option} missing"
        assert f"[`shopfloor {name}`](#shopfloor-{name})" in markdown
    assert hooks.cli_commands(parser) == [f"shopfloor {name}" for name in commands]


def test_cli_reference_is_plain_text_that_fits_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # the terminal's width does not matter
    monkeypatch.setenv("FORCE_COLOR", "1")
    markdown = hooks.cli_reference_markdown()
    assert "\x1b" not in markdown
    blocks = re.findall(r"```text\n(.*?)```", markdown, re.DOTALL)
    assert len(blocks) == len(_subparsers(build_parser())) + 1
    for block in blocks:
        for line in block.splitlines():
            # argparse breaks only between words; a long choice list may overrun.
            assert len(line) <= hooks.HELP_COLUMNS or " " not in line.strip(), line
    assert os.environ["COLUMNS"] == "300"  # restored


def test_cli_reference_walks_nested_subcommands() -> None:
    parser = argparse.ArgumentParser(prog="shopfloor")
    commands = parser.add_subparsers()
    outer = commands.add_parser("outer", help="the outer one")
    inner = outer.add_subparsers().add_parser("inner", help="the inner one")
    inner.add_argument("--depth", help="how deep")
    markdown = hooks.cli_reference_markdown(parser)
    assert "## shopfloor outer inner" in markdown
    assert "--depth" in _section(markdown, "## shopfloor outer inner")
    assert hooks.cli_commands(parser) == ["shopfloor outer", "shopfloor outer inner"]


# ----------------------------------------------------------------- env spec sheets


def test_every_registered_env_has_a_spec_sheet_page() -> None:
    pages = hooks.env_family_pages()
    shown = "\n".join(markdown for _, _, markdown in pages)
    registered = [env_id for env_id in gym.registry if env_id.startswith("shopfloor/")]
    assert set(ENV_IDS) <= set(registered)
    for env_id in registered:
        assert f"`{env_id}`" in shown, env_id
    for title, path, markdown in pages:
        assert path.startswith("concepts/env-families/") and path.endswith(".md")
        assert markdown.startswith(f"# {title}\n")
        name = path.rsplit("/", 1)[1].removesuffix(".md")
        assert f"[](){{#spec-sheet-{name}}}" in markdown  # what the API reference links to
        for heading in SPEC_SHEET_SECTIONS:
            assert f"\n{heading}\n" in markdown, f"{title}: no '{heading}' in its spec sheet"


def test_env_family_pages_go_into_the_nav() -> None:
    nav = [{"Concepts": [{"Env families": ["concepts/env-families/index.md"]}]}]
    hooks.on_config({"nav": nav, "mdx_configs": {}})
    entries = nav[0]["Concepts"][0]["Env families"]
    assert entries[0] == "concepts/env-families/index.md"
    titles = [next(iter(entry)) for entry in entries[1:]]
    assert {"JobShop", "DynamicJobShop", "ProductionInventory"} <= set(titles)
    with pytest.raises(ValueError, match="Env families"):
        hooks.on_config({"nav": [{"Home": "index.md"}], "mdx_configs": {}})


# --------------------------------------------------------------------------- READMEs


def test_readme_links_become_site_links_or_paths() -> None:
    text = (
        "See [the scenario files](../envs/README.md#limits), [a module](../src/shopfloor/sim/x.py),"
        " [`src/y.py`](../src/y.py), [docs](https://example.org) and [here](#top).\n"
        "![curve](figures/curve.png)\n"
        "```markdown\n[kept](../envs/README.md)\n```\n"
    )
    markdown, images = hooks.readme_markdown("experiments/README.md", text)
    assert "[the scenario files](reference/scenario-files.md#limits)" in markdown
    assert "a module (`src/shopfloor/sim/x.py`)" in markdown
    assert "`src/y.py`" in markdown and "(../src/y.py)" not in markdown
    assert "[docs](https://example.org)" in markdown and "[here](#top)" in markdown
    assert "![curve](experiments/figures/curve.png)" in markdown
    assert images == ["experiments/figures/curve.png"]
    assert "[kept](../envs/README.md)" in markdown  # fenced code is left alone


def test_readme_pages_exist_for_the_bundled_readmes() -> None:
    pages = {page: markdown for page, markdown, _ in hooks.readme_pages()}
    assert set(pages) == set(hooks.README_PAGES.values())
    results = pages["results.md"]
    assert results.startswith("# Experiments")
    assert "## What the bundled experiments give" in results
    assert "| policy |" in results  # the tables come along
    assert pages["reference/scenario-files.md"].startswith("# Scenario files")


def test_agents_page_without_its_readme_lists_the_hyperparameter_files() -> None:
    markdown = hooks.agents_fallback_markdown()
    for path in (ROOT / "agents").glob("*.yaml"):
        assert f"`agents/{path.name}`" in markdown


def test_readme_section_is_included_whole() -> None:
    text = (
        "# Title\n\n## Quick start (a fresh machine)\n\nRun this:\n\n"
        "```bash\n# a comment, not a heading\nmake\n```\n\nDone.\n\n## Next\n\nNot this.\n"
    )
    section = hooks.readme_section("Quick start", text)
    assert section.startswith("Run this:")
    assert "# a comment, not a heading" in section and section.endswith("Done.\n")
    assert "Not this" not in section
    with pytest.raises(LookupError, match="no section '## Missing'"):
        hooks.readme_section("Missing", text)
    page = hooks.include_readme_sections("Intro\n\n<!-- readme: Quick start -->\n\nOutro\n")
    assert "Intro" in page and "Outro" in page
    assert "<!-- readme:" not in page
    assert ".venv/bin/shopfloor run experiments/quickstart.yaml" in page  # the README's own


def test_latest_env_ids_are_filled_in() -> None:
    text = "`shopfloor/JobShop-v{latest}` and shopfloor/DynamicJobShop-v{latest}"
    filled = hooks.fill_in_env_ids(text)
    assert "{latest}" not in filled
    for env_id in re.findall(r"shopfloor/\w+-v\d+", filled):
        assert env_id in gym.registry
        name, version = env_id.rsplit("-v", 1)
        assert f"{name}-v{int(version) + 1}" not in gym.registry  # the newest
    with pytest.raises(LookupError, match="NoSuchShop"):
        hooks.fill_in_env_ids("shopfloor/NoSuchShop-v{latest}")


def test_api_reference_covers_every_public_package() -> None:
    packages = sorted(
        path.parent.name
        for path in (ROOT / "src" / "shopfloor").glob("*/__init__.py")
        if not path.parent.name.startswith("_") and path.parent.name != "cli"
    )
    assert packages == sorted(API_PACKAGES)
    for package in API_PACKAGES:
        page = DOCS / "reference" / "api" / f"{package}.md"
        assert page.read_text(encoding="utf-8").strip() == f"::: shopfloor.{package}"


def test_spec_sheets_get_a_summary_line_in_the_api_reference() -> None:
    griffe = pytest.importorskip("griffe")
    path = DOCS / "_hooks" / "spec_sheets.py"
    spec = importlib.util.spec_from_file_location("shopfloor_docs_spec_sheets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    extension = module.SpecSheetSummaries()

    sheet = griffe.Class("BatchJobShopVectorEnv", docstring=griffe.Docstring("## Description\n\nx"))
    extension.on_class(cls=sheet)
    first, rest = sheet.docstring.value.split("\n\n", 1)
    assert first.startswith("The `BatchJobShop` env; its spec sheet follows")
    assert "[spec-sheet-BatchJobShopVectorEnv]" in first
    assert rest == "## Description\n\nx"
    plain = griffe.Class("Factory", docstring=griffe.Docstring("A factory.\n\n## Notes"))
    extension.on_class(cls=plain)
    assert plain.docstring.value == "A factory.\n\n## Notes"
    extension.on_class(cls=griffe.Class("Bare"))  # no docstring: nothing to do


def test_sphinx_roles_become_optional_cross_references() -> None:
    html = (
        "<p>:class:<code>~shopfloor.sim.Factory</code>, :meth:<code>Factory.start</code>, "
        ":func:<code>load_instance()</code> and <code>:class:</code></p>"
    )
    out = hooks.replace_roles(html, "reference/api/instances/")
    assert (
        '<autoref identifier="shopfloor.sim.Factory" optional><code>Factory</code></autoref>' in out
    )
    assert 'identifier="shopfloor.instances.Factory.start" optional><code>Factory.start<' in out
    assert 'identifier="shopfloor.instances.load_instance"' in out
    assert ":class:<code>" not in out and "<code>:class:</code>" in out
    assert 'identifier="Factory.start"' in hooks.replace_roles(html, "concepts/factory/")


# ---------------------------------------------------------------- pages and examples


def _nav_pages(items: object) -> list[str]:
    if isinstance(items, str):
        return [items]
    if isinstance(items, list):
        return [page for item in items for page in _nav_pages(item)]
    if isinstance(items, dict):
        return [page for value in items.values() for page in _nav_pages(value)]
    return []


def test_every_written_page_is_in_the_nav() -> None:
    import yaml

    nav_text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = yaml.safe_load(nav_text[nav_text.index("\nnav:") :])["nav"]
    listed = set(_nav_pages(nav))
    written = {
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.md")
        if not path.relative_to(DOCS).as_posix().startswith("_")
    }
    generated = {hooks.CLI_PAGE, *hooks.README_PAGES.values()}
    assert written | generated == listed


def _python_blocks(page: str) -> list[str]:
    text = hooks.fill_in_env_ids((DOCS / page).read_text(encoding="utf-8"))
    return re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


RUNNABLE_PAGES = (
    "getting-started.md",
    "concepts/factory.md",
    "concepts/decision-points.md",
    "concepts/env-families/index.md",
    "tutorials/benchmark-against-cpsat.md",
    "tutorials/model-your-factory.md",
)
"""Pages whose every Python example runs as it stands (the others show fragments, or
train for minutes)."""


def _cell_yaml() -> str:
    text = (DOCS / "tutorials" / "model-your-factory.md").read_text(encoding="utf-8")
    match = re.search(r'```yaml title="machining_cell.yaml"\n(.*?)```', text, re.DOTALL)
    assert match is not None
    return match[1]


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_python_examples_run(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "machining_cell.yaml").write_text(_cell_yaml(), encoding="utf-8")
    blocks = _python_blocks(page)
    assert blocks, page
    for block in blocks:
        exec(compile(block, f"{page} example", "exec"), {"__name__": "__docs__"})
    if page == "tutorials/benchmark-against-cpsat.md":
        assert capsys.readouterr().out.split() == ["61.0", "55"]  # as the page says


def test_tutorial_factory_gives_what_the_tutorial_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shopfloor.policies import simulate
    from shopfloor.scenario import load_scenario

    monkeypatch.chdir(tmp_path)
    (tmp_path / "machining_cell.yaml").write_text(_cell_yaml(), encoding="utf-8")
    kpis = simulate(load_scenario("machining_cell.yaml").factory, "atc", seed=0).kpis()
    assert kpis.jobs_completed == 60
    assert kpis.setups == 22
    assert kpis.mean_weighted_tardiness == pytest.approx(27.6, abs=0.05)

    page = (DOCS / "tutorials" / "model-your-factory.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(error: .*?)\n```", page)
    assert shown is not None
    broken = _cell_yaml().replace(
        "{machine: hob, duration: {kind: triangular, low: 3,",
        "{machine: hobb, duration: {kind: triangular, low: 3,",
    )
    assert broken != _cell_yaml()
    (tmp_path / "machining_cell.yaml").write_text(broken, encoding="utf-8")
    assert shopfloor_main(["simulate", "machining_cell.yaml"]) == 2
    assert capsys.readouterr().err.strip() == shown[1]


def test_every_rule_runs_in_every_mode_it_claims() -> None:
    """The add-a-rule tutorial: a rule with both priorities runs in every decision mode."""
    from shopfloor.instances import load_instance
    from shopfloor.policies import dispatch_in_mode
    from shopfloor.sim import DispatchingRule

    instance = load_instance("ft06")
    queue_rules = {DispatchingRule.ATC, DispatchingRule.ATCJS}
    for rule in DispatchingRule:
        for mode in ("non_delay", "active", "append"):
            if rule in queue_rules and mode != "non_delay":
                with pytest.raises(ValueError, match="non_delay"):
                    dispatch_in_mode(instance, rule, mode)
                continue
            makespan = dispatch_in_mode(instance, rule, mode).kpis().makespan
            assert makespan >= 55, (rule, mode)


# ------------------------------------------------------------------------ the build


@pytest.mark.slow
def test_site_builds_strict_with_no_warnings(tmp_path: Path) -> None:
    """``mkdocs build --strict``: about 20 s on 2 cores, so in the slow suite."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in hooks.cli_commands():
        assert f"usage: {command}" in cli
    for _, path, _ in hooks.env_family_pages():
        assert (site / path.removesuffix(".md") / "index.html").is_file()
    sim = (site / "reference" / "api" / "sim" / "index.html").read_text(encoding="utf-8")
    assert 'id="shopfloor.sim.Factory"' in sim and 'id="shopfloor.sim.FactorySpec"' in sim
    for package in API_PACKAGES:
        page = (site / "reference" / "api" / package / "index.html").read_text(encoding="utf-8")
        assert f'id="shopfloor.{package}"' in page
    envs = (site / "reference" / "api" / "envs" / "index.html").read_text(encoding="utf-8")
    assert "env-families/JobShopEnv/#spec-sheet-JobShopEnv" in envs  # the summary line's link
    results = (site / "results" / "index.html").read_text(encoding="utf-8")
    assert "What the bundled experiments give" in results and "<table>" in results
    start = (site / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert "Set up and run the demo" in start  # the README's quick start, included
    assert ":class:<code>" not in sim

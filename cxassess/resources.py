"""Where the files cxassess reads at run time are: suites, notebooks, page templates.

In a source checkout (the repository, installed editable or not) the data-quality suites
are the top-level ``expectations/*.json`` and the review notebooks the top-level
``notebooks/*.ipynb``: editing them takes effect at once. A built wheel ships copies of
both inside the package (``cxassess/expectations/``, ``cxassess/notebooks/``; see
``[tool.setuptools.package-dir]`` in pyproject.toml), read through
:mod:`importlib.resources`, so ``cxassess validate`` and ``cxassess review`` work from any
folder after ``pip install cxassess[report]``. The page templates live in
``cxassess/templates/`` in both cases.

``$CXASSESS_EXPECTATIONS`` names another folder of suites (tests, a customised gate).
"""

from __future__ import annotations

import atexit
import os
from contextlib import ExitStack
from functools import cache
from importlib import resources
from pathlib import Path

from cxassess.errors import ConfigError

__all__ = [
    "source_root", "suite_folder", "suite_files", "notebook_folder", "notebook_files",
    "template_folder",
]

#: The repository root when this package runs from a source checkout, else None.
_CHECKOUT = Path(__file__).resolve().parents[1]


def source_root() -> Path | None:
    """The repository root when cxassess runs from its source checkout, else ``None``.

    A checkout is recognised by ``pyproject.toml`` beside the package folder; an installed
    wheel lives in ``site-packages``, which has none.

    Returns
    -------
    Path or None
        The folder holding ``pyproject.toml`` and ``cxassess/``.

    Examples
    --------
    >>> root = source_root()
    >>> root is None or (root / "cxassess" / "resources.py").is_file()
    True
    """
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else None


@cache
def _packaged(name: str) -> Path:
    """The folder ``cxassess/<name>`` of the installed package, as a real path.

    A package imported from a zip file is extracted once, for the life of the process.
    """
    folder = resources.files("cxassess").joinpath(name)
    if isinstance(folder, Path):
        return folder
    stack = ExitStack()
    atexit.register(stack.close)
    return Path(stack.enter_context(resources.as_file(folder)))


def _shipped(name: str) -> Path:
    """The top-level ``<name>/`` of the checkout, else the copy shipped in the package."""
    root = source_root()
    if root is not None and (root / name).is_dir():
        return root / name
    return _packaged(name)


def suite_folder() -> Path:
    """The folder of the data-quality suites, one ``<table>.json`` per table.

    ``$CXASSESS_EXPECTATIONS`` when set; else ``expectations/`` of the source checkout;
    else the copy shipped in the installed package.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    ConfigError
        The folder does not exist (a wrong ``$CXASSESS_EXPECTATIONS``, a broken install).

    Examples
    --------
    >>> (suite_folder() / "tickets.json").is_file()
    True
    """
    chosen = os.environ.get("CXASSESS_EXPECTATIONS")
    folder = Path(chosen) if chosen else _shipped("expectations")
    if not folder.is_dir():
        fix = ("point CXASSESS_EXPECTATIONS to a folder of suites (<table>.json), or unset it"
               if chosen else "reinstall cxassess (pip install --force-reinstall 'cxassess[report]')")
        raise ConfigError(f"the data-quality suites are not found in {folder}", path=folder, fix=fix)
    return folder


def suite_files() -> list[Path]:
    """The suites, ``<table>.json``, in name order.

    Returns
    -------
    list of Path
        One file per table.

    Examples
    --------
    >>> [p.stem for p in suite_files()][:3]
    ['actions', 'audits', 'customers']
    """
    return sorted(suite_folder().glob("*.json"))


def notebook_folder() -> Path:
    """The folder of the review notebooks that ``cxassess review`` runs by default.

    ``notebooks/`` of the source checkout; else the copy shipped in the installed package.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> (notebook_folder() / "05_cycle_overview.ipynb").is_file()
    True
    """
    return _shipped("notebooks")


def notebook_files(folder: Path | str | None = None) -> list[Path]:
    """The review notebooks of ``folder`` (default :func:`notebook_folder`), in name order.

    Hidden files (``.name.ipynb``, JupyterLab's checkpoints) are left out.

    Parameters
    ----------
    folder : Path or str, optional
        A folder of notebooks; default :func:`notebook_folder`.

    Returns
    -------
    list of Path
        The notebooks, in the order the review runs them.

    Examples
    --------
    >>> [p.name for p in notebook_files()][:2]
    ['00_data_quality.ipynb', '01_summary.ipynb']
    """
    folder = Path(folder) if folder is not None else notebook_folder()
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def template_folder(kind: str | None = None) -> Path:
    """The folder of the templates shipped in the package, or its sub-folder ``kind``.

    ``kind`` is one of ``nbconvert`` (the HTML page), ``report`` (the index page),
    ``review`` (review.yml templates) and ``sample`` (the sample's README).

    Parameters
    ----------
    kind : str, optional
        The sub-folder; default the folder of all templates.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> sorted(p.name for p in template_folder("review").glob("*.yml"))
    ['ecommerce.yml', 'support.yml']
    """
    folder = _packaged("templates")
    return folder / kind if kind else folder

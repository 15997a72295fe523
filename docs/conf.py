"""Sphinx configuration for the lowrank documentation.

Build (warnings are errors; the gallery is rendered but not executed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Set ``LOWRANK_DOCS_RUN_GALLERY=1`` to execute the gallery examples and embed their
figures (each example runs one reproduced figure at ``small`` scale).
"""

import os
import sys
from pathlib import Path

# Figures are drawn off-screen, whether or not the gallery runs.
os.environ.setdefault("MPLBACKEND", "Agg")
import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
# The package is normally installed (editable); fall back to the checkout.
sys.path.insert(0, str(HERE.parent))

import lowrank

# -- Project -----------------------------------------------------------------------------
project = "lowrank"
author = "lowrank developers"
copyright = "2026, lowrank developers"
release = lowrank.__version__
version = ".".join(release.split(".")[:2])

# -- Extensions --------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# No intersphinx: the docs build offline (CI reaches only PyPI).

templates_path = ["_templates"]
# gallery/ holds the example sources; sphinx-gallery renders them into auto_examples/.
exclude_patterns = ["_build", "gallery", "gallery/**", "generated/*.examples",
                    "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary ---------------------------------------------------------------
autosummary_generate = True  # stub pages go to docs/generated/ (git-ignored)
autosummary_imported_members = False
autosummary_ignore_module_all = False  # module pages list exactly `__all__`
autodoc_typehints = "none"  # the numpydoc Parameters/Returns sections carry the types
autodoc_member_order = "bysource"
add_module_names = False

# -- numpydoc ----------------------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Validation is a review aid, not a build gate: no checks run during the build.
numpydoc_validation_checks = set()

# -- sphinx-gallery ----------------------------------------------------------------------
plot_gallery = os.environ.get("LOWRANK_DOCS_RUN_GALLERY", "0") == "1"

sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    # Every script in the gallery is an example to run when the gallery is executed.
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"(__init__|_helpers?)\.py$",
    "plot_gallery": plot_gallery,
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": None,
    "show_memory": False,
    "default_thumb_file": None,
}

# -- HTML --------------------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:
    html_theme = "alabaster"
    html_theme_options = {}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
        "secondary_sidebar_items": ["page-toc"],
    }
html_title = f"lowrank {release}"
html_static_path = []
html_show_sourcelink = False

# Only genuinely external names that numpydoc/autodoc may emit as cross-references
# (the build is not nitpicky, so this list is a safety net).
nitpick_ignore = [
    ("py:class", "numpy.ndarray"),
    ("py:class", "ndarray"),
    ("py:class", "numpy.random.Generator"),
    ("py:class", "numpy.random.SeedSequence"),
    ("py:class", "numpy.random.BitGenerator"),
    ("py:class", "matplotlib.figure.Figure"),
]

"""The example documentation site: derivations rendered by the symderiv.sphinx directive.

Build it with ``python -m sphinx -W -b html docs docs/_build/html``. Math renders offline:
MathJax comes from the sphinx-mathjax-offline package and is copied into the site.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # a source checkout works too

project = "symderiv"
author = "the symderiv authors"
copyright = "symderiv authors"
extensions = ["myst_parser", "symderiv.sphinx", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README_SECTION.md"]
html_theme = "alabaster"
html_theme_options = {"description": "Step-by-step gradients of neural-network building blocks"}
html_title = "symderiv"

# SPDX-License-Identifier: MIT
"""Version of the Python package (it follows the library's)."""

__version__ = "0.3.0"

"""A stage module that exists but cannot be imported (a missing dependency)."""

import a_package_that_is_not_installed  # noqa: F401 - the point of this module

run = None

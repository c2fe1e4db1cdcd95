"""The software version sysinv reports (StarlingX's ``sw_version``)."""

from importlib.metadata import PackageNotFoundError, version

try:
    SOFTWARE_VERSION = version("sysinv")
except PackageNotFoundError:  # running from a source tree that was never installed
    SOFTWARE_VERSION = "0.0.0"

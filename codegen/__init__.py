"""gapi-codegen: typed Python clients generated from Google API Discovery documents."""

__version__ = "0.1.0"

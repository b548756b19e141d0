"""villagescore: half-year evaluation of village Party secretaries from spreadsheets."""

__version__ = "0.1.0"
TEMPLATE_VERSION = "1"

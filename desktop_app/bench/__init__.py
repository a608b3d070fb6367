"""Every benchmark (``glassbox bench …``). Only the command line imports this package."""

"""audiorouter: learn when and which audio tools a frozen audio reasoner should get."""

__version__ = "0.1.0"

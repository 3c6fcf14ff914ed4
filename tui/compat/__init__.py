"""Other libraries' private internals, each read in one small module with a version check and a
public fallback (:mod:`.textual`), so an upgrade changes behaviour in one place."""

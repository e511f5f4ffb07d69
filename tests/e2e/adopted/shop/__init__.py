"""A project brought to this environment: its own declarative Base in its own
package, its own constraint names (tests/e2e/test_adopt.py adopts it)."""

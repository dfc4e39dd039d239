"""End-to-end tests with a real Bazel (a package, so its conftest cannot shadow tests/conftest)."""

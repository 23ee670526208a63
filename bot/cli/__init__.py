"""The `batch-review` command line: one module per subcommand."""

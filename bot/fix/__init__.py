"""The ready change: each flagged synchronous loop rewritten onto `run_batch` (pure, libcst).

`find` locates the loop a flagged call runs in and decides whether it can move safely;
`rewrite` edits the syntax tree (every other line stays byte for byte); `snippet` writes the
filled-in example shown instead of a patch; `patch` puts them together for one file.
"""

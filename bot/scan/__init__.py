"""The diff scanner (stdlib only): calls to Claude and the signs of bulk work.

Python is read by its syntax tree (`python`); JavaScript and TypeScript, and Python that does not
parse, by a text scan that blanks comments and strings first (`text`). Only changed lines count
as evidence (`diff`), but the loop or job around a call comes from the whole file (`scanner`).
"""
